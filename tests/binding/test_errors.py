"""OSStatus -> exception classes, Apple's messages, fix-it hints, and no secrets."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from binding_helpers import Cleanup

import secitem
from secitem import errors
from secitem._tables import ERRORS
from secitem.errors import (
    AuthFailedError,
    DuplicateItemError,
    InteractionNotAllowedError,
    ItemNotFoundError,
    KeychainError,
    MissingEntitlementError,
    NoSuchAttributeError,
    NoSuchClassError,
    ParamError,
    UserCanceledError,
    check,
    error_for_status,
)
from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecReturnData,
    kSecValueData,
)

CLASSES = {
    -25300: ItemNotFoundError,
    -25299: DuplicateItemError,
    -25293: AuthFailedError,
    -25308: InteractionNotAllowedError,
    -128: UserCanceledError,
    -34018: MissingEntitlementError,
    -50: ParamError,
    -25303: NoSuchAttributeError,
    -25306: NoSuchClassError,
}
MESSAGES = {code: text for _name, code, text in ERRORS}


@pytest.mark.parametrize(("status", "cls"), sorted(CLASSES.items()))
def test_status_maps_to_class(status: int, cls: type[KeychainError]) -> None:
    """Each status the callers tell apart raises its own subclass carrying the status."""
    with pytest.raises(cls) as info:
        check(status)
    assert type(info.value) is cls
    assert info.value.status == status
    assert cls().status == status  # the subclass knows its status
    assert isinstance(info.value, KeychainError)


def test_error_classes_are_exported_at_top_level() -> None:
    """The error classes are importable from secitem itself."""
    for cls in (*CLASSES.values(), KeychainError, secitem.KeychainUnavailableError):
        assert getattr(secitem, cls.__name__) is cls


def test_success_does_not_raise() -> None:
    """errSecSuccess (0) is not an error."""
    check(0)


def test_other_status_is_base_class() -> None:
    """A status without a subclass raises KeychainError itself."""
    error = error_for_status(-25291)
    assert type(error) is KeychainError
    assert error.status == -25291
    assert str(error) == (
        "No keychain is available. You may need to restart your computer. (OSStatus -25291)"
    )


def test_base_class_needs_a_status() -> None:
    """KeychainError() without a status is a programming error."""
    with pytest.raises(TypeError):
        KeychainError()


def test_str_is_message_and_status() -> None:
    """str(error) is Apple's message followed by the OSStatus."""
    assert str(ItemNotFoundError()) == (
        "The specified item could not be found in the keychain. (OSStatus -25300)"
    )
    assert str(KeychainError(-4242, "")) == "OSStatus -4242"
    assert str(KeychainError(-4242, "OSStatus -4242")) == "OSStatus -4242"


@pytest.mark.parametrize("status", sorted(CLASSES))
def test_builtin_messages_are_apples(status: int) -> None:
    """The fallback table gives Apple's header text for each status."""
    assert errors._builtin_message(status) == MESSAGES[status]


@pytest.mark.macos
@pytest.mark.parametrize("status", [-25300, -25299, -25308, -128, -50, -34018])
def test_loaded_library_gives_the_same_messages(status: int) -> None:
    """With the library loaded, SecCopyErrorMessageString gives the same English text."""
    from secitem import _runtime

    _runtime.runtime()
    text = _runtime.copy_error_message(status)
    assert text in apple_wordings(status)
    assert KeychainError(status).message == text


def apple_wordings(status: int) -> set[str]:
    """The texts Apple's library may give for ``status``: the header's, and for
    -34018 the same sentence with "is not" (macOS releases use either)."""
    text = MESSAGES[status]
    if status == -34018:
        return {text, text.replace("isn't", "is not")}
    return {text}


def test_either_wording_of_the_missing_entitlement_message() -> None:
    """-34018 accepts exactly Apple's two wordings; other statuses only the header's."""
    assert apple_wordings(-34018) == {
        "A required entitlement isn't present.",
        "A required entitlement is not present.",
    }
    assert apple_wordings(-25300) == {MESSAGES[-25300]}


