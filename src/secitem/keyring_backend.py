"""A `keyring <https://pypi.org/project/keyring/>`_ backend on the secitem Keychain.

Install with ``pip install "secitem[keyring]"``.  keyring finds
:class:`SecitemKeyring` through the ``keyring.backends`` entry point; select
it explicitly with ``PYTHON_KEYRING_BACKEND=secitem.keyring_backend.SecitemKeyring``
or ``default-keyring`` in ``keyringrc.cfg`` (see ``docs/keyring.md``).

Passwords are generic passwords (``kSecClassGenericPassword``) keyed by
``kSecAttrService`` (keyring's *service*) and ``kSecAttrAccount`` (keyring's
*username*), exactly as keyring's own macOS backend stores them, so the
items it wrote are found and updated.  Secrets are stored as UTF-8 bytes.

What it adds over keyring's macOS backend: every CoreFoundation object is
released; ``set_password`` updates the stored item in place (it never
deletes and re-adds it, so the item keeps its accessibility, access group
and the trusted-application list set in Keychain Access); ``get_credential``
works without a username; and four settings choose where and how new items
are stored:

====================  =============================================================
``data_protection``   ``true``: only the data-protection keychain (needs a signed
                      process with a keychain access group); ``false``/unset: Apple's
                      default (macOS: new items in the login keychain)
``access_group``      the keychain access group of new items, and the only group
                      searched (data-protection keychain only)
``accessible``        when new items can be read, e.g. ``after_first_unlock`` or
                      ``kSecAttrAccessibleWhenUnlockedThisDeviceOnly``
``synchronizable``    ``true``: items are shared through iCloud Keychain
====================  =============================================================

Each setting is taken from the first of these that sets it:

1. a property of the backend instance: a constructor argument
   (``SecitemKeyring(accessible="when_unlocked")``),
   ``backend.with_properties(...)``, or keyring's ``KEYRING_PROPERTY_<NAME>``
   environment variable (``KEYRING_PROPERTY_ACCESS_GROUP``);
2. the environment variable ``SECITEM_KEYRING_<NAME>``
   (``SECITEM_KEYRING_DATA_PROTECTION``, ``SECITEM_KEYRING_ACCESS_GROUP``,
   ``SECITEM_KEYRING_ACCESSIBLE``, ``SECITEM_KEYRING_SYNCHRONIZABLE``);
3. the ``[secitem]`` section of keyring's ``keyringrc.cfg`` (keys
   ``data-protection``, ``access-group``, ``accessible``, ``synchronizable``).

keyring itself reads only ``[backend]`` from that file; the ``[secitem]``
section is read by this backend.  Environment variables and the file are read
when the backend is created.  Settings are checked on first use (so a typo
never breaks keyring's discovery of the other backends) and a bad one raises
:class:`keyring.errors.InitError` naming the setting and where it came from;
constructor arguments are checked at once.

Errors are keyring's own types: :class:`~keyring.errors.PasswordSetError`,
:class:`~keyring.errors.PasswordDeleteError` (also when there is nothing to
delete), :class:`~keyring.errors.KeyringError` when reading fails,
:class:`~keyring.errors.KeyringLocked` (combined with the operation's type)
when the keychain is locked or the user cancelled, and
:class:`~keyring.errors.InitError` for bad settings or a missing Security
library.  Each message carries secitem's hint, and the
:class:`secitem.KeychainError` (with ``.status`` and ``.hint``) is the
exception's ``__cause__``.  No message ever contains a secret.

Importing :mod:`secitem` never imports keyring; only this module does.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, NoReturn

from keyring import credentials
from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import (
    InitError,
    KeyringError,
    KeyringLocked,
    PasswordDeleteError,
    PasswordSetError,
)
from keyring.util import platform_

from secitem import _check
from secitem.constants import kSecAttrAccount
from secitem.errors import (
    InteractionNotAllowedError,
    ItemNotFoundError,
    KeychainError,
    KeychainUnavailableError,
    QueryTypeError,
    SecitemError,
    UserCanceledError,
)
from secitem.items import (
    Accessible,
    GenericPassword,
    InvalidQueryError,
    Synchronizable,
)
from secitem.keychain import Keychain, Platform, current_platform

__all__ = [
    "DeleteLockedError",
    "KeyringSettings",
    "SecitemKeyring",
    "SetLockedError",
]

#: Priority on macOS / iOS with Apple's Security framework: above keyring's own
#: macOS backend (5), below keyring's chainer (10), which then tries this
#: backend first.
PRIORITY_APPLE: Final = 9
#: Priority under ``SECITEM_LIBRARY`` (the emulator, or another library with
#: the same C ABI): viable, but below 1 ("not recommended"), so that in a
#: shell that exported SECITEM_LIBRARY for the tests a real backend (Secret
#: Service: 5) still wins over the emulator.  Select it explicitly
#: (PYTHON_KEYRING_BACKEND).
PRIORITY_LIBRARY: Final = 0.5

#: The settings, by attribute name.
SETTINGS: Final = ("data_protection", "access_group", "accessible", "synchronizable")
_ENV_PREFIX: Final = "SECITEM_KEYRING_"
_CONFIG_SECTION: Final = "secitem"

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_UNSET: Final = frozenset({"", "auto", "default", "none"})


class SetLockedError(KeyringLocked, PasswordSetError, SecitemError):
    """``set_password`` failed because the keychain is locked or the user cancelled.

    Both a :class:`~keyring.errors.KeyringLocked` (what keyring's macOS
    backend raises) and a :class:`~keyring.errors.PasswordSetError`.
    """


class DeleteLockedError(KeyringLocked, PasswordDeleteError, SecitemError):
    """``delete_password`` failed because the keychain is locked or the user cancelled."""


@dataclass(frozen=True, slots=True)
class KeyringSettings:
    """The backend's resolved settings (``None``: not set, Apple's default)."""

    data_protection: bool | None = None
    access_group: str | None = None
    accessible: Accessible | None = None
    synchronizable: bool | None = None


class SecitemKeyring(KeyringBackend):
    """macOS / iOS Keychain through secitem (generic passwords).

    ``SecitemKeyring(*, data_protection=None, access_group=None,
    accessible=None, synchronizable=None, platform=None)``: the four settings
    as in the module documentation (``None`` leaves a setting to the
    environment and the configuration file); ``platform`` (``"macos"`` or
    ``"ios"``) is passed to :class:`~secitem.keychain.Keychain` and is only
    useful against the emulator.  keyring itself constructs the backend with
    no arguments.
    """

    # Class defaults; instance values come from the constructor,
    # with_properties() and KEYRING_PROPERTY_* (set_properties_from_env).
    data_protection: bool | str | None = None
    access_group: str | None = None
    accessible: Accessible | str | None = None
    synchronizable: bool | str | None = None
    platform: Platform | None = None

    def __init__(
        self,
        *,
        data_protection: bool | str | None = None,
        access_group: str | None = None,
        accessible: Accessible | str | None = None,
        synchronizable: bool | str | None = None,
        platform: Platform | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # KEYRING_PROPERTY_* variables
        given = {
            "data_protection": data_protection,
            "access_group": access_group,
            "accessible": accessible,
            "synchronizable": synchronizable,
        }
        for name, value in given.items():
            if value is not None:
                setattr(self, name, value)
        if platform is not None:
            if platform not in ("macos", "ios"):
                raise InitError(
                    f"SecitemKeyring(platform=...): {platform!r} is not 'macos' or 'ios'"
                )
            self.platform = platform
        self._environ = {
            name: os.environ[_ENV_PREFIX + name.upper()]
            for name in SETTINGS
            if _ENV_PREFIX + name.upper() in os.environ
        }
        self._config_path = _config_file()
        self._config, self._config_error = _read_config(self._config_path)
        if any(value is not None for value in given.values()):
            _ = self.settings  # constructor arguments are checked at once

    # -- keyring's class properties ------------------------------------------

    @properties.classproperty
    def priority(cls) -> float:
        """9 with Apple's Security framework, 0.5 under ``SECITEM_LIBRARY``.

        Raises :class:`RuntimeError` ("not viable") elsewhere, or when the
        library cannot be loaded, as keyring expects.
        """
        custom = bool(os.environ.get("SECITEM_LIBRARY"))
        if not custom and sys.platform not in ("darwin", "ios"):
            raise RuntimeError(
                "not viable: secitem needs macOS or iOS, or SECITEM_LIBRARY naming a "
                "library with the Security framework's C ABI (such as the secitem emulator)"
            )
        from secitem import _runtime  # cffi is loaded only when asked

        try:
            _runtime.load()
        except KeychainUnavailableError as exc:
            raise RuntimeError(f"not viable: {exc}") from exc
        return PRIORITY_LIBRARY if custom else PRIORITY_APPLE

    # -- settings ------------------------------------------------------------

    @property
    def settings(self) -> KeyringSettings:
        """The settings in effect, validated.

        Raises :class:`keyring.errors.InitError` naming the bad setting.
        """
        values: dict[str, object] = {}
        sources: dict[str, str] = {}
        for name in SETTINGS:
            raw, sources[name] = self._raw_setting(name)
            values[name] = _PARSERS[name](raw, sources[name])
        settings = KeyringSettings(**values)  # type: ignore[arg-type]
        self._check_combination(settings, sources)
        return settings

    def _raw_setting(self, name: str) -> tuple[object, str]:
        value = vars(self).get(name)
        if value is not None:
            return value, (
                f"the backend property {name} (constructor argument, with_properties() "
                f"or KEYRING_PROPERTY_{name.upper()})"
            )
        if name in self._environ:
            return self._environ[name], f"the environment variable {_ENV_PREFIX}{name.upper()}"
        if self._config_error is not None:
            raise InitError(self._config_error)
        key = name.replace("_", "-")
        if key in self._config:
            return self._config[key], f"{self._config_path} [{_CONFIG_SECTION}] {key}"
        return None, name

    def _check_combination(self, settings: KeyringSettings, sources: Mapping[str, str]) -> None:
        platform = self._platform()
        if platform == "ios" and settings.data_protection is False:
            raise InitError(
                f"{sources['data_protection']}: iOS has only the data-protection keychain; "
                "leave data_protection unset or set it to true"
            )
        if platform == "macos" and not settings.data_protection and not settings.synchronizable:
            for name, what in (("access_group", "access groups"), ("accessible", "accessibility")):
                if getattr(settings, name) is not None:
                    raise InitError(
                        f"{sources[name]}: items in the macOS login (file-based) keychain have "
                        f"no {what}; also set data_protection (or synchronizable) to true to use "
                        "the data-protection keychain, which needs a process signed with a "
                        "keychain-access-groups entitlement"
                    )
        if (
            settings.synchronizable
            and settings.accessible is not None
            and settings.accessible.this_device_only
        ):
            raise InitError(
                f"{sources['accessible']}: {settings.accessible.name.lower()} keeps items on "
                "this device, so it cannot be combined with synchronizable=true; use the value "
                "without _this_device_only"
            )

    def _platform(self) -> Platform:
        if self.platform is not None:
            return self.platform
        return current_platform()

    def _keychain(self, settings: KeyringSettings) -> Keychain:
        return Keychain(data_protection=settings.data_protection, platform=self._platform())

    @staticmethod
    def _item(service: str, username: str | None, settings: KeyringSettings) -> GenericPassword:
        """The item for ``service``/``username``, as stored and as matched."""
        return GenericPassword(
            service=service,
            account=username,
            access_group=settings.access_group,
            synchronizable=settings.synchronizable,
        )

    # -- keyring API ---------------------------------------------------------

    def get_password(self, service: str, username: str) -> str | None:
        """The password stored for ``username`` at ``service``, or ``None``."""
        action = f"cannot read the password of {_who(service, username)} from the keychain"
        with _translated(action, KeyringError, KeyringLocked):
            username = _check_names(service, username)
            settings = self.settings
            try:
                item = self._keychain(settings).get(self._item(service, username, settings))
            except ItemNotFoundError:
                return None
            return _text(item.data, action)

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store ``password``, updating the stored item in place if there is one.

        Every item :meth:`get_password` could return gets the new password
        (with ``access_group`` unset, that is the item in whichever of the
        process's groups holds it), so a later ``get_password`` always
        returns it.  An existing item keeps its accessibility, access group,
        label and access list, unless the ``accessible`` setting asks for
        another accessibility.  Only when there is no item is one added
        (race-safe: if another process adds it meanwhile, that one is
        updated).  Never delete-then-add.
        """
        action = f"cannot store the password of {_who(service, username)} in the keychain"
        if not isinstance(password, str):
            raise PasswordSetError(f"{action}: expected str, got {type(password).__name__}")
        try:
            secret: bytes | None = str.encode(password, "utf-8")
        except UnicodeEncodeError:
            secret = None  # raised below, outside the handler: no __context__ holds it
        if secret is None:
            raise PasswordSetError(
                f"{action}: the password is not valid Unicode text (it contains a lone "
                "surrogate); nothing was stored"
            )
        with _translated(action, PasswordSetError, SetLockedError):
            username = _check_names(service, username)
            settings = self.settings
            keychain = self._keychain(settings)
            query = self._item(service, username, settings)
            try:
                if settings.accessible is None:
                    keychain.update(query, data=secret)
                else:
                    keychain.update(query, data=secret, accessible=settings.accessible)
                return
            except ItemNotFoundError:
                pass
            new = GenericPassword(
                service=service,
                account=username,
                access_group=settings.access_group,
                synchronizable=settings.synchronizable,
                accessible=settings.accessible,
            )
            keychain.upsert(new, secret)

    def delete_password(self, service: str, username: str) -> None:
        """Delete the stored password; :class:`PasswordDeleteError` if there is none."""
        action = f"cannot delete the password of {_who(service, username)} from the keychain"
        with _translated(action, PasswordDeleteError, DeleteLockedError):
            username = _check_names(service, username)
            settings = self.settings
            if not self._keychain(settings).delete(
                self._item(service, username, settings), missing_ok=True
            ):
                raise PasswordDeleteError(f"{action}: no such password in the keychain")

    def get_credential(
        self, service: str, username: str | None = None
    ) -> credentials.Credential | None:
        """The username and password for ``service``, or ``None``.

        Without ``username``, the first item of the service that the keychain
        returns (which one is the keychain's choice when there are several).
        """
        if username is not None:
            password = self.get_password(service, username)
            if password is None:
                return None
            return credentials.SimpleCredential(username, password)
        action = f"cannot read a credential of service {service!r} from the keychain"
        with _translated(action, KeyringError, KeyringLocked):
            _check_names(service, None)
            settings = self.settings
            try:
                item = self._keychain(settings).get(self._item(service, None, settings))
            except ItemNotFoundError:
                return None
            account = item.attributes.account
            if account is None and kSecAttrAccount in item.raw:
                raise KeyringError(f"{action}: the stored account name is not UTF-8 text")
            return credentials.SimpleCredential(account or "", _text(item.data, action))


