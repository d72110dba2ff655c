# ruff: noqa: RUF009  (_attr is a dataclasses.field wrapper; its calls are the field specs)
"""Typed keychain items: enums, item descriptions, results and query building.

This module is pure Python.  It turns typed, validated descriptions of
keychain items into the plain dictionaries that Apple's SecItem functions
take (keyed by the ``kSec*`` constants of :mod:`secitem.constants`), and turns
the dictionaries they return into typed :class:`Item` results.  It loads no
native library, so it imports, type-checks and tests on any OS; only
:class:`secitem.keychain.Keychain` calls into :mod:`secitem.security`.

The five item classes:

================================  ========================================
:class:`GenericPassword`          add, get, find, update, delete, upsert
:class:`InternetPassword`         add, get, find, update, delete, upsert
:class:`Certificate`              find, get (attributes), delete
:class:`Key`                      find, get (attributes), delete
:class:`Identity`                 find, get (attributes), delete
================================  ========================================

Every field defaults to ``None``, which means "not specified": the key is
left out of the dictionary.  A description is both what :meth:`Keychain.add`
stores and what the other methods match: each field that is set becomes a
match term (exact, case-sensitive equality, as the keychain compares).

Validation happens when a description is created, before anything reaches
native code: wrong types raise :class:`QueryTypeError` (a ``TypeError``), bad
values and conflicting fields raise :class:`InvalidQueryError` (a
``ValueError``); both name the field and say how to fix it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Final, Generic, TypeAlias, TypeVar

from secitem import _check
from secitem import constants as _constants
from secitem._enums import (
    PRF,
    AccessControlFlags,
    Accessible,
    AuthenticationType,
    InternetProtocol,
    ItemClass,
    KeyClass,
    KeyType,
    Synchronizable,
)
from secitem._enums import Protocol as Protocol  # the former name of InternetProtocol
from secitem._plain import PLAIN_TYPES as _PLAIN_TYPES
from secitem.errors import (
    DataNotFetchedError,
    InvalidQueryError,
    PasswordNotTextError,
    QueryTypeError,
)

__all__ = [
    "PRF",
    "AccessControlFlags",
    "AccessPolicy",
    "Accessible",
    "AuthenticationType",
    "Certificate",
    "GenericPassword",
    "Identity",
    "InternetPassword",
    "InternetProtocol",
    "InvalidQueryError",
    "Item",
    "ItemClass",
    "ItemDescription",
    "Key",
    "KeyClass",
    "KeyType",
    "PersistentRef",
    "QueryTypeError",
    "Synchronizable",
    "fourcc",
]


def _k(name: str) -> str:
    """The :class:`~secitem.constants.SecConstant` called ``name``."""
    value: str = getattr(_constants, name)
    return value


# The constants used on every call, looked up once.
_kSecClass: Final = _k("kSecClass")
_kSecAttrAccessible: Final = _k("kSecAttrAccessible")
_kSecAttrAccessGroup: Final = _k("kSecAttrAccessGroup")
_kSecAttrCreationDate: Final = _k("kSecAttrCreationDate")
_kSecAttrModificationDate: Final = _k("kSecAttrModificationDate")
_kSecValueData: Final = _k("kSecValueData")
_kSecValuePersistentRef: Final = _k("kSecValuePersistentRef")
_kSecValueRef: Final = _k("kSecValueRef")


def fourcc(code: str) -> int:
    """The integer of a four-character code (``fourcc("aapl") == 0x6161706C``).

    Use it for the ``creator`` and ``type_code`` fields, which Apple stores
    as 32-bit FourCharCodes.
    """
    try:
        raw = str.encode(code, "mac_roman") if isinstance(code, str) else b""
    except UnicodeEncodeError:  # outside Mac OS Roman (an emoji, a lone surrogate)
        raw = b""
    if len(raw) != 4:
        raise InvalidQueryError(
            "fourcc",
            f"{code!r} is not a four-character code (four Mac OS Roman characters, "
            "e.g. 'aapl', or an int)",
        )
    return int.from_bytes(raw, "big")


# --------------------------------------------------------------------------
# Access control and persistent references
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """An access control: when the item is available, and what unlocks it.

    ``protection`` is the item's accessibility (it replaces ``accessible``,
    which must then stay ``None``); ``flags`` say what the user must do (for
    example ``AccessControlFlags.BIOMETRY_ANY``).  :class:`Keychain` turns it
    into a ``SecAccessControl`` object (``SecAccessControlCreateWithFlags``)
    for the call and releases it afterwards.  An item with an access control
    lives in the data-protection keychain and cannot be synchronizable.
    """

    flags: AccessControlFlags
    protection: Accessible = Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY

    def __post_init__(self) -> None:
        flags, protection = _check_policy(
            self.flags, self.protection, "AccessPolicy.flags", "AccessPolicy.protection"
        )
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "protection", protection)

    @classmethod
    def _named(
        cls, flags: object, protection: object, flags_field: str, protection_field: str
    ) -> AccessPolicy:
        """``AccessPolicy(flags, protection)``, its errors naming the caller's arguments."""
        policy = object.__new__(cls)
        flags, protection = _check_policy(flags, protection, flags_field, protection_field)
        object.__setattr__(policy, "flags", flags)
        object.__setattr__(policy, "protection", protection)
        return policy


