"""The plugin in a user's project: found through its entry point, free when
unused, and its fixtures, markers, option and leak check do what they say.

Each test runs pytest in a fresh temporary project (no conftest.py,
``SECITEM_LIBRARY`` and ``SECSIM_*`` unset, no ``-p``: the plugin is found
through the installed ``pytest11`` entry point) and reads the outcome of
every test from a JUnit XML report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

NATIVE = (
    "secitem._ffi",
    "secitem._runtime",
    "secitem._convert",
    "secitem.security",
    "cffi",
    "_cffi_backend",
)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECSIM_", "PYTEST_", "HYPOTHESIS_")) and k != "SECITEM_LIBRARY"
    }
    env["HOME"] = str(tmp_path / "home")  # no user-level config leaks in
    # Reuse the project's build cache: the library is the same, only the
    # build is skipped (an empty cache is used where the test needs one).
    env.setdefault(
        "SECITEM_EMULATOR_CACHE",
        os.environ.get("SECITEM_EMULATOR_CACHE")
        or str(
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            / "secitem"
            / "emulator"
        ),
    )
    return env


def _run(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rs",
            "--strict-markers",
            f"--rootdir={project}",
            f"--junitxml={project / 'report.xml'}",
            *args,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _outcomes(project: Path) -> dict[str, str]:
    """test name -> passed / failed / error / skipped (an error at teardown wins)."""
    out: dict[str, str] = {}
    for case in ET.parse(project / "report.xml").getroot().iter("testcase"):
        name = case.get("name", "")
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = "passed"
        if "skipped" in kinds:
            outcome = "skipped"
        if "failure" in kinds:
            outcome = "failed"
        if "error" in kinds:
            outcome = "error" if "failure" not in kinds else "failed+error"
        out[name] = outcome
    return out


def _message(project: Path, name: str) -> str:
    for case in ET.parse(project / "report.xml").getroot().iter("testcase"):
        if case.get("name") == name:
            return "\n".join((child.get("message") or "") + (child.text or "") for child in case)
    raise AssertionError(f"no test {name}")


PROJECT_TESTS = """
import os

import pytest
from hypothesis import HealthCheck, given, settings

from secitem import Credential, CredentialStore, GenericPassword, Keychain
from secitem.testing import strategies as kst
from secitem.testing.controls import IOS_DEFAULT_ACCESS_GROUP, UserResponse

ITEM = GenericPassword(service="com.example.app", account="alice")


def test_a_stores_in_an_empty_keychain(secitem_emulator):
    assert Keychain().find(GenericPassword()) == []
    Keychain().add(ITEM, "wonderland")
    assert Keychain().secret(ITEM) == b"wonderland"


@pytest.mark.secitem_profile("ios")
def test_b_ios_marker(secitem_emulator):
    assert secitem_emulator.profile == "ios"
    assert os.environ["SECSIM_PROFILE"] == "ios"
    assert Keychain().platform == "ios"
    assert secitem_emulator.access_groups == (IOS_DEFAULT_ACCESS_GROUP,)
    secitem_emulator.locked = True
    secitem_emulator.user_response = UserResponse.CANCEL
    secitem_emulator.fail_next("SecItemAdd", -61)


@pytest.mark.secitem_profile("ios")
@pytest.mark.secitem_access_groups("TEAM.one", "TEAM.two")
def test_c_access_groups_marker(secitem_emulator):
    assert secitem_emulator.access_groups == ("TEAM.one", "TEAM.two")
    Keychain().add(GenericPassword(service="s", account="a", access_group="TEAM.two"), b"x")


def test_d_everything_was_put_back(secitem_emulator):
    assert "SECSIM_PROFILE" not in os.environ
    assert "SECSIM_ACCESS_GROUPS" not in os.environ
    assert secitem_emulator.profile == "macos" and Keychain().platform == "macos"
    assert Keychain().find(GenericPassword()) == []  # test_a's item is gone
    Keychain().add(ITEM, b"x")  # no fault left armed by test_b
    assert Keychain().secret(ITEM) == b"x"  # not locked


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(service=kst.services(), credential=kst.credentials())
def test_e_strategy(secitem_emulator, service, credential):
    secitem_emulator.reset()
    store = CredentialStore(service=service)
    store.save(credential)
    assert store.get(credential.account) == credential


def test_f_leaks(secitem_emulator):
    secitem_emulator.library.CFDataCreate(None, b"x", 1)


def test_g_fails_and_leaks(secitem_emulator):
    secitem_emulator.library.CFDataCreate(None, b"x", 1)
    assert False, "the test's own failure"


def test_h_releases(secitem_emulator):
    ref = secitem_emulator.library.CFDataCreate(None, b"x", 1)
    secitem_emulator.library.CFRelease(ref)


def test_i_temporary_keychain(secitem_temporary_keychain):
    raise AssertionError("never runs off macOS")


def test_j_no_fixture():
    assert "SECITEM_LIBRARY" in os.environ  # set by the first secitem_emulator
