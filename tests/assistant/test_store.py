"""The shared Store, the same tests on both backends: SQLite (one machine) and Redis (a real redis-server, replicas
on several machines). Batched writes, TTL, atomic claims, rate windows, the feedback log, and many threads writing
at once without errors."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from assistant.errors import ConfigError
from assistant.store import KV, SqliteStore, Store, make_store
from assistant.store.redis_store import RedisStore
from tests.conftest import make_settings

OpenStore = Callable[[], Store]


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path) -> OpenStore:
    """Opens a new handle on one store (a new connection, as another worker process or replica would have)."""
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "s.sqlite")
    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    return lambda: RedisStore.connect(url, prefix=prefix)


def test_set_many_writes_every_key_in_one_call(open_store: OpenStore) -> None:
    store = open_store()
    store.set_many([KV("a", "1", {"x": 1}), KV("b", "2", ["y"], ttl_s=60), KV("c", "3", "已过期", ttl_s=0.01)])
    store.set_many([])
    time.sleep(0.05)
    assert store.get("a", "1") == {"x": 1} and store.get("b", "2") == ["y"]
    assert store.get("c", "3") is None  # expired
    # another connection (another worker process would have its own) sees the committed rows
    assert open_store().get("b", "2") == ["y"]
    store.delete("a", "1")
    assert store.get("a", "1") is None and open_store().get("a", "1") is None
    assert store.get("no-such", "key") is None


def test_add_if_absent_claims_once_until_the_claim_expires(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    assert a.add_if_absent("claim", "msg-1", "A", ttl_s=0.2)
    assert not b.add_if_absent("claim", "msg-1", "B", ttl_s=0.2)
    assert b.get("claim", "msg-1") == "A"
    time.sleep(0.3)
    assert b.add_if_absent("claim", "msg-1", "B", ttl_s=60)  # the first claim expired
    assert a.get("claim", "msg-1") == "B"
    assert a.add_if_absent("claim", "forever", True) and not b.add_if_absent("claim", "forever", True)


def in_threads(fn, n: int, timeout_s: float) -> None:  # noqa: ANN001
    """Run ``fn(0) … fn(n-1)`` on ``n`` threads at once and wait for them."""
    threads = [threading.Thread(target=fn, args=(t,)) for t in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=timeout_s)


def test_concurrent_claims_have_exactly_one_winner(open_store: OpenStore) -> None:
    handles = [open_store() for _ in range(4)]
    wins: list[int] = []
    start = threading.Barrier(16)

    def claim(t: int) -> None:
        start.wait()
        if handles[t % 4].add_if_absent("compute", "msg-42", t, ttl_s=60):
            wins.append(t)

    in_threads(claim, 16, timeout_s=30)
    assert len(wins) == 1 and handles[0].get("compute", "msg-42") == wins[0]


def test_hits_count_per_key_and_window(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    assert [a.hit("rate", "ip-1", 10**9) for _ in range(3)] == [1, 2, 3]
    assert b.hit("rate", "ip-1", 10**9) == 4  # one counter across handles
    assert b.hit("rate", "ip-2", 10**9) == 1
    # a one-second window: a new window starts from 1
    now = time.time()
    time.sleep(1 - now % 1 + 0.01 if now % 1 > 0.8 else 0)
    assert a.hit("rate", "ip-3", 1) == 1 and a.hit("rate", "ip-3", 1) == 2
    time.sleep(1.05)
    assert a.hit("rate", "ip-3", 1) == 1


def test_the_log_lists_newest_first_with_limit_and_offset(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    ids = [(a if i % 2 else b).append("feedback", {"rating": "up" if i % 2 else "down", "n": i}) for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    entries = a.entries("feedback")
    assert [e["n"] for e in entries] == [4, 3, 2, 1, 0] and [e["id"] for e in entries] == ids[::-1]
    assert all(e["created"] <= time.time() for e in entries) and entries[0]["rating"] == "down"
    assert [e["n"] for e in b.entries("feedback", limit=2, offset=1)] == [3, 2]
    assert a.entries("other") == []
    a.purge()
    assert len(a.entries("feedback")) == 5


def test_concurrent_writers_of_one_process_never_hit_busy(open_store: OpenStore) -> None:
    """16 threads × 50 writes, mixed set_many / hit / append: all land, none raises (one huge rate window, so
    the count cannot straddle a window boundary)."""
    store = open_store()
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

    in_threads(work, 16, timeout_s=120)
    assert errors == []
    assert store.hit("rate", "ip", 10**9) == 16 * 50 + 1
    assert all(store.get("answer", f"{t}-49") == {"i": 49} for t in range(16))
    assert len(store.entries("feedback", limit=1000)) == 16 * 5


def test_settings_choose_the_store(tmp_path, redis_url: str) -> None:
    assert isinstance(make_store(make_settings(tmp_path / "a")), SqliteStore)
    assert (tmp_path / "a" / "state" / "store.sqlite").is_file()
    redis_store = make_store(make_settings(tmp_path / "b", redis_url=redis_url, redis_prefix="choose"))
    assert isinstance(redis_store, RedisStore) and isinstance(redis_store, Store)
    redis_store.set("ns", "k", 1)
    assert not (tmp_path / "b" / "state").exists()  # nothing written to SQLite when Redis is configured
    dead = f"redis://:s3cret@127.0.0.1:{_closed_port()}/0"
    with pytest.raises(ConfigError) as err:
        make_store(make_settings(tmp_path, redis_url=dead))
    assert "Redis" in err.value.message and "s3cret" not in err.value.message and "ASSISTANT_REDIS_URL" in err.value.hint


def _closed_port() -> int:
    from assistant.bench import free_port

    return free_port()
