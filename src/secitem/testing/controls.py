"""Typed controls of the secitem emulator, for tests.

The emulator exports a few C functions besides Apple's (``secsim_reset``,
``secsim_set_profile``, ...; see ``csrc/secsim.h``).  :class:`EmulatorControls`
calls them through :mod:`ctypes` with checked, typed arguments: a wrong
argument raises :class:`~secitem.errors.InvalidQueryError` here instead of
ending the process inside the C library (the emulator aborts on a bad value,
as Apple's frameworks crash).

The ``pytest`` plugin's ``secitem_emulator`` fixture yields one of these.
Without pytest::

    from secitem.testing.controls import EmulatorControls
    from secitem.testing.emulator import build

    path = build()
    os.environ["SECITEM_LIBRARY"] = str(path)   # before secitem loads anything
    controls = EmulatorControls(path)
    controls.reset()

``ctypes`` opens the same file as secitem, so both see one keychain.  The
emulator has no getters: ``profile``, ``access_groups``, ``locked`` and
``user_response`` report what these controls set (or the defaults after
:meth:`~EmulatorControls.reset`).
"""

from __future__ import annotations

import ctypes
import enum
import math
import os
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Final, Literal

from secitem.errors import InvalidQueryError, KeychainUnavailableError

__all__ = [
    "IOS_DEFAULT_ACCESS_GROUP",
    "SECITEM_FUNCTIONS",
    "EmulatorControls",
    "Profile",
    "UserResponse",
]

#: An emulator profile: ``"macos"`` (both keychains, an unsigned interpreter
#: by default) or ``"ios"`` (the data-protection keychain only).
Profile = Literal["macos", "ios"]

#: The functions :meth:`EmulatorControls.fail_next` and
#: :meth:`EmulatorControls.delay` accept.
SECITEM_FUNCTIONS: Final = ("SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete")

#: The access group an ``ios`` profile process has when ``SECSIM_ACCESS_GROUPS``
#: is unset (the emulator's default app).
IOS_DEFAULT_ACCESS_GROUP: Final = "SECSIMTEAM.org.secitem.app"

_PROFILE_ENV: Final = "SECSIM_PROFILE"
_GROUPS_ENV: Final = "SECSIM_ACCESS_GROUPS"
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1


class UserResponse(enum.IntEnum):
    """What the simulated user does at a Touch ID / passcode prompt."""

    #: The user authenticates: the call goes on.
    APPROVE = 0
    #: The user cancels: ``UserCanceledError`` (-128).
    CANCEL = 1
    #: Authentication fails: ``AuthFailedError`` (-25293).
    FAIL = 2