def _check_policy(
    flags: object, protection: object, flags_field: str, protection_field: str
) -> tuple[AccessControlFlags, Accessible]:
    """The normal form of an access policy's two values, or the error naming the field."""
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise QueryTypeError(
            flags_field, f"expected AccessControlFlags, got {type(flags).__name__}"
        )
    if flags < 0 or flags >= 1 << 32:
        raise InvalidQueryError(flags_field, f"{int(flags):#x} is not a flag set")
    f = AccessControlFlags(flags)
    checked = _to_enum(Accessible, protection, protection_field)
    if AccessControlFlags.OR in f and AccessControlFlags.AND in f:
        raise InvalidQueryError(flags_field, "OR and AND cannot be combined; choose one")
    both = AccessControlFlags.BIOMETRY_ANY | AccessControlFlags.BIOMETRY_CURRENT_SET
    if f & both == both:
        raise InvalidQueryError(
            flags_field, "BIOMETRY_ANY and BIOMETRY_CURRENT_SET cannot be combined; choose one"
        )
    allowed_with_presence = (
        AccessControlFlags.USER_PRESENCE
        | AccessControlFlags.PRIVATE_KEY_USAGE
        | AccessControlFlags.APPLICATION_PASSWORD
    )
    if AccessControlFlags.USER_PRESENCE in f and f & ~allowed_with_presence:
        raise InvalidQueryError(
            flags_field,
            "USER_PRESENCE already means biometry or passcode; combine it only with "
            "PRIVATE_KEY_USAGE or APPLICATION_PASSWORD",
        )
    return f, checked


