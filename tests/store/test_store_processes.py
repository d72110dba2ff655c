"""Several processes (and threads) saving the same account share one keychain file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from secitem.keychain import Keychain
from secitem.store import Credential, CredentialStore

WRITER = """
import os, sys, time
from secitem.store import Credential, CredentialStore
go, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = CredentialStore(server="api.example.com")
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(rounds):
    if i % 3 == 1:
        store.delete("alice")  # a logout now and then: adds then race with adds
    store.save(Credential("alice", f"{name}-{i}"))
print("ok")
"""

READER = """
import json
from secitem.keychain import Keychain
from secitem.store import CredentialStore
store = CredentialStore(server="api.example.com")
items = Keychain().find(store.query)
cred = store.get("alice")
print(json.dumps({"items": len(items), "accounts": store.accounts(),
                  "password": cred.password if cred else None}))
"""


def _env(tmp_path: Path, profile: str) -> dict[str, str]:
    env = dict(os.environ)
    env["SECSIM_STORE"] = str(tmp_path / "keychain.db")
    env["SECSIM_PROFILE"] = profile
    if profile == "ios":
        env["SECSIM_ACCESS_GROUPS"] = "TEAM.app"
    return env


@pytest.mark.usefixtures("sim")
@pytest.mark.parametrize("profile", ["macos", "ios"])
def test_two_processes_save_the_same_account(tmp_path: Path, profile: str) -> None:
    env = _env(tmp_path, profile)
    go = tmp_path / "go"
    rounds = 150
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(go), name, str(rounds)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    time.sleep(0.3)  # let both import secitem and wait at the start line
    go.touch()
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
        assert err == ""

    reader = subprocess.run(
        [sys.executable, "-c", READER], env=env, capture_output=True, text=True, timeout=60
    )
    assert reader.returncode == 0, reader.stderr
    state = json.loads(reader.stdout)
    assert state["items"] == 1
    assert state["accounts"] == ["alice"]
    assert state["password"] in {f"first-{rounds - 1}", f"second-{rounds - 1}"}


def test_threads_save_the_same_account(profile: str, sim: Any, run_threads: Any) -> None:
    store = CredentialStore(service="org.example.threads", keychain=Keychain(platform=profile))  # type: ignore[arg-type]
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        start.wait()
        for i in range(30):
            store.save(Credential("alice", f"{n}-{i}"))

    errors = run_threads(writer, 4)
    assert errors == []
    assert store.accounts() == ["alice"]
    assert len(store.keychain.find(store.query)) == 1


CHURNER = """
import os, random, sys, time
from secitem.store import Credential, CredentialStore
go, seed, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = CredentialStore(service="org.example.churn")
rng = random.Random(seed)
errors = 0
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(rounds):
    account = f"a{rng.randrange(4)}"
    try:
        if rng.random() < 1 / 3:
            store.delete(account)
        else:
            store.save(Credential(account, f"{seed}-{i}"))
    except Exception as exc:
        errors += 1
        print(type(exc).__name__, file=sys.stderr)
print(errors)
"""

COUNTER = """
import json
from secitem.items import GenericPassword, Synchronizable
from secitem.keychain import Keychain
items = Keychain().find(GenericPassword(service="org.example.churn",
                                        synchronizable=Synchronizable.ANY))
print(json.dumps(sorted(item.attributes.account for item in items)))
"""


@pytest.mark.usefixtures("sim")
@pytest.mark.parametrize("profile", ["macos", "ios"])
def test_processes_save_and_delete_four_accounts(tmp_path: Path, profile: str) -> None:
    """issue #11 item 9, across processes: four processes saving and deleting four
    accounts in one keychain file: no save fails, at most one item per account."""
    env = _env(tmp_path, profile)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHURNER, str(go), str(seed), "100"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(4)
    ]
    time.sleep(0.3)  # let them import secitem and wait at the start line
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert (out.strip(), err) == ("0", "")
    counter = subprocess.run(
        [sys.executable, "-c", COUNTER], env=env, capture_output=True, text=True, timeout=60
    )
    assert counter.returncode == 0, counter.stderr
    left = json.loads(counter.stdout)
    assert len(left) == len(set(left)) and set(left) <= {"a0", "a1", "a2", "a3"}
