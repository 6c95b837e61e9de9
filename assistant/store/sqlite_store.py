"""The embedded shared-state store: SQLite (WAL) under the data dir, seen by every worker process of one machine.

Replicas on several machines use ``RedisStore`` instead (``ASSISTANT_REDIS_URL``), behind the same methods."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.store.base import KV


class SqliteStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        # Writers of this process queue here. Left to SQLite, concurrent writers get SQLITE_BUSY and its busy
        # handler sleeps 1–100 ms between retries, which under load costs more than the writes themselves.
        # Other processes (``--workers``) still meet at SQLite's lock.
        self._write_lock = threading.Lock()
        with self._conn() as db:
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS kv (ns TEXT, key TEXT, value TEXT, expires REAL, PRIMARY KEY (ns, key));
                CREATE TABLE IF NOT EXISTS counters (ns TEXT, key TEXT, window INTEGER, n INTEGER,
                    PRIMARY KEY (ns, key, window));
                CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT, created REAL, value TEXT);
                CREATE INDEX IF NOT EXISTS log_ns ON log (ns, id);
                """
            )

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            yield self._conn()

    # ---- key/value with TTL ---------------------------------------------------------------------------
    def get(self, ns: str, key: str) -> Any | None:
        row = self._conn().execute("SELECT value, expires FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
        if row is None or (row[1] is not None and row[1] < time.time()):
            return None
        return json.loads(row[0])

    def set(self, ns: str, key: str, value: Any, ttl_s: float | None = None) -> None:
        self.set_many([KV(ns, key, value, ttl_s)])

    def set_many(self, items: Iterable[KV]) -> None:
        """Write several keys in one transaction (one commit instead of one per key)."""
        now = time.time()
        rows = [
            (it.ns, it.key, json.dumps(it.value, ensure_ascii=False), now + it.ttl_s if it.ttl_s else None)
            for it in items
        ]
        if not rows:
            return
        sql = "INSERT OR REPLACE INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?)"
        with self._writing() as db:
            if len(rows) == 1:
                db.execute(sql, rows[0])
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def add_if_absent(self, ns: str, key: str, value: Any, ttl_s: float | None = None) -> bool:
        """Atomically claim ``key``: True for the first caller (across processes), False while it lives."""
        now = time.time()
        with self._writing() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT expires FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
                if row is not None and (row[0] is None or row[0] >= now):
                    db.execute("COMMIT")
                    return False
                db.execute(
                    "INSERT OR REPLACE INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?)",
                    (ns, key, json.dumps(value, ensure_ascii=False), now + ttl_s if ttl_s else None),
                )
                db.execute("COMMIT")
                return True
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def delete(self, ns: str, key: str) -> None:
        with self._writing() as db:
            db.execute("DELETE FROM kv WHERE ns=? AND key=?", (ns, key))

    # ---- fixed-window counters (rate limits) ------------------------------------------------------------
    def hit(self, ns: str, key: str, window_s: int) -> int:
        """Count one event in the current window and return the count so far."""
        window = int(time.time() // window_s) * window_s  # the window's start, in epoch seconds
        with self._writing() as db:
            db.execute(
                "INSERT INTO counters (ns, key, window, n) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (ns, key, window) DO UPDATE SET n = n + 1",
                (ns, key, window),
            )
            row = db.execute("SELECT n FROM counters WHERE ns=? AND key=? AND window=?", (ns, key, window)).fetchone()
        return int(row[0])

    # ---- append-only log (feedback) -----------------------------------------------------------------------
    def append(self, ns: str, value: Any) -> int:
        with self._writing() as db:
            cur = db.execute(
                "INSERT INTO log (ns, created, value) VALUES (?, ?, ?)", (ns, time.time(), json.dumps(value, ensure_ascii=False))
            )
            return int(cur.lastrowid or 0)

    def entries(self, ns: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT id, created, value FROM log WHERE ns=? ORDER BY id DESC LIMIT ? OFFSET ?", (ns, limit, offset)
        ).fetchall()
        return [{"id": r[0], "created": r[1], **json.loads(r[2])} for r in rows]

    def purge(self) -> None:
        now = time.time()
        with self._writing() as db:
            db.execute("DELETE FROM kv WHERE expires IS NOT NULL AND expires < ?", (now,))
            db.execute("DELETE FROM counters WHERE window < ?", (int(now) - 86400,))
