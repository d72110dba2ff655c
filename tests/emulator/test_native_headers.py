"""Native code against the emulator (issue #17): the shipped headers compile a
program written for a Mac with gcc, clang, g++ and clang++, it runs on the
emulator, and the headers declare exactly what the library exports.

The program is tests/native/keychain_demo.c, the one docs/testing.md shows
("Testing native code").  Compilers that are absent are skipped with the
reason printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from secitem.testing.emulator import include, sources

TESTS = Path(__file__).resolve().parent.parent
DEMO = TESTS / "native" / "keychain_demo.c"
EXPECTED = """\
add 1: 0
add 2: 0
add again: -25299
match all: 0, array: 1
account: user-1@example.com
account: user-2@example.com
error: The operation couldn\u2019t be completed. (NSOSStatusErrorDomain error -25300.)
class: genp
uuid length: 36
delete: 0
"""

COMPILERS = {
    "gcc": ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror"],
    "clang": ["clang-14", "-std=c11", "-Wall", "-Wextra", "-Werror"],
    "g++": ["g++", "-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror"],
    "clang++": ["clang++-14", "-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror"],
}


def _compiler(name: str) -> list[str]:
    cmd = list(COMPILERS[name])
    if shutil.which(cmd[0]) is None and shutil.which(cmd[0].removesuffix("-14")):
        cmd[0] = cmd[0].removesuffix("-14")
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} is not installed")
    return cmd


@pytest.mark.parametrize("name", list(COMPILERS))
def test_mac_style_program_compiles_and_runs(name: str, tmp_path: Path) -> None:
    library = os.environ["SECITEM_LIBRARY"]
    exe = tmp_path / "demo"
    cmd = [*_compiler(name), f"-I{include()}", str(DEMO), "-x", "none", library, "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSIM_")}
    run = subprocess.run(
        [str(exe)], capture_output=True, text=True, check=False, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == EXPECTED


def _declared(tmp_path: Path) -> tuple[set[str], set[str]]:
    """Functions and extern variables the umbrella headers declare (via cc -E)."""
    src = tmp_path / "all.c"
    src.write_text("#include <CoreFoundation/CoreFoundation.h>\n#include <Security/Security.h>\n")
    out = subprocess.run(
        ["cc", "-E", "-P", f"-I{include()}", str(src)], capture_output=True, text=True, check=True
    ).stdout
    functions: set[str] = set()
    variables: set[str] = set()
    for stmt in re.split(r";", re.sub(r"\{[^{}]*\}", ";", out)):
        stmt = " ".join(stmt.split())
        if '__attribute__((visibility("default")))' not in stmt:
            continue
        stmt = stmt.replace('__attribute__((visibility("default")))', "")
        if stmt.strip().startswith("extern"):
            variables.add(stmt.split()[-1])
            continue
        m = re.search(r"(\w+)\s*\([^()]*\)\s*$", stmt)
        if m:
            functions.add(m.group(1))
    return functions, variables


def _exported() -> set[str]:
    out = subprocess.run(
        ["nm", "-D", "--defined-only", os.environ["SECITEM_LIBRARY"]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


#: Exported but deliberately not declared in the public headers.
UNDECLARED_OK = {
    # the emulator's own entry points for tests and tools, not Apple API
    "secsim_cf_live_objects",
}


def test_headers_and_exports_in_step(tmp_path: Path) -> None:
    if shutil.which("nm") is None or shutil.which("cc") is None:
        pytest.skip("nm or cc is not installed")
    functions, variables = _declared(tmp_path)
    exported = {
        s for s in _exported() if not s.startswith("_") or s == "__CFStringMakeConstantString"
    }
    declared = functions | variables
    assert declared - exported == set(), "declared in the headers but not exported"
    missing = {s for s in exported - declared if not s.startswith("secsim_")} - UNDECLARED_OK
    assert missing == set(), "exported but not declared in the headers"
    for name in (
        "CFStringCreateWithFormat",
        "SecItemCopyMatching",
        "CFUUIDCreateString",
        "kSecClass",
    ):
        assert name in declared


def test_errsec_header_in_step() -> None:
    """SecBaseErrors.h is generated with the other tables (tools/gen_tables.py):
    every errSec code of errors.def, with the same value, and nothing else."""
    rows = re.findall(
        r'^SECSIM_ERROR\((-?\d+), "(\w+)"', (sources() / "errors.def").read_text(), re.M
    )
    header = (include() / "Security" / "SecBaseErrors.h").read_text()
    declared = re.findall(r"^    (errSec\w+) = (-?\d+),$", header, re.M)
    assert declared == [(name, code) for code, name in rows], "run python tools/regen.py"


def test_go_example(tmp_path: Path) -> None:
    """The cgo example of docs/testing.md, as written, builds and runs on the emulator."""
    if shutil.which("go") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("go is missing in CI: .ci/run installs golang-go")
        pytest.skip("go is not installed (the Go example of docs/testing.md is not built)")
    doc = (TESTS.parent / "docs" / "testing.md").read_text()
    blocks = re.findall(r"^```go\n(.*?)^```", doc, re.S | re.M)
    assert len(blocks) == 1
    (tmp_path / "main.go").write_text(blocks[0])
    (tmp_path / "include").symlink_to(include())
    shutil.copy(os.environ["SECITEM_LIBRARY"], tmp_path / "libsecsim.so")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSIM_")}
    env |= {"CGO_ENABLED": "1", "GOCACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    env |= {"GO111MODULE": "off", "GOFLAGS": "", "GOPATH": str(tmp_path / "gopath")}
    run = subprocess.run(
        ["go", "run", "main.go"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "status: -25300"


def test_docs_show_the_tested_program() -> None:
    doc = (TESTS.parent / "docs" / "testing.md").read_text()
    assert "## Testing native code (C, C++, Go, Node addons)" in doc
    assert DEMO.read_text() in doc, "docs/testing.md must show tests/native/keychain_demo.c as is"