@dataclass(frozen=True, slots=True)
class PersistentRef:
    """A persistent reference to one keychain item (``kSecValuePersistentRef``).

    Opaque bytes that stay valid across launches.  Pass it (or an
    :class:`Item` that carries one) to :meth:`Keychain.get`, ``find``,
    ``update`` or ``delete`` to address exactly that item.  ``item_class``
    is remembered when known so results can be typed.  ``bytes(ref)`` gives
    the raw value to store elsewhere; ``PersistentRef(raw)`` restores it.
    """

    value: bytes
    item_class: ItemClass | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.value, (bytes, bytearray, memoryview)):
            raise QueryTypeError(
                "PersistentRef.value", f"expected bytes, got {type(self.value).__name__}"
            )
        # Through the buffer: a subclass's __bytes__ must not name another item.
        object.__setattr__(self, "value", memoryview(self.value).tobytes())
        if self.item_class is not None:
            object.__setattr__(
                self,
                "item_class",
                _to_enum(ItemClass, self.item_class, "PersistentRef.item_class"),
            )
        elif len(self.value) >= 4:
            # The data-protection keychain's format starts with the class name.
            try:
                guess = ItemClass(self.value[:4].decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                guess = None
            object.__setattr__(self, "item_class", guess)

    @classmethod
    def _make(cls, value: bytes, item_class: ItemClass | None) -> PersistentRef:
        """Build from values already in normal form (no checks when they are)."""
        if type(value) is not bytes or type(item_class) is not ItemClass:
            return cls(value, item_class)
        ref = object.__new__(cls)
        object.__setattr__(ref, "value", value)
        object.__setattr__(ref, "item_class", item_class)
        return ref

    def __bytes__(self) -> bytes:
        return self.value

    def __repr__(self) -> str:
        kind = f"{self.item_class.name.lower()}, " if self.item_class else ""
        return f"PersistentRef(<{kind}{len(self.value)} bytes>)"

    def to_query(self) -> dict[str, object]:
        """The query matching exactly this item: only the persistent ref.

        Apple's data-protection keychain rejects a persistent ref combined
        with other attributes in ``SecItemDelete``, so nothing else is added.
        """
        return {_kSecValuePersistentRef: self.value}


# --------------------------------------------------------------------------
# Field kinds: validation (Python side) and conversion of returned values
# --------------------------------------------------------------------------

_E = TypeVar("_E", bound=enum.Enum)


def _to_enum(cls: type[_E], value: object, where: str) -> _E:
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        pass
    if isinstance(value, str) and value.upper() in cls.__members__:
        return cls.__members__[value.upper()]
    if isinstance(value, str):
        names = ", ".join(f"{cls.__name__}.{m}" for m in cls.__members__)
        raise InvalidQueryError(
            where, f"{value!r} is not a valid {cls.__name__} value; use one of {names}"
        )
    raise QueryTypeError(where, f"expected {cls.__name__}, got {type(value).__name__}")


class _Kind(enum.Enum):
    STR = "str"
    BYTES = "bytes"
    BOOL = "bool"
    FOURCC = "fourcc"  # 32-bit unsigned, or a four-character string
    PORT = "port"
    UINT = "uint"
    ENUM = "enum"
    SYNC = "sync"
    POLICY = "policy"


# One small handler per field kind: ``check`` (validate, errors name ``where``,
# return the normal form), ``to_cf`` (the value as it goes into a SecItem
# dictionary) and ``from_cf`` (a returned value in the field's Python type, or
# None if unusable).  ``enum_type`` is the field's enum (ENUM fields only).


def _check_str(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    return _check.text(value, where)


def _check_bytes(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        hint = "; encode text first, e.g. value.encode()" if isinstance(value, str) else ""
        raise QueryTypeError(where, f"expected bytes, got {type(value).__name__}{hint}")
    # Through the buffer: never a subclass's __bytes__ or __len__.
    return value if type(value) is bytes else memoryview(value).tobytes()


def _check_bool(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    if not isinstance(value, bool):
        raise QueryTypeError(where, f"expected bool, got {type(value).__name__}")
    return value


def _check_fourcc(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    if isinstance(value, str):
        try:
            return fourcc(value)
        except InvalidQueryError:
            raise InvalidQueryError(
                where,
                f"{value!r} is not a four-character code (four Mac OS Roman "
                "characters, e.g. 'aapl', or an int)",
            ) from None
    return _check_int(where, value, 0, 0xFFFFFFFF)


def _check_port(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    return _check_int(where, value, 0, 65535)


def _check_uint(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    return _check_int(where, value, 0, 2**63 - 1)


def _check_enum(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    assert enum_type is not None
    return _to_enum(enum_type, value, where)


def _check_sync(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    if isinstance(value, bool):
        return Synchronizable(value)
    return _to_enum(Synchronizable, value, where)


def _check_policy_field(enum_type: type[enum.Enum] | None, where: str, value: object) -> object:
    if not isinstance(value, AccessPolicy):
        hint = "; wrap flags as AccessPolicy(flags, protection)" if isinstance(value, int) else ""
        raise QueryTypeError(where, f"expected AccessPolicy, got {type(value).__name__}{hint}")
    return value


def _to_cf_any(value: object) -> object:
    if isinstance(value, Synchronizable):
        return value.value
    if isinstance(value, enum.Enum):
        return _k_value(value)
    return value


def _from_cf_str(enum_type: type[enum.Enum] | None, value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _from_cf_bytes(enum_type: type[enum.Enum] | None, value: object) -> object:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return None


def _from_cf_bool(enum_type: type[enum.Enum] | None, value: object) -> object:
    if isinstance(value, (bool, int)):
        return bool(value)
    return None


def _from_cf_int(enum_type: type[enum.Enum] | None, value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _from_cf_enum(enum_type: type[enum.Enum] | None, value: object) -> object:
    assert enum_type is not None
    if isinstance(value, int) and not isinstance(value, bool):
        # The data-protection keychain stores numeric strings ("0",
        # "42") as numbers; a 0 there means "not set" (protocol).
        value = str(value)
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        return enum_type(value)
    except ValueError:
        return None


def _from_cf_sync(enum_type: type[enum.Enum] | None, value: object) -> object:
    if isinstance(value, (bool, int)):
        return Synchronizable(bool(value))
    return None


def _from_cf_none(enum_type: type[enum.Enum] | None, value: object) -> object:
    return None  # an access control cannot be read back as a policy


# (as strings: nothing to build at import time)
_Check: TypeAlias = "Callable[[type[enum.Enum] | None, str, object], object]"
_ToCF: TypeAlias = "Callable[[object], object]"
_FromCF: TypeAlias = "Callable[[type[enum.Enum] | None, object], object]"

#: ``_Kind`` -> (check, to_cf, from_cf).
_HANDLERS: Final[dict[_Kind, tuple[_Check, _ToCF, _FromCF]]] = {
    _Kind.STR: (_check_str, _to_cf_any, _from_cf_str),
    _Kind.BYTES: (_check_bytes, _to_cf_any, _from_cf_bytes),
    _Kind.BOOL: (_check_bool, _to_cf_any, _from_cf_bool),
    _Kind.FOURCC: (_check_fourcc, _to_cf_any, _from_cf_int),
    _Kind.PORT: (_check_port, _to_cf_any, _from_cf_int),
    _Kind.UINT: (_check_uint, _to_cf_any, _from_cf_int),
    _Kind.ENUM: (_check_enum, _to_cf_any, _from_cf_enum),
    _Kind.SYNC: (_check_sync, _to_cf_any, _from_cf_sync),
    _Kind.POLICY: (_check_policy_field, _to_cf_any, _from_cf_none),
}


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one description field maps to a kSec attribute (handlers: :data:`_HANDLERS`)."""

    name: str
    key: str
    kind: _Kind
    enum: type[enum.Enum] | None
    identity: bool
    default: object  # value Apple fills in for a missing identity attribute

    def check(self, where: str, value: object) -> object:
        """Validate ``value`` (errors name ``where``) and return its normal form (never None)."""
        return _HANDLERS[self.kind][0](self.enum, where, value)

    def to_cf(self, value: object) -> object:
        """The value as it goes into a SecItem dictionary."""
        return _HANDLERS[self.kind][1](value)

    def from_cf(self, value: object) -> object:
        """A returned value in this field's Python type, or None if unusable."""
        return _HANDLERS[self.kind][2](self.enum, value)


def _k_value(member: enum.Enum) -> object:
    value = member.value
    return str(value) if isinstance(value, str) else value


def _identity_bytes(value: object) -> object:
    """A value as the unique index compares it (text as UTF-8, absent as empty)."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


def _check_int(where: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryTypeError(where, f"expected int, got {type(value).__name__}")
    number = int.__int__(value)  # a plain copy: a subclass's comparisons may lie
    if not low <= number <= high:
        raise InvalidQueryError(where, f"{number} is out of range {low}..{high}")
    return number


_FIELD_SPEC: Final = "secitem.spec"


def _attr(
    key: str,
    kind: _Kind,
    *,
    enum_type: type[enum.Enum] | None = None,
    identity: bool = False,
    default: object = None,
) -> Any:
    """A description field: ``None`` by default, mapped to attribute ``key``."""
    meta = {
        _FIELD_SPEC: (_k(key), kind, enum_type, identity, default),
    }
    return dataclasses.field(default=None, metadata=meta)


# --------------------------------------------------------------------------
# Item descriptions
# --------------------------------------------------------------------------


_D = TypeVar("_D", bound="ItemDescription")


@dataclass(frozen=True, slots=True)
class ItemDescription:
    """Base of the five item descriptions (not used directly)."""

    item_class: ClassVar[ItemClass]
    #: Whether :meth:`Keychain.add` / ``update`` / ``upsert`` support the class.
    writable: ClassVar[bool] = False
    #: False where the shared field groups' primary-key marks do not apply (Identity).
    _group_identity: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._validate(_check.attribute(type(self).__name__))

    def _validate(self, name: _check.Naming) -> None:
        """Check and normalize every set field; errors name the field with ``name``."""
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            if value is not None:
                object.__setattr__(self, spec.name, spec.check(name(spec.name), value))
        _check_combinations(self, name)

    @classmethod
    def _named(cls: type[_D], name: _check.Naming, /, **fields: Any) -> _D:
        """``cls(**fields)``, its errors naming each field with ``name``.

        For callers whose arguments become fields: ``CredentialStore(port=70000)``
        fails as ``CredentialStore(port=...)``, not ``InternetPassword.port``.
        """
        obj = object.__new__(cls)
        for field_name in cls.field_names():
            object.__setattr__(obj, field_name, fields.pop(field_name, None))
        if fields:
            raise TypeError(f"{cls.__name__} has no field {next(iter(fields))!r}")
        obj._validate(name)
        return obj

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.fields().items())
        return f"{type(self).__name__}({inner})"

    # -- dictionaries -------------------------------------------------------

    def fields(self) -> dict[str, object]:
        """The fields that are set, by Python name (a shallow copy)."""
        return {
            s.name: getattr(self, s.name)
            for s in _specs(type(self))
            if getattr(self, s.name) is not None
        }

    def to_query(self) -> dict[str, object]:
        """The SecItem match dictionary: ``kSecClass`` plus every set field.

        An ``access_control`` matches on its protection (the item's
        accessibility), since access controls themselves cannot be compared.
        """
        query: dict[str, object] = {_kSecClass: _k_value(self.item_class)}
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if isinstance(value, AccessPolicy):
                query[_kSecAttrAccessible] = _k_value(value.protection)
                continue
            query[spec.key] = spec.to_cf(value)
        return query

    def to_attributes(self) -> dict[str, object]:
        """The SecItemAdd dictionary (without the secret).

        ``kSecAttrAccessControl`` maps to the :class:`AccessPolicy` itself:
        the keychain replaces it with a ``SecAccessControl`` object for the
        call.  Raises :class:`InvalidQueryError` for values that only make
        sense in queries (``Synchronizable.ANY``) and for classes that
        cannot be added through the typed layer.
        """
        owner = type(self).__name__
        if not self.writable:
            raise InvalidQueryError(
                owner,
                f"adding a {self.item_class.name.lower()} needs its SecKey/SecCertificate object "
                "(kSecValueRef); use secitem.security.SecItemAdd for that",
            )
        attrs: dict[str, object] = {_kSecClass: _k_value(self.item_class)}
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if value is Synchronizable.ANY:
                raise InvalidQueryError(
                    f"{owner}.{spec.name}",
                    "Synchronizable.ANY only makes sense in queries; "
                    "an item is either synchronizable (YES) or not (NO)",
                )
            attrs[spec.key] = value if isinstance(value, AccessPolicy) else spec.to_cf(value)
        return attrs

    def identity_query(self, *, fill_defaults: bool = True) -> dict[str, object]:
        """The query for the item(s) this description would collide with.

        Only the attributes that make an item unique (facts 5.4): the
        class's primary-key attributes, plus the access group and
        ``synchronizable`` when set.  Label, accessibility, comment and the
        like are left out, so a changed label still finds the stored item.
        With ``fill_defaults`` the missing primary-key attributes are given
        the values ``SecItemAdd`` stores for them in the data-protection
        keychain (``""``, ``0``); otherwise they are left out (then use
        :meth:`has_identity_of` to filter the results).
        """
        query: dict[str, object] = {_kSecClass: _k_value(self.item_class)}
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            if spec.identity:
                if value is not None:
                    query[spec.key] = spec.to_cf(value)
                elif fill_defaults and spec.default is not None:
                    query[spec.key] = spec.default
            elif spec.kind is _Kind.SYNC and value is Synchronizable.YES:
                query[spec.key] = True
            elif spec.key == _kSecAttrAccessGroup and value is not None:
                query[spec.key] = value
        return query

    def has_identity_of(self, attributes: Mapping[str, object]) -> bool:
        """Whether a returned attribute dictionary has this item's identity.

        Compares the primary-key attributes the way the keychain's unique
        index does: a missing value equals Apple's default (``""`` / 0),
        and text equals its UTF-8 bytes.
        """
        for spec in _specs(type(self)):
            if not spec.identity:
                continue
            value = getattr(self, spec.name)
            want = spec.to_cf(value) if value is not None else spec.default
            got = attributes.get(spec.key, spec.default)
            if _identity_bytes(want) != _identity_bytes(got):
                return False
        return True

    def to_changes(self) -> dict[str, object]:
        """This description as ``attributesToUpdate``: every set field.

        ``kSecClass`` is not included (it cannot change, and Apple answers
        errSecNoSuchAttr to it).
        """
        attrs = self.to_attributes() if self.writable else self.to_query()
        attrs.pop(_kSecClass, None)
        return attrs

    def non_identity_changes(self) -> dict[str, object]:
        """The set fields that are not part of the item's identity (for upsert)."""
        attrs = self.to_changes()
        for key in self.identity_query():
            attrs.pop(key, None)
        return attrs

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of every field, in order."""
        return tuple(s.name for s in _specs(cls))

    @classmethod
    def from_attributes(cls: type[_D], attributes: Mapping[str, object]) -> _D:
        """A description rebuilt from a returned attribute dictionary.

        Values are converted to the field types; values that cannot be
        (for example an account stored as non-UTF-8 data by another app) are
        left at ``None`` and remain visible in :attr:`Item.raw`.
        """
        obj = object.__new__(cls)
        get = attributes.get
        for spec in _specs(cls):
            value = get(spec.key)
            if value is not None:
                kind = spec.kind
                if kind is _Kind.POLICY:
                    value = None
                elif kind is not _Kind.STR or type(value) is not str:
                    value = spec.from_cf(value)
            object.__setattr__(obj, spec.name, value)
        return obj


def _specs(cls: type[ItemDescription]) -> tuple[_Spec, ...]:
    cached = _SPEC_CACHE.get(cls)
    if cached is None:
        specs = []
        group_identity = cls._group_identity
        for f in dataclasses.fields(cls):
            key, kind, enum_type, identity, default = f.metadata[_FIELD_SPEC]
            identity = identity and group_identity
            specs.append(_Spec(f.name, key, kind, enum_type, identity, default))
        cached = _SPEC_CACHE[cls] = tuple(specs)
    return cached


_SPEC_CACHE: dict[type[ItemDescription], tuple[_Spec, ...]] = {}


def _check_combinations(item: ItemDescription, name: _check.Naming) -> None:
    accessible = getattr(item, "accessible", None)
    policy = getattr(item, "access_control", None)
    sync = getattr(item, "synchronizable", None)
    if accessible is not None and policy is not None:
        raise InvalidQueryError(
            name("accessible"),
            "conflicts with access_control, which carries its own accessibility; "
            f"use access_control=AccessPolicy(..., protection=Accessible.{accessible.name}) "
            "and leave accessible unset",
        )
    if sync is Synchronizable.YES:
        if policy is not None:
            raise InvalidQueryError(
                name("synchronizable"),
                "an item with an access control cannot be synchronizable "
                "(Apple: errSecParam); drop one of access_control or synchronizable",
            )
        if accessible is not None and accessible.this_device_only:
            raise InvalidQueryError(
                name("synchronizable"),
                f"Accessible.{accessible.name} keeps the item on this device, so it cannot "
                "be synchronizable; use the value without THIS_DEVICE_ONLY",
            )


_STR, _BYTES, _BOOL = _Kind.STR, _Kind.BYTES, _Kind.BOOL


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class GenericPassword(ItemDescription):
    """A generic password (``kSecClassGenericPassword``): a secret for a service.

    Its identity is ``service`` + ``account`` (plus access group and
    ``synchronizable``): adding a second item that differs only in label,
    comment or accessibility fails with ``DuplicateItemError`` — use
    :meth:`Keychain.upsert`.

    ``creator`` and ``type_code`` are FourCharCodes (an int, or a
    four-character string such as ``"aapl"``).
    """

    item_class: ClassVar[ItemClass] = ItemClass.GENERIC_PASSWORD
    writable: ClassVar[bool] = True

    service: str | None = _attr("kSecAttrService", _STR, identity=True, default="")
    account: str | None = _attr("kSecAttrAccount", _STR, identity=True, default="")
    access_group: str | None = _attr("kSecAttrAccessGroup", _STR)
    synchronizable: Synchronizable | bool | None = _attr("kSecAttrSynchronizable", _Kind.SYNC)
    label: str | None = _attr("kSecAttrLabel", _STR)
    description: str | None = _attr("kSecAttrDescription", _STR)
    comment: str | None = _attr("kSecAttrComment", _STR)
    generic: bytes | None = _attr("kSecAttrGeneric", _BYTES)
    creator: int | None = _attr("kSecAttrCreator", _Kind.FOURCC)
    type_code: int | None = _attr("kSecAttrType", _Kind.FOURCC)
    is_invisible: bool | None = _attr("kSecAttrIsInvisible", _BOOL)
    is_negative: bool | None = _attr("kSecAttrIsNegative", _BOOL)
    accessible: Accessible | None = _attr("kSecAttrAccessible", _Kind.ENUM, enum_type=Accessible)
    access_control: AccessPolicy | None = _attr("kSecAttrAccessControl", _Kind.POLICY)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InternetPassword(ItemDescription):
    """An internet password (``kSecClassInternetPassword``): a secret for a server.

    Its identity is ``server`` + ``account`` + ``security_domain`` +
    ``protocol`` + ``authentication_type`` + ``port`` + ``path`` (plus
    access group and ``synchronizable``).  ``port`` is 0..65535.
    """

    item_class: ClassVar[ItemClass] = ItemClass.INTERNET_PASSWORD
    writable: ClassVar[bool] = True

    server: str | None = _attr("kSecAttrServer", _STR, identity=True, default="")
    account: str | None = _attr("kSecAttrAccount", _STR, identity=True, default="")
    security_domain: str | None = _attr("kSecAttrSecurityDomain", _STR, identity=True, default="")
    protocol: InternetProtocol | None = _attr(
        "kSecAttrProtocol", _Kind.ENUM, enum_type=InternetProtocol, identity=True, default=0
    )
    authentication_type: AuthenticationType | None = _attr(
        "kSecAttrAuthenticationType",
        _Kind.ENUM,
        enum_type=AuthenticationType,
        identity=True,
        default="",
    )
    port: int | None = _attr("kSecAttrPort", _Kind.PORT, identity=True, default=0)
    path: str | None = _attr("kSecAttrPath", _STR, identity=True, default="")
    access_group: str | None = _attr("kSecAttrAccessGroup", _STR)
    synchronizable: Synchronizable | bool | None = _attr("kSecAttrSynchronizable", _Kind.SYNC)
    label: str | None = _attr("kSecAttrLabel", _STR)
    description: str | None = _attr("kSecAttrDescription", _STR)
    comment: str | None = _attr("kSecAttrComment", _STR)
    creator: int | None = _attr("kSecAttrCreator", _Kind.FOURCC)
    type_code: int | None = _attr("kSecAttrType", _Kind.FOURCC)
    is_invisible: bool | None = _attr("kSecAttrIsInvisible", _BOOL)
    is_negative: bool | None = _attr("kSecAttrIsNegative", _BOOL)
    accessible: Accessible | None = _attr("kSecAttrAccessible", _Kind.ENUM, enum_type=Accessible)
    access_control: AccessPolicy | None = _attr("kSecAttrAccessControl", _Kind.POLICY)


# The field groups that Certificate, Key and Identity share ("this class shares
# attributes of both", Apple says of identities).  Each group is a fieldless
# base (``__slots__ = ()``); the slots are made by the concrete class.  Field
# order is the bases' in reverse MRO order, then the class's own.  A group's
# ``identity=True`` marks hold for Certificate and Key; Identity has no
# primary-key attributes of its own (``_group_identity = False``).


@dataclass(frozen=True, init=False, repr=False, eq=False, match_args=False, kw_only=True)
class _CertificateFields(ItemDescription):
    """The certificate attributes (Certificate, Identity)."""

    __slots__ = ()

    certificate_type: int | None = _attr("kSecAttrCertificateType", _Kind.UINT, identity=True)
    issuer: bytes | None = _attr("kSecAttrIssuer", _BYTES, identity=True)
    serial_number: bytes | None = _attr("kSecAttrSerialNumber", _BYTES, identity=True)
    certificate_encoding: int | None = _attr("kSecAttrCertificateEncoding", _Kind.UINT)
    subject: bytes | None = _attr("kSecAttrSubject", _BYTES)
    subject_key_id: bytes | None = _attr("kSecAttrSubjectKeyID", _BYTES)
    public_key_hash: bytes | None = _attr("kSecAttrPublicKeyHash", _BYTES)


@dataclass(frozen=True, init=False, repr=False, eq=False, match_args=False, kw_only=True)
class _KeyFields(ItemDescription):
    """The key attributes, label and usage flags (Key, Identity)."""

    __slots__ = ()

    key_class: KeyClass | None = _attr(
        "kSecAttrKeyClass", _Kind.ENUM, enum_type=KeyClass, identity=True
    )
    application_label: bytes | None = _attr("kSecAttrApplicationLabel", _BYTES, identity=True)
    application_tag: bytes | None = _attr("kSecAttrApplicationTag", _BYTES, identity=True)
    key_type: KeyType | None = _attr(
        "kSecAttrKeyType", _Kind.ENUM, enum_type=KeyType, identity=True
    )
    key_size_in_bits: int | None = _attr("kSecAttrKeySizeInBits", _Kind.UINT, identity=True)
    effective_key_size: int | None = _attr("kSecAttrEffectiveKeySize", _Kind.UINT, identity=True)
    label: str | None = _attr("kSecAttrLabel", _STR)
    is_permanent: bool | None = _attr("kSecAttrIsPermanent", _BOOL)
    is_sensitive: bool | None = _attr("kSecAttrIsSensitive", _BOOL)
    is_extractable: bool | None = _attr("kSecAttrIsExtractable", _BOOL)
    can_encrypt: bool | None = _attr("kSecAttrCanEncrypt", _BOOL)
    can_decrypt: bool | None = _attr("kSecAttrCanDecrypt", _BOOL)
    can_derive: bool | None = _attr("kSecAttrCanDerive", _BOOL)
    can_sign: bool | None = _attr("kSecAttrCanSign", _BOOL)
    can_verify: bool | None = _attr("kSecAttrCanVerify", _BOOL)
    can_wrap: bool | None = _attr("kSecAttrCanWrap", _BOOL)
    can_unwrap: bool | None = _attr("kSecAttrCanUnwrap", _BOOL)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Certificate(_CertificateFields):
    """A certificate (``kSecClassCertificate``): search, read, delete.

    Its identity is ``certificate_type`` + ``issuer`` + ``serial_number``.
    ``subject``, ``issuer``, ``serial_number``, ``subject_key_id`` and
    ``public_key_hash`` are DER / raw bytes.  ``accessible`` and
    ``access_group`` apply on iOS (and the macOS data-protection keychain).
    """

    item_class: ClassVar[ItemClass] = ItemClass.CERTIFICATE

    label: str | None = _attr("kSecAttrLabel", _STR)
    access_group: str | None = _attr("kSecAttrAccessGroup", _STR)
    synchronizable: Synchronizable | bool | None = _attr("kSecAttrSynchronizable", _Kind.SYNC)
    accessible: Accessible | None = _attr("kSecAttrAccessible", _Kind.ENUM, enum_type=Accessible)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Key(_KeyFields):
    """A cryptographic key (``kSecClassKey``): search, read, delete.

    ``application_tag`` is your own label (bytes) for finding the key;
    ``application_label`` is Apple's (usually the public key's hash).
    ``prf``, ``salt`` and ``rounds`` exist only in the macOS file-based
    keychain (a query using them goes there only).
    """

    item_class: ClassVar[ItemClass] = ItemClass.KEY

    prf: PRF | None = _attr("kSecAttrPRF", _Kind.ENUM, enum_type=PRF)
    salt: bytes | None = _attr("kSecAttrSalt", _BYTES)
    rounds: int | None = _attr("kSecAttrRounds", _Kind.UINT)
    token_id: str | None = _attr("kSecAttrTokenID", _STR)
    access_group: str | None = _attr("kSecAttrAccessGroup", _STR)
    synchronizable: Synchronizable | bool | None = _attr("kSecAttrSynchronizable", _Kind.SYNC)
    accessible: Accessible | None = _attr("kSecAttrAccessible", _Kind.ENUM, enum_type=Accessible)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Identity(_KeyFields, _CertificateFields):
    """An identity (``kSecClassIdentity``): a certificate with its private key.

    It has the attributes of both (Apple: "this class shares attributes of
    both"); search, read, delete.
    """

    item_class: ClassVar[ItemClass] = ItemClass.IDENTITY
    _group_identity: ClassVar[bool] = False  # the groups' primary keys are not an identity's

    token_id: str | None = _attr("kSecAttrTokenID", _STR)
    access_group: str | None = _attr("kSecAttrAccessGroup", _STR)
    synchronizable: Synchronizable | bool | None = _attr("kSecAttrSynchronizable", _Kind.SYNC)
    accessible: Accessible | None = _attr("kSecAttrAccessible", _Kind.ENUM, enum_type=Accessible)


AnyDescription: TypeAlias = GenericPassword | InternetPassword | Certificate | Key | Identity

DESCRIPTIONS: Final[Mapping[ItemClass, type[ItemDescription]]] = MappingProxyType(
    {
        ItemClass.GENERIC_PASSWORD: GenericPassword,
        ItemClass.INTERNET_PASSWORD: InternetPassword,
        ItemClass.CERTIFICATE: Certificate,
        ItemClass.KEY: Key,
        ItemClass.IDENTITY: Identity,
    }
)


def changes_for(
    cls: type[ItemDescription], changes: Mapping[str, object], *, where: str = "update"
) -> ItemDescription:
    """A description of ``cls`` from keyword changes, rejecting unknown names.

    Raises :class:`InvalidQueryError` naming the first field that is not an
    attribute of the class (with the closest valid name), or that is
    read-only (the creation and modification dates, the class).
    """
    names = cls.field_names()
    for name in changes:
        if name in names:
            continue
        if name in _READ_ONLY:
            raise InvalidQueryError(f"{where}({name}=...)", _READ_ONLY[name])
        import difflib  # only on this error path: keeps ~1 ms off ``import secitem.items``

        close = difflib.get_close_matches(name, names, n=1)
        tip = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidQueryError(
            f"{where}({name}=...)",
            f"{cls.__name__} has no attribute {name!r}{tip} (attributes: {', '.join(names)})",
        )
    return cls(**changes)


_READ_ONLY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "creation_date": "is read-only: the keychain sets it when the item is added",
        "modification_date": "is read-only: the keychain sets it on every update",
        "item_class": "cannot change; delete the item and add one of the other class",
        "data": "is the secret; pass it as update(..., data=...)",
        "persistent_ref": "is assigned by the keychain and cannot change",
    }
)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

_T = TypeVar("_T", bound=ItemDescription)


@dataclass(frozen=True, slots=True, repr=False)
class Item(Generic[_T]):
    """One keychain item as returned by :class:`Keychain`.

    ``attributes`` is the typed description of the stored item (the same
    class as the query, so ``item.attributes.account`` is typed); it can be
    passed back as a query.  ``data`` is the secret, present only when it
    was asked for (``Keychain.get`` or ``find(..., data=True)``); it never
    appears in ``repr`` or ``str``.  ``persistent_ref`` addresses exactly
    this item (``keychain.delete(item)`` uses it).  ``raw`` holds every
    non-secret attribute as returned, keyed by constant value, including
    ones the typed fields do not cover.
    """

    attributes: _T
    persistent_ref: PersistentRef | None = None
    creation_date: datetime | None = None
    modification_date: datetime | None = None
    data: bytes | None = dataclasses.field(default=None, compare=True)
    raw: Mapping[str, object] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )

    @property
    def item_class(self) -> ItemClass:
        """The item's class."""
        return self.attributes.item_class

    @property
    def secret(self) -> bytes:
        """The secret, for code that fetched it (``Keychain.get`` does by default).

        Typed ``bytes``, so strict code needs no ``assert item.data is not
        None``.  Raises :class:`~secitem.errors.DataNotFetchedError` (a
        ``LookupError``) when the item was read without its data
        (``get(..., data=False)``, ``find(...)`` without ``data=True``).
        """
        data = self.data
        if data is None:
            raise DataNotFetchedError(
                f"Item[{type(self.attributes).__name__}].secret: the secret was not fetched; "
                "read the item with Keychain.get(query) or find(query, data=True)"
            )
        return data

    @property
    def text(self) -> str | None:
        """The secret decoded as UTF-8 (``None`` if no data was fetched).

        Raises :class:`~secitem.errors.PasswordNotTextError` (a ``ValueError``)
        when the data is not UTF-8; the error never holds the data.
        """
        if self.data is None:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        # Raised outside the except block: no __context__ holding the bytes.
        raise PasswordNotTextError(
            f"Item[{type(self.attributes).__name__}].text: the secret is not UTF-8 text; "
            "read it as bytes with item.data"
        )

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.attributes.fields().items()]
        if self.persistent_ref is not None:
            parts.append(f"persistent_ref={self.persistent_ref!r}")
        if self.data is not None:
            parts.append("data=<hidden>")
        return f"Item[{type(self.attributes).__name__}]({', '.join(parts)})"

    __str__ = __repr__


def description_class(
    result: Mapping[str, object], fallback: type[ItemDescription]
) -> type[ItemDescription]:
    """The description class named by a result's ``class`` key, else ``fallback``.

    The file-based keychain returns ``class`` in attribute dictionaries; the
    data-protection keychain does not (then the query's class is used).
    """
    value = result.get(_kSecClass)
    if isinstance(value, str):
        try:
            return DESCRIPTIONS[ItemClass(value)]
        except ValueError:
            pass
    # A persistent reference of unknown class: guess the most common class.
    return GenericPassword if fallback is ItemDescription else fallback


#: Result keys that never go into :attr:`Item.raw` (secrets and references).
#: ``"sha1"`` (kSecAttrSHA1, SPI) is a digest over the item's attributes *and
#: its secret*, returned next to those attributes: with them, a short password
#: can be found by brute force, so it is treated as secret (docs/emulator.md).
_HIDDEN: Final = frozenset({_kSecValueData, _kSecValuePersistentRef, _kSecValueRef, "sha1"})


def item_from_result(
    cls: type[_T], result: Mapping[str, object], *, data: bytes | None = None
) -> Item[_T]:
    """An :class:`Item` from one attribute dictionary returned by SecItem.

    ``result`` may hold ``kSecValueData`` and ``kSecValuePersistentRef``
    next to the attributes (the shape of a multi-return query); ``data``
    supplies the secret when it was fetched separately.  Opaque values
    (access-control objects, refs) are not kept: the caller closes them.
    """
    description = cls.from_attributes(result)
    get = result.get
    pref = get(_kSecValuePersistentRef)
    secret = get(_kSecValueData, data)
    cdat = get(_kSecAttrCreationDate)
    mdat = get(_kSecAttrModificationDate)
    raw = {
        str(k): v
        for k, v in result.items()
        if isinstance(k, str)
        and k not in _HIDDEN
        and (type(v) in _PLAIN_TYPES or not hasattr(v, "close"))
    }
    return Item(
        attributes=description,
        persistent_ref=(
            PersistentRef._make(bytes(pref), description.item_class)
            if isinstance(pref, (bytes, bytearray))
            else None
        ),
        creation_date=cdat if isinstance(cdat, datetime) else None,
        modification_date=mdat if isinstance(mdat, datetime) else None,
        data=bytes(secret) if isinstance(secret, (bytes, bytearray)) else None,
        raw=MappingProxyType(raw),
    )
