"""The secitem pytest plugin: the emulator and a throwaway macOS keychain as fixtures.

Installed with secitem and registered through the ``pytest11`` entry point
``secitem`` (disable it with ``-p no:secitem``).  It costs nothing for a test
run that does not use it: importing it builds nothing and imports none of
secitem's native layer; its fixtures do that work, only when a test asks.

Fixtures:

* ``secitem_emulator`` -- points secitem at the emulator (building it if
  needed), empties the keychain, and yields
  :class:`~secitem.testing.controls.EmulatorControls`.  After the test it
  puts the emulator and ``SECSIM_*`` variables back and fails the test if
  CoreFoundation objects leaked.
* ``secitem_temporary_keychain`` -- on macOS with the real framework, a
  throwaway file-based keychain made the default and the only one searched
  (:func:`~secitem.testing.temporary_keychain.temporary_keychain`); skipped
  elsewhere.

Markers: ``@pytest.mark.secitem_profile("ios")`` and
``@pytest.mark.secitem_access_groups("TEAM.app", ...)``; option
``--secitem-profile``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Final

import pytest

if TYPE_CHECKING:
    from secitem.testing.controls import EmulatorControls, Profile
    from secitem.testing.temporary_keychain import TemporaryKeychain

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "secitem_emulator",
    "secitem_temporary_keychain",
]

_PROFILES: Final = ("macos", "ios")
_ENV_KEYS: Final = ("SECSIM_PROFILE", "SECSIM_ACCESS_GROUPS")
_CALL_FAILED: Final = pytest.StashKey[bool]()
_FIX: Final = (
    "Set SECITEM_LIBRARY before pytest starts "
    "(export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1)), "
    "or keep keychain calls out of import time, conftest.py and session fixtures "
    "so that secitem_emulator runs first."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--secitem-profile``."""
    group = parser.getgroup("secitem", "secitem keychain test kit")
    group.addoption(
        "--secitem-profile",
        dest="secitem_profile",
        choices=_PROFILES,
        default=None,
        help="emulator profile for tests that use the secitem_emulator fixture "
        "(default: SECSIM_PROFILE, else macos); @pytest.mark.secitem_profile overrides it",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers (so ``--strict-markers`` accepts them)."""
    config.addinivalue_line(
        "markers",
        'secitem_profile(name): run this test on the emulator profile "macos" or "ios" '
        "(secitem_emulator fixture)",
    )
    config.addinivalue_line(
        "markers",
        "secitem_access_groups(*groups): the keychain access groups (entitlements) of the "
        "process for this test (secitem_emulator fixture)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember a failed test body: its traceback keeps its objects alive, so
    the leak check would only repeat the failure."""
    report = yield
    if call.when == "call" and call.excinfo is not None:
        item.stash[_CALL_FAILED] = True
    return report


def _loaded_paths() -> tuple[str, ...] | None:
    """The libraries secitem has opened, or None; never loads anything."""
    runtime_module = sys.modules.get("secitem._runtime")
    if runtime_module is None:
        return None
    libraries = runtime_module.loaded()
    return None if libraries is None else tuple(libraries.paths)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b


def _emulator_path() -> str:
    """The emulator library for this test: SECITEM_LIBRARY, or a fresh build that
    SECITEM_LIBRARY is then set to (for the rest of the process)."""
    path = os.environ.get("SECITEM_LIBRARY")
    loaded = _loaded_paths()
    if not path:
        if loaded is not None:
            pytest.fail(
                f"secitem_emulator: secitem has already loaded {', '.join(loaded)}, so this "
                f"process cannot switch to the emulator. {_FIX}",
                pytrace=False,
            )
        from secitem.testing.emulator import build

        try:
            built = str(build())
        except RuntimeError as exc:
            problem = f"secitem_emulator: cannot build the emulator: {exc}"
        else:
            os.environ["SECITEM_LIBRARY"] = built
            return built
        pytest.fail(problem, pytrace=False)
    elif loaded is not None and not (len(loaded) == 1 and _same_file(loaded[0], path)):
        pytest.fail(
            f"secitem_emulator: secitem has already loaded {', '.join(loaded)}, not the "
            f"SECITEM_LIBRARY of this test ({path}). {_FIX}",
            pytrace=False,
        )
    return path


def _marker_profile(request: pytest.FixtureRequest) -> Profile | None:
    marker = request.node.get_closest_marker("secitem_profile")
    if marker is not None:
        if len(marker.args) != 1 or marker.kwargs or marker.args[0] not in _PROFILES:
            pytest.fail(
                "@pytest.mark.secitem_profile takes one argument, 'macos' or 'ios'; got "
                f"{marker.args!r}",
                pytrace=False,
            )
        name: Profile = marker.args[0]
        return name
    option: Profile | None = request.config.getoption("secitem_profile")
    return option


def _marker_groups(request: pytest.FixtureRequest) -> tuple[str, ...] | None:
    marker = request.node.get_closest_marker("secitem_access_groups")
    if marker is None:
        return None
    if marker.kwargs or not all(isinstance(g, str) for g in marker.args):
        pytest.fail(
            "@pytest.mark.secitem_access_groups takes group names (str), e.g. "
            f'("TEAM.com.example.app",); got {marker.args!r}',
            pytrace=False,
        )
    return tuple(marker.args)


@pytest.fixture
def secitem_emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorControls]:
    """The secitem emulator, with an empty keychain; yields its typed controls.

    Builds the emulator if ``SECITEM_LIBRARY`` is unset and sets it (before
    anything loads the Security library; fails with the fix if secitem had
    already loaded another library).  Applies ``--secitem-profile`` and the
    ``secitem_profile`` / ``secitem_access_groups`` markers.  Afterwards it
    restores ``SECSIM_PROFILE`` / ``SECSIM_ACCESS_GROUPS``, resets the
    emulator (profile, groups, lock, user response, faults, delays) and fails
    the test if CoreFoundation objects were left alive.
    """
    from secitem.errors import SecitemError
    from secitem.testing.controls import EmulatorControls

    path = _emulator_path()
    profile = _marker_profile(request)
    groups = _marker_groups(request)
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    try:
        controls = EmulatorControls(path)
        controls.reset()
        if profile is not None:
            controls.profile = profile
        if groups is not None:
            controls.access_groups = groups
    except SecitemError as exc:
        problem = f"secitem_emulator: {exc}"
    else:
        problem = ""
    if problem:
        _restore_environment(saved)
        pytest.fail(problem, pytrace=False)
    before = controls.live_objects()
    try:
        yield controls
    finally:
        _restore_environment(saved)
        controls.reset()  # also wakes calls sleeping in an emulated delay
        _wait_for_late_calls()
    leaked = controls.live_objects() - before
    if leaked > 0 and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail(
            f"{request.node.nodeid} leaked {leaked} CoreFoundation object(s): a Create/Copy "
            "result was never released (close() secitem objects you keep, CFRelease what "
            "you create through the C library)",
            pytrace=False,
        )


