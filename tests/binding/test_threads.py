"""Thread safety: 8 threads x 1,000 mixed operations, no surprise, no leak."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from binding_helpers import unique

from secitem import DuplicateItemError, ItemNotFoundError
from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    SecItemUpdate,
    kSecAttrAccount,
    kSecAttrLabel,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecReturnAttributes,
    kSecReturnData,
    kSecValueData,
)

THREADS = 8
OPERATIONS = 1000
SHARED_ACCOUNTS = ("shared-0", "shared-1", "shared-2")


def _worker(
    number: int, service: str, errors: list[BaseException], start: threading.Barrier
) -> None:
    rng = random.Random(number)
    own: dict[str, bytes | None] = {f"own-{number}-{i}": None for i in range(4)}

    def query(account: str, **extra: object) -> dict[object, object]:
        return {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecAttrAccount: account,
            **extra,
        }  # type: ignore[dict-item]

    start.wait()
    try:
        for step in range(OPERATIONS):
            operation = rng.choice(("add", "get", "update", "delete"))
            if rng.random() < 0.3:  # shared accounts: races are expected
                account = rng.choice(SHARED_ACCOUNTS)
                try:
                    if operation == "add":
                        SecItemAdd({**query(account), kSecValueData: b"shared"})
                    elif operation == "get":
                        result = SecItemCopyMatching({**query(account), kSecReturnData: True})
                        assert result == b"shared"
                    elif operation == "update":
                        SecItemUpdate(query(account), {kSecAttrLabel: f"t{number}"})
                    else:
                        SecItemDelete(query(account))
                except (DuplicateItemError, ItemNotFoundError):
                    pass
                continue
            account = rng.choice(list(own))  # distinct accounts: exact outcomes
            secret = own[account]
            data = f"{number}:{step}".encode()
            if operation == "add":
                if secret is None:
                    SecItemAdd({**query(account), kSecValueData: data})
                    own[account] = data
                else:
                    try:
                        SecItemAdd({**query(account), kSecValueData: data})
                    except DuplicateItemError:
                        pass
                    else:
                        raise AssertionError("duplicate add succeeded")
            elif operation == "get":
                if secret is None:
                    try:
                        SecItemCopyMatching({**query(account), kSecReturnData: True})
                    except ItemNotFoundError:
                        pass
                    else:
                        raise AssertionError("found a deleted item")
                else:
                    result = SecItemCopyMatching(
                        {**query(account), kSecReturnData: True, kSecReturnAttributes: True}
                    )
                    assert isinstance(result, dict)
                    assert result[kSecValueData] == secret
                    assert result[kSecAttrAccount] == account
            elif operation == "update":
                if secret is None:
                    try:
                        SecItemUpdate(query(account), {kSecValueData: data})
                    except ItemNotFoundError:
                        pass
                    else:
                        raise AssertionError("updated a missing item")
                else:
                    SecItemUpdate(query(account), {kSecValueData: data})
                    own[account] = data
            elif secret is None:
                try:
                    SecItemDelete(query(account))
                except ItemNotFoundError:
                    pass
                else:
                    raise AssertionError("deleted a missing item")
            else:
                SecItemDelete(query(account))
                own[account] = None
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


@pytest.mark.parametrize("profile_name", ["macos", "ios"])
def test_eight_threads_mixed_operations(sim: Any, profile_name: str) -> None:
    """8 threads x 1,000 add/get/update/delete on distinct and shared accounts."""
    sim.lib.secsim_set_profile(profile_name.encode())
    service = unique("threads")
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    threads = [
        threading.Thread(target=_worker, args=(n, service, errors, start)) for n in range(THREADS)
    ]
    before = sim.lib.secsim_live_objects()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], errors[:3]
    assert sim.lib.secsim_live_objects() == before
