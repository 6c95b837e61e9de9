"""Embedding backends behind LangChain's ``Embeddings`` interface, chosen by ``ASSISTANT_EMBEDDING``."""

from embeddings.base import PolicyEmbeddings, get_embeddings

__all__ = ["PolicyEmbeddings", "get_embeddings"]
