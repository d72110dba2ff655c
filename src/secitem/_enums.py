"""The typed layer's enums: ``kSec*`` values as Apple's constant string values.

Imported (and re-exported) by :mod:`secitem.items`, where users find them
(``secitem.items.Accessible``, ``secitem.Accessible``).  Pure Python: the
values are the constants' string values, so no native library is needed.
"""

from __future__ import annotations

import enum

__all__ = [
    "PRF",
    "AccessControlFlags",
    "Accessible",
    "AuthenticationType",
    "InternetProtocol",
    "ItemClass",
    "KeyClass",
    "KeyType",
    "Protocol",
    "Synchronizable",
]


class ItemClass(enum.StrEnum):
    """``kSecClass`` values."""

    GENERIC_PASSWORD = "genp"
    INTERNET_PASSWORD = "inet"
    CERTIFICATE = "cert"
    KEY = "keys"
    IDENTITY = "idnt"


class Accessible(enum.StrEnum):
    """``kSecAttrAccessible`` values: when the item's data can be read.

    The ``..._THIS_DEVICE_ONLY`` values never leave the device (not in
    backups restored elsewhere, not in iCloud Keychain), so they cannot be
    combined with ``synchronizable=True``.  ``ALWAYS`` and
    ``ALWAYS_THIS_DEVICE_ONLY`` are deprecated by Apple (macOS 10.14, iOS 12).
    """

    WHEN_UNLOCKED = "ak"
    AFTER_FIRST_UNLOCK = "ck"
    ALWAYS = "dk"
    WHEN_PASSCODE_SET_THIS_DEVICE_ONLY = "akpu"
    WHEN_UNLOCKED_THIS_DEVICE_ONLY = "aku"
    AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY = "cku"
    ALWAYS_THIS_DEVICE_ONLY = "dku"

    @property
    def this_device_only(self) -> bool:
        """True for the values that forbid synchronization and migration."""
        return self.value.endswith("u")


class InternetProtocol(enum.StrEnum):
    """``kSecAttrProtocol`` values (internet passwords).

    (Also importable as ``Protocol``, its name before 0.2, kept for one
    release; ``from secitem import *`` no longer shadows ``typing.Protocol``.)

    Note the trailing spaces of the three-letter codes (``"ftp "``), as Apple
    defines them.
    """

    FTP = "ftp "
    FTP_ACCOUNT = "ftpa"
    HTTP = "http"
    IRC = "irc "
    NNTP = "nntp"
    POP3 = "pop3"
    SMTP = "smtp"
    SOCKS = "sox "
    IMAP = "imap"
    LDAP = "ldap"
    APPLE_TALK = "atlk"
    AFP = "afp "
    TELNET = "teln"
    SSH = "ssh "
    FTPS = "ftps"
    HTTPS = "htps"
    HTTP_PROXY = "htpx"
    HTTPS_PROXY = "htsx"
    FTP_PROXY = "ftpx"
    SMB = "smb "
    RTSP = "rtsp"
    RTSP_PROXY = "rtsx"
    DAAP = "daap"
    EPPC = "eppc"
    IPP = "ipp "
    NNTPS = "ntps"
    LDAPS = "ldps"
    TELNETS = "tels"
    IMAPS = "imps"
    IRCS = "ircs"
    POP3S = "pops"


#: The former name of :class:`InternetProtocol` (kept for one release).
Protocol = InternetProtocol


class AuthenticationType(enum.StrEnum):
    """``kSecAttrAuthenticationType`` values (internet passwords)."""

    NTLM = "ntlm"
    MSN = "msna"
    DPA = "dpaa"
    RPA = "rpaa"
    HTTP_BASIC = "http"
    HTTP_DIGEST = "httd"
    HTML_FORM = "form"
    DEFAULT = "dflt"


class Synchronizable(enum.Enum):
    """``kSecAttrSynchronizable``: is the item shared through iCloud Keychain?

    ``YES`` and ``NO`` are what an item is; ``ANY`` exists only in queries
    and matches both kinds.  Leaving the field at ``None`` is Apple's
    default: an added item is not synchronizable, and a query matches only
    items that are not synchronizable.  A synchronizable and a
    non-synchronizable item with the same account and service are two
    different items.
    """

    YES = True
    NO = False
    ANY = "syna"


class KeyClass(enum.StrEnum):
    """``kSecAttrKeyClass`` values."""

    PUBLIC = "0"
    PRIVATE = "1"
    SYMMETRIC = "2"


class KeyType(enum.StrEnum):
    """``kSecAttrKeyType`` values (``EC`` is ``ECSECPrimeRandom``, "73")."""

    RSA = "42"
    DSA = "43"
    AES = "2147483649"
    DES = "14"
    TRIPLE_DES = "17"
    RC4 = "25"
    RC2 = "23"
    CAST = "56"
    EC = "73"
    EC_SEC_PRIME_RANDOM = "73"
    ECDSA = "73"


class PRF(enum.StrEnum):
    """``kSecAttrPRF`` values (macOS file-based keychain keys only)."""

    HMAC_SHA1 = "hsha1"
    HMAC_SHA224 = "hsha224"
    HMAC_SHA256 = "hsha256"
    HMAC_SHA384 = "hsha384"
    HMAC_SHA512 = "hsha512"


class AccessControlFlags(enum.IntFlag):
    """``SecAccessControlCreateFlags``: what the user must do to use the item.

    ``0`` means no constraint.  Apple refuses some combinations, and so does
    :class:`AccessPolicy` (before any native call): ``OR`` with ``AND``;
    ``BIOMETRY_ANY`` with ``BIOMETRY_CURRENT_SET``; ``USER_PRESENCE`` with
    anything but ``PRIVATE_KEY_USAGE`` / ``APPLICATION_PASSWORD``.
    """

    USER_PRESENCE = 1 << 0
    BIOMETRY_ANY = 1 << 1
    TOUCH_ID_ANY = 1 << 1  # deprecated alias of BIOMETRY_ANY
    BIOMETRY_CURRENT_SET = 1 << 3
    TOUCH_ID_CURRENT_SET = 1 << 3  # deprecated alias of BIOMETRY_CURRENT_SET
    DEVICE_PASSCODE = 1 << 4
    COMPANION = 1 << 5
    WATCH = 1 << 5  # deprecated alias of COMPANION
    OR = 1 << 14
    AND = 1 << 15
    PRIVATE_KEY_USAGE = 1 << 30
    APPLICATION_PASSWORD = 1 << 31
