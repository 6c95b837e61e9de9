"""Embedding many passages at ingest: large batches (the backend sorts them by length and keeps every core
busy), float32 rows instead of Python float lists (100k × 384 floats as lists would be ~1 GB), a progress bar
with an ETA."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from embeddings.base import PolicyEmbeddings

EMBED_BATCH = 512  # texts per embedding call


def embed_in_batches(
    embeddings: PolicyEmbeddings, texts: list[str], desc: str = "", unit: str = "text", progress: bool = False,
    batch: int = EMBED_BATCH,
) -> np.ndarray:
    """Vectors of ``texts``, one float32 row each (shape ``(0, 0)`` for no texts)."""
    rows: list[np.ndarray] = []
    with tqdm(total=len(texts), desc=desc, unit=unit, disable=not progress) as bar:
        for i in range(0, len(texts), batch):
            part = texts[i : i + batch]
            rows.append(np.asarray(embeddings.embed_documents(part), dtype=np.float32).reshape(len(part), -1))
            bar.update(len(part))
    return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)
