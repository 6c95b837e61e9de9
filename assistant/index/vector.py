"""Chroma behind LangChain's vector store: the client is injected (embedded by default, server by config)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import ConfigError, EmbeddingMismatchError
from assistant.types import Chunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from assistant.settings import Settings
    from embeddings.base import PolicyEmbeddings


def make_client(settings: Settings) -> ClientAPI:
    """``PersistentClient`` under the data dir, or ``HttpClient`` when ``ASSISTANT_CHROMA_HOST`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
        except Exception as exc:  # noqa: BLE001 - chromadb raises several connection error types
            raise ConfigError(
                f"连接 Chroma 服务 {settings.chroma_host}:{settings.chroma_port} 失败：{exc}",
                "请确认已运行 `chroma run --path <dir> --port <port>`，或清空 ASSISTANT_CHROMA_HOST 以使用内置存储。",
            ) from exc
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorIndex:
    """One Chroma collection (one index generation) seen through ``langchain_chroma.Chroma``."""

    def __init__(self, client: ClientAPI, name: str, embeddings: PolicyEmbeddings, create: bool = False) -> None:
        from langchain_chroma import Chroma

        self.client = client
        self.name = name
        self.embeddings = embeddings
        if not create:
            existing = client.get_collection(name)  # raises if missing
            built_with = (existing.metadata or {}).get("embedding_model")
            if built_with and built_with != embeddings.model_id:
                raise EmbeddingMismatchError(
                    f"索引由向量模型 {built_with} 构建，当前配置的是 {embeddings.model_id}",
                    "请重新运行 `assistant ingest`，或把 ASSISTANT_EMBEDDING 改回原来的模型。",
                )
        self._count: int | None = None
        self.store = Chroma(
            client=client,
            collection_name=name,
            embedding_function=embeddings,
            collection_metadata={"hnsw:space": "cosine", "embedding_model": embeddings.model_id},
            create_collection_if_not_exists=create,
        )

    def add(self, chunks: list[Chunk], vectors: Sequence[Sequence[float]] | None = None, batch_size: int = 0) -> None:
        """Add chunks; with ``vectors`` (their dense-text embeddings, computed by the caller in large batches)
        nothing is embedded here. Rows go to Chroma in batches of its own maximum (~5k, ``batch_size`` to cap it):
        one round trip per batch, not per chunk."""
        self._count = None
        if vectors is None:
            vectors = self.embeddings.embed_documents([c.dense_text() for c in chunks])
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        collection = self.store._collection
        size = batch_size or _max_batch(self.client)
        for i in range(0, len(chunks), size):
            batch = chunks[i : i + size]
            collection.upsert(
                ids=[c.id for c in batch],
                embeddings=np.asarray(vectors[i : i + size], dtype=np.float32),
                metadatas=[c.chroma_metadata() for c in batch],  # type: ignore[misc]
                documents=[c.dense_text() for c in batch],
            )

    def count(self) -> int:
        """Chunks in the collection. A generation never changes after the swap, so the count is cached."""
        if self._count is None:
            self._count = self.store._collection.count()
        return self._count

    def search(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        k = min(k, max(self.count(), 1))
        res = self.store._collection.query(
            query_embeddings=[vector], n_results=k, where=where or None, include=["distances"]
        )
        ids = res["ids"][0] if res["ids"] else []
        dists = res["distances"][0] if res.get("distances") else [0.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]


def _max_batch(client: ClientAPI) -> int:
    try:
        return max(1, int(client.get_max_batch_size()))
    except Exception:  # noqa: BLE001 - older clients / servers without the call
        return 1000


def drop_collection(client: ClientAPI, name: str) -> None:
    try:
        client.delete_collection(name)
    except Exception:  # noqa: BLE001 - already gone is fine
        pass