def test_unknown_status_message(sim: Any) -> None:
    """A status nobody knows reads 'OSStatus <n>', as Apple's function says."""
    from secitem import _runtime

    _runtime.runtime()
    assert str(KeychainError(-99999)) == "OSStatus -99999"
    assert _runtime.copy_error_message(1 << 40) is None  # not an OSStatus at all


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (MissingEntitlementError, ["kSecUseDataProtectionKeychain", "entitlement", "unsigned"]),
        (InteractionNotAllowedError, ["locked", "SSH", "kSecAttrAccessible"]),
        (AuthFailedError, ["not accepted"]),
        (UserCanceledError, ["dismissed"]),
        (ParamError, ["kSecClass", "kSecValueData"]),
        (ItemNotFoundError, ["other keychain", "file-based", "data-protection"]),
        (DuplicateItemError, ["primary key"]),
    ],
)
def test_hints(cls: type[KeychainError], words: list[str]) -> None:
    """The common failures come with a hint that names the fix."""
    hint = cls().hint
    assert hint is not None
    for word in words:
        assert word in hint


def test_no_hint_for_rare_status() -> None:
    """Statuses without a known fix have no hint."""
    assert KeychainError(-25291).hint is None


def test_explicit_message_and_hint_win() -> None:
    """KeychainError(status, message, hint) keeps what it was given."""
    error = ItemNotFoundError(-25300, "custom", "do this")
    assert (error.status, error.message, error.hint) == (-25300, "custom", "do this")
    assert str(error) == "custom (OSStatus -25300)"
    assert repr(error) == "ItemNotFoundError(status=-25300, message='custom')"


def test_errors_pickle() -> None:
    """Errors survive pickling (multiprocessing, logging handlers)."""
    for error in (
        ItemNotFoundError(),
        KeychainError(-4, "x", "y"),
        secitem.KeychainUnavailableError("nope", ["/p"]),
    ):
        clone = pickle.loads(pickle.dumps(error))
        assert type(clone) is type(error)
        assert (clone.status, clone.message, clone.hint) == (
            error.status,
            error.message,
            error.hint,
        )
        assert str(clone) == str(error)


SECRET = "hunter2-do-not-leak"


def _texts(error: BaseException) -> str:
    parts = [str(error), repr(error), repr(error.args)]
    if isinstance(error, KeychainError):
        parts += [error.message, error.hint or ""]
    return "\n".join(parts)


@pytest.mark.macos
def test_no_secret_in_keychain_errors(cleanup: Cleanup) -> None:
    """A failed call on an item with a secret never shows the secret in the error."""
    service = cleanup.service()
    item = {
        kSecClass: kSecClassGenericPassword,
        kSecAttrService: service,
        kSecAttrAccount: "alice",
        kSecValueData: SECRET.encode(),
    }
    SecItemAdd(item)
    with pytest.raises(DuplicateItemError) as info:
        SecItemAdd(item)
    assert SECRET not in _texts(info.value)
    with pytest.raises(ItemNotFoundError) as missing:
        SecItemCopyMatching(
            {
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: service,
                kSecAttrAccount: SECRET,
                kSecReturnData: True,
            }
        )
    assert SECRET not in _texts(missing.value)


@pytest.mark.parametrize(
    "value",
    [
        {kSecValueData: {SECRET}},
        {kSecValueData: [SECRET.encode(), 1 << 70]},
        {kSecAttrAccount: SECRET, kSecValueData: object()},
        {kSecValueData: SECRET + "\udc80"},
    ],
)
def test_no_secret_in_conversion_errors(value: dict[Any, Any]) -> None:
    """Conversion errors name the key and the type, never the value."""
    with pytest.raises((TypeError, ValueError, OverflowError)) as info:
        SecItemAdd({kSecClass: kSecClassGenericPassword, **value})
    assert SECRET not in _texts(info.value)
    assert "kSecValueData" in str(info.value)
