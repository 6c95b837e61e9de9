"""Multi-turn sessions: the prior user questions of a ``session_id``, kept in the shared ``Store``.

Bounded twice: each session keeps at most ``settings.session_max_turns`` questions and expires
``settings.session_ttl_s`` seconds after its last turn. Expired rows are purged now and then.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable

from assistant.settings import Settings
from assistant.store import KV, Store

NAMESPACE = "session"
PURGE_EVERY_S = 600

_last_purge = float("-inf")
_purge_lock = threading.Lock()


def new_session_id() -> str:
    return uuid.uuid4().hex


def history(store: Store, session_id: str | None) -> list[str]:
    """Earlier user questions of the session, oldest first (``[]`` for a new or expired session)."""
    if not session_id:
        return []
    data = store.get(NAMESPACE, session_id)
    return list(data.get("questions", [])) if isinstance(data, dict) else []


def record(
    store: Store, settings: Settings, session_id: str, question: str, previous: list[str], also: Iterable[KV] = ()
) -> list[str]:
    """Append ``question`` to the session and refresh its expiry; returns the kept questions.

    ``also``: other writes of the same request (the answer kept for feedback), committed in the same transaction.
    """
    kept = [*previous, question][-max(1, settings.session_max_turns) :]
    turn = KV(NAMESPACE, session_id, {"questions": kept, "updated": time.time()}, settings.session_ttl_s)
    store.set_many([turn, *also])
    _maybe_purge(store)
    return kept


def _maybe_purge(store: Store) -> None:
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_EVERY_S:
        return
    with _purge_lock:
        if now - _last_purge < PURGE_EVERY_S:
            return
        _last_purge = now
    store.purge()
