"""What docs/ios.md promises about the binding and the iOS CI job holds (issue #14)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _cdef() -> str:
    source = (ROOT / "src" / "secitem" / "_ffi.py").read_text(encoding="utf-8")
    declarations = re.findall(r'"""(.*?)"""', source, re.S)
    assert any("SecItemAdd" in d for d in declarations), "the cdef was not found"
    return "\n".join(d for d in declarations if "SecItemAdd" in d or "CFRelease" in d)


def test_no_callback_in_the_package() -> None:
    """iOS forbids the executable memory ffi.callback needs."""
    for path in sorted((ROOT / "src" / "secitem").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bffi\.(callback|def_extern)\b", text), path


def test_no_variadic_declaration() -> None:
    """cffi's iOS builds have had broken variadic calls (python-cffi/cffi#264)."""
    for line in _cdef().splitlines():
        assert not re.search(r"\.\.\.\s*\)", line), line


def _workflow() -> dict[str, object]:
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def test_ios_job_is_bounded_pinned_and_informational() -> None:
    jobs = _workflow()["jobs"]
    assert isinstance(jobs, dict)
    job = jobs["ios-simulator"]
    assert re.fullmatch(r"macos-\d+", job["runs-on"]), "pin the runner image"
    assert job["continue-on-error"] is True
    assert 0 < job["timeout-minutes"] <= 60
    script = "\n".join(str(step.get("run", "")) for step in job["steps"])
    assert "cffi>=2.1" in script  # the first cffi with iOS wheels on PyPI
    assert "-m macos" in script or "'-m', 'macos'" in script or '"macos"' in script
    assert "testbed" in script
    for step in job["steps"]:
        if "run" in step:
            assert 0 < step.get("timeout-minutes", 0) <= 40, step.get("name")


def test_cffi_floor_in_the_docs_matches_the_job() -> None:
    page = (ROOT / "docs" / "ios.md").read_text(encoding="utf-8")
    assert "cffi>=2.1" in page and "from cffi 2.1.0 on" in page