"""


def test_a_fresh_project_uses_the_fixtures_markers_and_a_strategy(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_keychain.py").write_text(PROJECT_TESTS)
    proc = _run(project, _clean_env(tmp_path))
    assert not (project / "conftest.py").exists()
    assert _outcomes(project) == {
        "test_a_stores_in_an_empty_keychain": "passed",
        "test_b_ios_marker": "passed",
        "test_c_access_groups_marker": "passed",
        "test_d_everything_was_put_back": "passed",
        "test_e_strategy": "passed",
        "test_f_leaks": "error",
        "test_g_fails_and_leaks": "failed",
        "test_h_releases": "passed",
        "test_i_temporary_keychain": "skipped",
        "test_j_no_fixture": "passed",
    }, proc.stdout + proc.stderr
    # test_f_leaks passed, then errored at teardown: pytest counts it twice.
    assert "1 failed, 8 passed, 1 skipped, 1 error in" in proc.stdout
    assert "test_f_leaks leaked 1 CoreFoundation object(s)" in _message(project, "test_f_leaks")
    assert "the test's own failure" in _message(project, "test_g_fails_and_leaks")
    assert "leaked" not in _message(project, "test_g_fails_and_leaks")
    assert "secitem_temporary_keychain needs macOS" in proc.stdout  # the printed reason


OPTION_TESTS = """
import pytest
from secitem import Keychain


def test_option(secitem_emulator):
    assert secitem_emulator.profile == "ios" and Keychain().platform == "ios"


@pytest.mark.secitem_profile("macos")
def test_marker_wins(secitem_emulator):
    assert secitem_emulator.profile == "macos" and Keychain().platform == "macos"


@pytest.mark.secitem_profile("android")
def test_bad_marker(secitem_emulator):
    pass
"""


def test_the_profile_option_and_a_bad_marker(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_option.py").write_text(OPTION_TESTS)
    proc = _run(project, _clean_env(tmp_path), "--secitem-profile", "ios")
    assert _outcomes(project) == {
        "test_option": "passed",
        "test_marker_wins": "passed",
        "test_bad_marker": "error",
    }, proc.stdout + proc.stderr
    assert "secitem_profile takes one argument" in _message(project, "test_bad_marker")


def test_the_plugin_costs_nothing_when_unused(tmp_path: Path) -> None:
    """Collecting and running a suite that uses no fixture of the plugin
    imports nothing native and builds nothing, though the plugin is loaded."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    env = _clean_env(tmp_path)
    env["SECITEM_EMULATOR_CACHE"] = str(tmp_path / "empty-cache")
    script = textwrap.dedent(
        f"""
        import json, sys
        import pytest
        codes = [int(pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", {str(project)!r},
                                  *args, {str(project)!r}]))
                 for args in (["--co"], [])]
        print(json.dumps({{"codes": codes, "modules": sorted(sys.modules)}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["codes"] == [0, 0]
    modules = set(result["modules"])
    assert "secitem.testing.pytest_plugin" in modules  # loaded through the entry point
    assert modules.isdisjoint(NATIVE), sorted(modules & set(NATIVE))
    assert "secitem.testing.emulator" not in modules
    assert "secitem.testing.controls" not in modules
    assert not (tmp_path / "empty-cache").exists()  # nothing was built


ALREADY_LOADED = """
import os
import secitem._runtime

# Something opened the Security library before the fixture ran (here: the
# emulator under another name, as a real Mac would have its frameworks).
os.environ["SECITEM_LIBRARY"] = os.environ["OTHER_LIBRARY"]
secitem._runtime.load()
os.environ["SECITEM_LIBRARY"] = os.environ["OTHER_LIBRARY"] + ".elsewhere"


def test_uses_the_emulator(secitem_emulator):
    pass
"""


@pytest.mark.parametrize(
    ("after", "says"),
    [
        ('os.environ["OTHER_LIBRARY"] + ".elsewhere"', "not the SECITEM_LIBRARY of this test"),
        (None, "so this process cannot switch to the emulator"),
    ],
)
def test_a_library_loaded_before_the_fixture_is_a_clear_failure(
    tmp_path: Path, after: str | None, says: str
) -> None:
    other = tmp_path / "libother.so"
    other.write_bytes(Path(os.environ["SECITEM_LIBRARY"]).read_bytes())
    project = tmp_path / "project"
    project.mkdir()
    code = ALREADY_LOADED.replace(
        'os.environ["SECITEM_LIBRARY"] = os.environ["OTHER_LIBRARY"] + ".elsewhere"',
        f'os.environ["SECITEM_LIBRARY"] = {after}'
        if after
        else 'del os.environ["SECITEM_LIBRARY"]',
    )
    (project / "test_loaded.py").write_text(code)
    env = _clean_env(tmp_path)
    env["OTHER_LIBRARY"] = str(other)
    proc = _run(project, env)
    assert _outcomes(project) == {"test_uses_the_emulator": "error"}, proc.stdout + proc.stderr
    message = _message(project, "test_uses_the_emulator")
    assert f"secitem has already loaded {other}" in message
    assert says in message
    assert "export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1)" in message


@pytest.mark.skipif(sys.platform == "darwin", reason="checks the skip off macOS")
def test_the_temporary_keychain_fixture_skips_off_macos(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_mac.py").write_text(
        "def test_mac(secitem_temporary_keychain):\n    raise AssertionError('ran')\n"
    )
    proc = _run(project, _clean_env(tmp_path))
    assert _outcomes(project) == {"test_mac": "skipped"}, proc.stdout + proc.stderr
    assert f"needs macOS and its keychain (this is {sys.platform})" in proc.stdout