def _wait_for_late_calls() -> None:
    """Let calls that timed out finish and release their results before counting.

    A call abandoned by its deadline may still be running on secitem's worker
    pool; only once it ends are its objects released.  Looked up in
    ``sys.modules`` so that a test run which never used deadlines imports
    nothing for this.
    """
    deadline = sys.modules.get("secitem._deadline")
    if deadline is not None:
        deadline.wait_idle()


def _restore_environment(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def secitem_temporary_keychain(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TemporaryKeychain]:
    """On macOS with the real framework: a throwaway keychain, made the default
    and the only one searched, undone after the test (see
    :func:`~secitem.testing.temporary_keychain.temporary_keychain`).

    Skipped, with the reason, off macOS and when this run uses the emulator.
    """
    if sys.platform != "darwin":
        pytest.skip(
            f"secitem_temporary_keychain needs macOS and its keychain (this is {sys.platform})"
        )
    library = os.environ.get("SECITEM_LIBRARY")
    if library:
        pytest.skip(
            f"secitem_temporary_keychain: SECITEM_LIBRARY is set ({library}), so this run "
            "uses the emulator, not the macOS keychain"
        )
    from secitem.testing.temporary_keychain import temporary_keychain

    with temporary_keychain(tmp_path_factory.mktemp("secitem-keychain")) as keychain:
        yield keychain
