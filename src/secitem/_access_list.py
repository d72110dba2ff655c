"""``trusted_applications`` / ``any_application``: an item's access list (macOS).

What Apple's ``security add-generic-password -T path`` / ``-A`` do
(SecurityTool ``keychain_add.c``, ``access_utils.c`` ``create_access``; facts
sheet 2.2), for :meth:`secitem.Keychain.add`, :meth:`~secitem.Keychain.upsert`,
:class:`secitem.CredentialStore` and the CLI:

* ``trusted_applications=[path, ...]``: ``SecTrustedApplicationCreateFromPath``
  for each path, ``SecAccessCreate(label, list)``; only those programs read
  without a dialog (the creating program is *not* added, as with ``-T``);
  an empty list trusts nobody (``-T ""``).
* ``any_application=True``: the decrypt entry in the allow-all form
  (``SecACLSetContents(acl, NULL, ...)``): any program reads without the
  access dialog.  It beats ``trusted_applications``, as ``-A`` beats ``-T``.
  Since macOS 10.12 the partition list still asks programs outside it
  (docs/real-macs.md).

Only on the file-based keychain: the data-protection keychain and iOS have no
access lists (access groups do that job), so these options are refused there.
An access list is given when an item is created, never when it is updated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from secitem import _secaccess
from secitem import constants as C
from secitem._cfobjects import ACL, Access, CFObject, KeychainItemRef
from secitem.errors import InvalidQueryError, KeychainError, QueryTypeError

__all__ = [
    "AccessOptions",
    "attached",
    "options",
    "partition_ids",
    "read_partition_list",
    "write_partition_list",
]


class AccessOptions:
    """Validated ``trusted_applications`` / ``any_application`` (``None``: the default)."""

    __slots__ = ("any_application", "trusted_applications")

    def __init__(self, trusted_applications: tuple[str, ...] | None, any_application: bool) -> None:
        self.trusted_applications = trusted_applications
        self.any_application = any_application

    @property
    def given(self) -> bool:
        return self.any_application or self.trusted_applications is not None


def options(
    trusted_applications: Sequence[str] | None, any_application: bool, where: str
) -> AccessOptions:
    """Check the two options (types, paths) before any native call."""
    if not isinstance(any_application, bool):
        raise QueryTypeError(
            f"{where}(any_application=...)", f"expected bool, got {type(any_application).__name__}"
        )
    if trusted_applications is None:
        return AccessOptions(None, any_application)
    if isinstance(trusted_applications, (str, bytes)) or not isinstance(
        trusted_applications, Sequence
    ):
        raise QueryTypeError(
            f"{where}(trusted_applications=...)",
            f"expected a sequence of paths (e.g. ['/usr/bin/python3']), "
            f"got {type(trusted_applications).__name__}",
        )
    paths: list[str] = []
    for i, path in enumerate(trusted_applications):
        if not isinstance(path, str):
            raise QueryTypeError(
                f"{where}(trusted_applications[{i}])",
                f"expected a path (str), got {type(path).__name__}",
            )
        if not path or "\0" in path:
            raise InvalidQueryError(
                f"{where}(trusted_applications[{i}])",
                "an application path must be non-empty and contain no NUL character "
                "(to trust no application at all, pass an empty list)",
            )
        paths.append(path)
    return AccessOptions(tuple(paths), any_application)


def refuse_data_protection(
    opts: AccessOptions, attrs: Mapping[str, object], data_protection: bool, where: str
) -> None:
    """Refuse the options where the item would go to the data-protection keychain."""
    if not opts.given:
        return
    name = "any_application" if opts.any_application else "trusted_applications"
    goes_dp = (
        data_protection
        or bool(attrs.get(C.kSecUseDataProtectionKeychain))
        or bool(attrs.get(C.kSecAttrSynchronizable) is True)
        or C.kSecAttrAccessControl in attrs
    )
    if goes_dp:
        raise InvalidQueryError(
            f"{where}({name}=...)",
            "access lists exist only in the macOS file-based keychain; this item goes to the "
            "data-protection keychain (data_protection=True, iOS, synchronizable or "
            "access_control), where an access group decides which apps may read it: "
            "use access_group=... there, or drop this option",
        )


def _descriptor(attrs: Mapping[str, object]) -> str:
    # KA: the access descriptor is the label, else the service / server, else the account.
    for key in (C.kSecAttrLabel, C.kSecAttrService, C.kSecAttrServer, C.kSecAttrAccount):
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


@contextlib.contextmanager
def attached(attrs: dict[str, object], opts: AccessOptions) -> Iterator[None]:
    """Put the SecAccess of ``opts`` in ``attrs`` (kSecAttrAccess) for one SecItemAdd."""
    if not opts.given:
        yield
        return
    owned: list[CFObject] = []
    try:
        apps = []
        for i, path in enumerate(opts.trusted_applications or ()):
            try:
                app = _secaccess.SecTrustedApplicationCreateFromPath(path)
            except KeychainError as exc:
                raise InvalidQueryError(
                    f"trusted_applications[{i}]",
                    f"{path!r} cannot be resolved as an application (status {exc.status}); "
                    "pass the path of an existing program, e.g. sys.executable",
                ) from None
            owned.append(app)
            apps.append(app)
        access = _secaccess.SecAccessCreate(_descriptor(attrs), apps)
        owned.append(access)
        if opts.any_application:
            # access_utils.c: the first decrypt entry becomes allow-all (NULL
            # list), REQUIRE_PASSPHRASE cleared; -A wins over -T.
            acls = _secaccess.SecAccessCopyMatchingACLList(
                access, _secaccess.kSecACLAuthorizationDecrypt
            )
            owned.extend(acls)
            if acls:
                app_list, desc, selector = _secaccess.SecACLCopyContents(acls[0])
                owned.extend(app_list or ())
                _secaccess.SecACLSetContents(acls[0], None, desc, selector & ~0x0001)
        attrs[C.kSecAttrAccess] = access
        yield
    finally:
        attrs.pop(C.kSecAttrAccess, None)
        for obj in owned:
            obj.close()


# -- partition lists ----------------------------------------------------------------
#
# What `security set-generic-password-partition-list -S LIST` does for each item
# (SecurityTool keychain_find.c keychain_set_partition_list; facts 2.4): copy the
# item's access, give every partition-ID entry the new list (lowercase hex of an
# XML plist), and store the access with the keychain's password (no dialog).


def partition_ids(partitions: Sequence[str], where: str) -> list[str]:
    """Check a partition list (``["apple-tool:", "teamid:ABCDE12345"]``) before any call."""
    if isinstance(partitions, (str, bytes)) or not isinstance(partitions, Sequence):
        raise QueryTypeError(
            f"{where}(partitions=...)",
            "expected a sequence of partition IDs (e.g. ['apple-tool:', 'teamid:ABCDE12345']), "
            f"got {type(partitions).__name__}",
        )
    parts: list[str] = []
    for i, part in enumerate(partitions):
        if not isinstance(part, str):
            raise QueryTypeError(
                f"{where}(partitions[{i}])", f"expected a str, got {type(part).__name__}"
            )
        kind, colon, _rest = part.partition(":")
        if not colon or not kind or "," in part or not part.isprintable():
            raise InvalidQueryError(
                f"{where}(partitions[{i}])",
                "a partition ID is KIND:VALUE with no comma, e.g. apple-tool:, apple:, "
                "unsigned:, teamid:ABCDE12345 or cdhash:<40 hex digits>",
            )
        parts.append(part)
    if not parts:
        raise InvalidQueryError(
            f"{where}(partitions=...)",
            "an empty partition list would make every program ask; name at least one "
            "partition ID (e.g. teamid:ABCDE12345)",
        )
    return parts


def _partition_entries(access: Access) -> list[ACL]:
    return _secaccess.SecAccessCopyMatchingACLList(
        access, _secaccess.kSecACLAuthorizationPartitionID
    )


def read_partition_list(item_ref: KeychainItemRef) -> list[str]:
    """The partition IDs of one file-based item (its first partition-ID entry)."""
    with _secaccess.SecKeychainItemCopyAccess(item_ref) as access:
        acls = _partition_entries(access)
        try:
            if not acls:
                return []
            apps, desc, _selector = _secaccess.SecACLCopyContents(acls[0])
            for app in apps or ():
                app.close()
            return _secaccess.partition_list_from_description(desc)
        finally:
            for acl in acls:
                acl.close()


def write_partition_list(item_ref: KeychainItemRef, parts: Sequence[str], password: bytes) -> None:
    """Replace one item's partition list, authorized by the keychain password."""
    description = _secaccess.partition_list_to_description(parts)
    with _secaccess.SecKeychainItemCopyAccess(item_ref) as access:
        acls = _partition_entries(access)
        try:
            for acl in acls:
                apps, _old, selector = _secaccess.SecACLCopyContents(acl)
                for app in apps or ():
                    app.close()
                _secaccess.SecACLSetContents(acl, None, description, selector)
            _secaccess.SecKeychainItemSetAccessWithPassword(item_ref, access, password)
        finally:
            for acl in acls:
                acl.close()
