"""Shared state behind one interface (``Store``): SQLite under the data dir by default, Redis when
``ASSISTANT_REDIS_URL`` is set (API replicas on several machines then share sessions, dedupe, limits, feedback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.store.base import KV, Store
from assistant.store.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = ["KV", "SqliteStore", "Store", "make_store"]


def make_store(settings: Settings) -> Store:
    """The configured store: ``RedisStore`` when ``settings.redis_url`` is set, else SQLite under the data dir."""
    if settings.redis_url:
        from assistant.store.redis_store import RedisStore

        return RedisStore.connect(settings.redis_url, prefix=settings.redis_prefix)
    return SqliteStore(settings.data_dir / "state" / "store.sqlite")
