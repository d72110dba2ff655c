"""docs/cli.md: "-w on add-* ... only means 'prompt'. A value after it (-w s3cret)
is refused, and the error message does not repeat it."  The attached form that
Apple's `security` (getopt) accepts, -wPASSWORD, is not refused: argparse splits
it into clustered switches, so "-ws3cret" becomes "-w -s 3cret" and the password
(minus its first letter) is silently stored as the item's service name (or
account, label, ...), listed in clear by `secitem list`, and the command exits 0.
"""

import os
import subprocess
import sys

import pytest

CANARY = "CANARY-s3cret"


@pytest.mark.parametrize("letter", ["s", "a", "l", "j", "D"])
def test_attached_value_of_w_is_refused_and_never_stored(tmp_path, letter):
    env = dict(os.environ, SECSIM_STORE=str(tmp_path / "store"), LC_ALL="C.UTF-8")
    password = letter + CANARY  # a password that happens to start with an option letter
    cmd = [
        sys.executable,
        "-m",
        "secitem",
        "add-generic-password",
        "-s",
        "svc",
        "-a",
        "alice",
        "-w" + password,
    ]
    add = subprocess.run(cmd, input=b"piped", capture_output=True, env=env)
    listing = subprocess.run(
        [sys.executable, "-m", "secitem", "list", "--json"], capture_output=True, env=env
    )
    assert CANARY.encode() not in listing.stdout, "the -w value was stored as an attribute"
    assert CANARY.encode() not in add.stdout + add.stderr
    assert add.returncode == 2, "a value after -w must be a usage error"