class EmulatorControls:
    """The emulator's control functions, typed.

    ``EmulatorControls(path, environ=os.environ)``: ``path`` is the emulator
    library (the one ``SECITEM_LIBRARY`` names).  Setting :attr:`profile` or
    :attr:`access_groups` also sets ``SECSIM_PROFILE`` / ``SECSIM_ACCESS_GROUPS``
    in ``environ``, so that secitem's own platform choice
    (``Keychain()``, ``CredentialStore()``), :meth:`reset` and child processes
    follow; the pytest fixture puts both variables back after each test.

    Raises :class:`~secitem.errors.KeychainUnavailableError` if ``path``
    cannot be loaded or is not the secitem emulator.
    """

    def __init__(
        self, path: str | os.PathLike[str], environ: MutableMapping[str, str] | None = None
    ) -> None:
        self._path = Path(path)
        self._environ: MutableMapping[str, str] = os.environ if environ is None else environ
        try:
            lib = ctypes.CDLL(str(self._path))
        except OSError as exc:
            raise KeychainUnavailableError(
                f"cannot load the emulator library {self._path}: {exc}", paths=(str(path),)
            ) from None
        try:
            lib.secsim_reset.argtypes = []
            lib.secsim_reset.restype = None
        except AttributeError:
            raise KeychainUnavailableError(
                f"{self._path} is not the secitem emulator (it exports no secsim_reset); "
                "unset SECITEM_LIBRARY or point it at python -m secitem.testing.emulator's output",
                paths=(str(path),),
            ) from None
        lib.secsim_live_objects.argtypes = []
        lib.secsim_live_objects.restype = ctypes.c_long
        lib.secsim_set_profile.argtypes = [ctypes.c_char_p]
        lib.secsim_set_profile.restype = None
        lib.secsim_set_access_groups.argtypes = [ctypes.c_char_p]
        lib.secsim_set_access_groups.restype = None
        lib.secsim_set_locked.argtypes = [ctypes.c_int]
        lib.secsim_set_locked.restype = None
        lib.secsim_set_user_response.argtypes = [ctypes.c_int]
        lib.secsim_set_user_response.restype = None
        lib.secsim_fail_next.argtypes = [ctypes.c_char_p, ctypes.c_int32]
        lib.secsim_fail_next.restype = None
        # A few CoreFoundation functions, declared for tests that make objects
        # by hand (ctypes would otherwise cut the pointers to C int).
        lib.CFDataCreate.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_long]
        lib.CFDataCreate.restype = ctypes.c_void_p
        lib.CFRetain.argtypes = [ctypes.c_void_p]
        lib.CFRetain.restype = ctypes.c_void_p
        lib.CFRelease.argtypes = [ctypes.c_void_p]
        lib.CFRelease.restype = None
        self._lib = lib
        self._delayed: set[str] = set()
        self._locked = False
        self._response = UserResponse.APPROVE
        self._profile: Profile = self._env_profile()
        self._groups = self._default_groups()

    # -- what it is -------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The emulator library's path."""
        return self._path

    @property
    def library(self) -> ctypes.CDLL:
        """The library through :mod:`ctypes`, for anything these controls do not cover.

        It is the same library secitem loaded: a CoreFoundation object made
        here (``library.CFDataCreate(None, b"x", 1)``) counts in
        :meth:`live_objects`, and must be released with ``library.CFRelease``.
        ``CFDataCreate``, ``CFRetain`` and ``CFRelease`` are declared (pointers
        as ``int``); set ``argtypes`` and ``restype`` of any other function
        before calling it.
        """
        return self._lib

    def __repr__(self) -> str:
        return (
            f"EmulatorControls(path={str(self._path)!r}, profile={self._profile!r}, "
            f"access_groups={self._groups!r}, locked={self._locked}, "
            f"user_response={self._response.name})"
        )

    # -- state --------------------------------------------------------------------

    def reset(self) -> None:
        """Empty the keychain; unlock, approve, and clear the faults and delays.

        The profile and access groups go back to what ``SECSIM_PROFILE`` and
        ``SECSIM_ACCESS_GROUPS`` say, which are the values last set through
        these controls (or the environment's).  With ``SECSIM_STORE`` the
        shared file is emptied too.
        """
        profile = self._env_profile()  # checked before the C library sees it
        for function in sorted(self._delayed):
            self._set_delay(function, 0)
        self._delayed.clear()
        self._lib.secsim_reset()
        self._profile = profile
        self._groups = self._default_groups()
        self._locked = False
        self._response = UserResponse.APPROVE

    def live_objects(self) -> int:
        """CoreFoundation objects alive in the emulator (the leak check's count)."""
        return int(self._lib.secsim_live_objects())

    @property
    def profile(self) -> Profile:
        """``"macos"`` or ``"ios"``.  Setting it resets :attr:`access_groups` to
        the profile's default (unless ``SECSIM_ACCESS_GROUPS`` is set) and sets
        ``SECSIM_PROFILE``."""
        return self._profile

    @profile.setter
    def profile(self, name: Profile) -> None:
        if not isinstance(name, str):
            raise InvalidQueryError(
                "profile", f"expected 'macos' or 'ios', got {type(name).__name__}"
            )
        if name not in ("macos", "ios"):
            raise InvalidQueryError("profile", f"{name!r} is not 'macos' or 'ios'")
        self._environ[_PROFILE_ENV] = name
        self._lib.secsim_set_profile(name.encode("ascii"))
        self._profile = name
        self._groups = self._default_groups()

    @property
    def access_groups(self) -> tuple[str, ...]:
        """The process's keychain access groups (its entitlements); ``()`` is an
        unsigned interpreter.  Setting it sets ``SECSIM_ACCESS_GROUPS``."""
        return self._groups

    @access_groups.setter
    def access_groups(self, groups: Iterable[str]) -> None:
        if isinstance(groups, str | bytes):
            raise InvalidQueryError(
                "access_groups", "expected a sequence of group names, got a single string"
            )
        names = tuple(groups)
        for name in names:
            _check_group(name)
        joined = ",".join(names)
        self._environ[_GROUPS_ENV] = joined
        self._lib.secsim_set_access_groups(joined.encode("utf-8"))
        self._groups = names

    @property
    def locked(self) -> bool:
        """Whether the device is locked: reading the secret of an item that needs
        an unlocked device raises ``InteractionNotAllowedError``."""
        return self._locked

    @locked.setter
    def locked(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise InvalidQueryError("locked", f"expected bool, got {type(value).__name__}")
        self._lib.secsim_set_locked(int(value))
        self._locked = value

    @property
    def user_response(self) -> UserResponse:
        """What the simulated user does at an access-control prompt."""
        return self._response

    @user_response.setter
    def user_response(self, value: UserResponse) -> None:
        if not isinstance(value, UserResponse):
            raise InvalidQueryError(
                "user_response", f"expected UserResponse, got {type(value).__name__}"
            )
        self._lib.secsim_set_user_response(int(value))
        self._response = value

    # -- faults -----------------------------------------------------------------

    def fail_next(self, function: str, status: int) -> None:
        """Make the next call of ``function`` (one of :data:`SECITEM_FUNCTIONS`)
        return ``status`` (an OSStatus, e.g. -61 errSecWrPerm) without doing anything."""
        _check_function("fail_next", function)
        if isinstance(status, bool) or not isinstance(status, int):
            raise InvalidQueryError(
                "fail_next(status=...)", f"expected int, got {type(status).__name__}"
            )
        if not _INT32_MIN <= status <= _INT32_MAX:
            raise InvalidQueryError("fail_next(status=...)", f"{status} is not an OSStatus (int32)")
        self._lib.secsim_fail_next(function.encode("ascii"), int(status))

    def delay(self, function: str, seconds: float) -> None:
        """Make every later call of ``function`` sleep ``seconds`` first (``0``
        clears it; millisecond resolution).  :meth:`reset` clears every delay.

        Needs ``secsim_set_delay`` in the emulator; an emulator without it
        raises :class:`~secitem.errors.KeychainUnavailableError` saying so.
        """
        _check_function("delay", function)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise InvalidQueryError(
                "delay(seconds=...)", f"expected a number, got {type(seconds).__name__}"
            )
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidQueryError("delay(seconds=...)", f"{seconds} is not a duration >= 0")
        milliseconds = round(seconds * 1000)
        if milliseconds > _INT32_MAX:
            raise InvalidQueryError("delay(seconds=...)", f"{seconds} s is too long")
        self._set_delay(function, milliseconds)
        if milliseconds:
            self._delayed.add(function)
        else:
            self._delayed.discard(function)

    def _set_delay(self, function: str, milliseconds: int) -> None:
        try:
            set_delay = self._lib.secsim_set_delay
        except AttributeError:
            raise KeychainUnavailableError(
                f"the emulator at {self._path} has no secsim_set_delay, so it cannot delay "
                f"{function}; it needs an emulator built from a secitem that has delays",
                paths=(str(self._path),),
            ) from None
        set_delay.argtypes = [ctypes.c_char_p, ctypes.c_int]
        set_delay.restype = None
        set_delay(function.encode("ascii"), milliseconds)

    # -- helpers ----------------------------------------------------------------

    def _env_profile(self) -> Profile:
        value = self._environ.get(_PROFILE_ENV, "")
        if value in ("", "macos"):
            return "macos"
        if value == "ios":
            return "ios"
        raise InvalidQueryError(
            _PROFILE_ENV, f"{value!r} is not 'macos' or 'ios' (the emulator would abort)"
        )

    def _default_groups(self) -> tuple[str, ...]:
        # As the emulator's groups_default(): the variable if set (comma-
        # separated, blanks trimmed, empty names dropped), else the profile's.
        env = self._environ.get(_GROUPS_ENV)
        if env is not None:
            return tuple(g.strip(" \t") for g in env.split(",") if g.strip(" \t"))
        return (IOS_DEFAULT_ACCESS_GROUP,) if self._profile == "ios" else ()


def _check_function(call: str, function: object) -> None:
    if not isinstance(function, str):
        raise InvalidQueryError(
            f"{call}(function=...)", f"expected str, got {type(function).__name__}"
        )
    if function not in SECITEM_FUNCTIONS:
        raise InvalidQueryError(
            f"{call}(function=...)", f"{function!r} is not one of {', '.join(SECITEM_FUNCTIONS)}"
        )


def _check_group(name: object) -> None:
    if not isinstance(name, str):
        raise InvalidQueryError("access_groups", f"expected str, got {type(name).__name__}")
    if not name or name != name.strip(" \t"):
        raise InvalidQueryError(
            "access_groups", f"{name!r}: a group name is not empty and has no surrounding blanks"
        )
    if "," in name or "\x00" in name:
        raise InvalidQueryError("access_groups", f"{name!r}: a group name has no comma or NUL")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQueryError("access_groups", "a group name is not valid Unicode") from None
