"""The one interface in front of shared state: sessions, WeChat/WeCom dedupe and answer cache, rate-limit
counters, feedback, wechatpy tokens. Every feature goes through these methods, so SQLite (one machine) and Redis
(replicas on several machines) are interchangeable; ``tests/assistant/test_store.py`` runs the same tests on both."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol, runtime_checkable


class KV(NamedTuple):
    """One key/value write for ``Store.set_many``."""

    ns: str
    key: str
    value: Any
    ttl_s: float | None = None


@runtime_checkable
class Store(Protocol):
    """Values are JSON-serialisable; a ``ttl_s`` of None (or 0) means no expiry."""

    def get(self, ns: str, key: str) -> Any | None:
        """The live value, or None (absent or expired)."""
        ...

    def set(self, ns: str, key: str, value: Any, ttl_s: float | None = None) -> None: ...

    def set_many(self, items: Iterable[KV]) -> None:
        """Write several keys at once, all or none (one transaction)."""
        ...

    def add_if_absent(self, ns: str, key: str, value: Any, ttl_s: float | None = None) -> bool:
        """Atomically claim ``key``: True for the first caller (across processes and machines), False while it lives."""
        ...

    def delete(self, ns: str, key: str) -> None: ...

    def hit(self, ns: str, key: str, window_s: int) -> int:
        """Count one event in the current fixed window (aligned to epoch multiples of ``window_s``); the count so far."""
        ...

    def append(self, ns: str, value: Any) -> int:
        """Add an entry to an append-only log; its id (increasing)."""
        ...

    def entries(self, ns: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Log entries, newest first: ``{"id", "created", **value}``."""
        ...

    def purge(self) -> None:
        """Drop expired rows (a no-op where the backend expires keys itself)."""
        ...