# -- helpers -----------------------------------------------------------------


def _who(service: object, username: object) -> str:
    return f"account {username if username is not None else ''!r} of service {service!r}"


def _check_names(service: object, username: object) -> str:
    """Check keyring's ``service`` and ``username``; the username (``""`` for None).

    A missing service is refused: the query would have no ``kSecAttrService``
    and so match (update, delete) the items of *every* service.
    """
    _check.text(
        service,
        "service",
        type_hint=" (without a service the query would match the items of every service)",
    )
    if username is None:
        return ""  # as keyring's macOS backend does
    return _check.text(username, "username", expected="str or None")


def _text(data: bytes | None, action: str) -> str:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Outside the handler: the UnicodeDecodeError holds the stored secret
    # (.object) and must not stay reachable as __context__.
    raise KeyringError(
        f"{action}: the stored secret is not UTF-8 text (another application stored "
        "binary data); read it with secitem.keychain.Keychain().get(...).data"
    )


def _message(action: str, exc: KeychainError) -> str:
    text = f"{action}: {exc}"
    if exc.hint:
        text += f" Hint: {exc.hint}"
    return text


@contextmanager
def _translated(
    action: str, error: type[KeyringError], locked: type[KeyringError]
) -> Iterator[None]:
    """Turn secitem's exceptions into keyring's, keeping the cause and hint."""
    try:
        yield
    except KeyringError:
        raise
    except KeychainUnavailableError as exc:
        raise InitError(f"{action}: {exc}") from exc
    except (UserCanceledError, InteractionNotAllowedError) as exc:
        raise locked(_message(action, exc)) from exc
    except KeychainError as exc:
        raise error(_message(action, exc)) from exc
    except QueryTypeError:
        raise  # a programming error (a non-str service, ...): keep the TypeError
    except InvalidQueryError as exc:
        raise error(f"{action}: {exc}") from exc


