"""The shared SQLite Store: batched writes, TTL, and many threads writing at once without 'database is locked'."""

from __future__ import annotations

import threading
import time

from assistant.store import KV, Store


def test_set_many_writes_every_key_in_one_call(tmp_path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.set_many([KV("a", "1", {"x": 1}), KV("b", "2", ["y"], ttl_s=60), KV("c", "3", "已过期", ttl_s=0.01)])
    store.set_many([])
    time.sleep(0.05)
    assert store.get("a", "1") == {"x": 1} and store.get("b", "2") == ["y"]
    assert store.get("c", "3") is None  # expired
    # another connection (another worker process would have its own) sees the committed rows
    assert Store(tmp_path / "s.sqlite").get("b", "2") == ["y"]


def test_concurrent_writers_of_one_process_never_hit_busy(tmp_path) -> None:
    """16 threads × 50 writes, mixed set_many / hit / append: all land, none raises (one huge rate window, so
    the count cannot straddle a window boundary)."""
    store = Store(tmp_path / "s.sqlite")
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(50):
                store.set_many([KV("answer", f"{t}-{i}", {"i": i}), KV("session", f"{t}-{i}", [t])])
                store.hit("rate", "ip", 10**9)
                if i % 10 == 0:
                    store.append("feedback", {"t": t, "i": i})
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert errors == []
    assert store.hit("rate", "ip", 10**9) == 16 * 50 + 1
    assert all(store.get("answer", f"{t}-49") == {"i": 49} for t in range(16))
    assert len(store.entries("feedback", limit=1000)) == 16 * 5
