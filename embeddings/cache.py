"""Never embed the same text twice: a SQLite cache keyed by (model, sha256(text)) around any backend."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from assistant.recent import Recent
from embeddings.base import PolicyEmbeddings


class CachedEmbeddings(PolicyEmbeddings):
    """Documents are cached on disk (so re-ingest re-embeds only changed text); queries in a bounded LRU."""

    def __init__(self, inner: PolicyEmbeddings, path: Path | None, query_cache_size: int = 2048) -> None:
        self.inner = inner
        self._path = path
        self._lock = threading.Lock()
        self._queries: Recent[list[float]] = Recent(query_cache_size)
        self.embedded_texts = 0  # how many texts reached the model (tests and the ingest report read it)
        self._db: sqlite3.Connection | None = None

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def runtime(self) -> str:
        return self.inner.runtime

    def _conn(self) -> sqlite3.Connection | None:
        if self._path is None:
            return None
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self._path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return self._db

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\x00{text}".encode()).hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [self._key(t) for t in texts]
        found: dict[str, list[float]] = {}
        with self._lock:
            db = self._conn()
            if db is not None and keys:
                for i in range(0, len(keys), 500):
                    batch = keys[i : i + 500]
                    rows = db.execute(
                        f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(batch))})", batch
                    ).fetchall()
                    found.update({k: np.frombuffer(v, dtype=np.float32).tolist() for k, v in rows})
        missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in found]
        if missing:
            unique = dict(missing)
            vectors = self.inner.embed_documents(list(unique.values()))
            self.embedded_texts += len(unique)
            new = dict(zip(unique.keys(), vectors, strict=True))
            found.update(new)
            with self._lock:
                db = self._conn()
                if db is not None:
                    db.executemany(
                        "INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                        [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in new.items()],
                    )
                    db.commit()
        return [found[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self._queries.get(text, lambda: self.inner.embed_query(text))

    def warm_up(self) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