def _config_file() -> str:
    return str(platform_.config_root() / "keyringrc.cfg")


def _read_config(path: str) -> tuple[Mapping[str, str], str | None]:
    """The ``[secitem]`` section of keyringrc.cfg at ``path``, or the error reading it."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        return {}, f"cannot read {path}: {exc}"
    if not parser.has_section(_CONFIG_SECTION):
        return {}, None
    section = {key.replace("_", "-"): value for key, value in parser.items(_CONFIG_SECTION)}
    unknown = sorted(set(section) - {name.replace("_", "-") for name in SETTINGS})
    if unknown:
        known = ", ".join(name.replace("_", "-") for name in SETTINGS)
        return {}, f"{path} [{_CONFIG_SECTION}]: unknown setting {unknown[0]!r}; use {known}"
    return section, None


def _invalid(source: str, value: object, expected: str) -> NoReturn:
    raise InitError(f"{source}: {value!r} is not valid; {expected}")


def _parse_bool(value: object, source: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value is Synchronizable.YES or value is Synchronizable.NO:
        return bool(value.value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        if word in _UNSET:
            return None
    _invalid(source, value, "use true or false (also yes/no, on/off, 1/0)")


def _parse_group(value: object, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        _invalid(source, value, "use the access group as text, e.g. TEAMID.com.example.shared")
    group = value.strip()
    if not group or "\x00" in group or "," in group:
        _invalid(source, value, "use one access group, e.g. TEAMID.com.example.shared (no commas)")
    return group


def _squash(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


_ACCESSIBLE_BY_NAME: Final = {_squash(member.name): member for member in Accessible}


def _parse_accessible(value: object, source: str) -> Accessible | None:
    if value is None or isinstance(value, Accessible):
        return value
    if isinstance(value, str):
        word = _squash(value.strip())
        word = word.removeprefix("ksecattraccessible")
        if word in _UNSET:
            return None
        member = _ACCESSIBLE_BY_NAME.get(word)
        if member is not None:
            return member
    names = ", ".join(member.name.lower() for member in Accessible)
    _invalid(
        source,
        value,
        f"use one of {names} (or Apple's name, such as kSecAttrAccessibleWhenUnlocked)",
    )


_PARSERS: Final = {
    "data_protection": _parse_bool,
    "access_group": _parse_group,
    "accessible": _parse_accessible,
    "synchronizable": _parse_bool,
}
