"""Sentence vectors: every sentence of every chunk, embedded once at ingest by the same model as the chunks.

The answerer compares the question with the sentences of the retrieved passages, so that a paraphrase
("房补" for 租房补贴, "截止" for 申报时间为…至…) still finds the sentence that answers. Vectors go through the
embedding cache like the chunks' (no text is embedded twice) and are stored with the index generation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answer.text import content_spans
from assistant.types import Chunk
from embeddings.base import PolicyEmbeddings
from embeddings.bulk import embed_in_batches

ROWS = "rows.json"
VECTORS = "vectors.npy"


@dataclass
class SentenceIndex:
    """Rows ``(chunk_id, start, end)`` (offsets into the chunk text) with one unit vector each."""

    rows: list[tuple[str, int, int]]
    vectors: np.ndarray  # float32, shape (len(rows), dim), L2-normalised
    _by_chunk: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for i, (cid, _, _) in enumerate(self.rows):
            self._by_chunk.setdefault(cid, []).append(i)

    @classmethod
    def build(cls, chunks: list[Chunk], embeddings: PolicyEmbeddings, batch: int = 512, progress: bool = False) -> SentenceIndex:
        rows: list[tuple[str, int, int]] = []
        texts: list[str] = []
        for c in chunks:
            for sp in content_spans(c.text, c.section):
                rows.append((c.id, sp.start, sp.end))
                texts.append(sp.text)
        return cls(rows, _normalise(embed_in_batches(embeddings, texts, "句子向量", "句", progress, batch)))

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / ROWS).write_text(json.dumps(self.rows), encoding="utf-8")
        np.save(path / VECTORS, self.vectors)

    @classmethod
    def load(cls, path: Path) -> SentenceIndex | None:
        """None for a generation built before sentence vectors existed (the answerer then scores lexically)."""
        if not (path / ROWS).exists():
            return None
        rows = [tuple(r) for r in json.loads((path / ROWS).read_text(encoding="utf-8"))]
        # Memory-mapped: a question reads the sentences of its few retrieved chunks, so only those pages are
        # resident (100k chunks have ~500k sentence vectors, 0.8 GB if read whole).
        return cls(rows, np.load(path / VECTORS, mmap_mode="r"))  # type: ignore[arg-type]

    def similarities(self, query: np.ndarray, chunk_id: str) -> dict[tuple[int, int], float]:
        """Cosine of the (unit) query vector with each sentence of a chunk, keyed by the sentence's offsets."""
        idx = self._by_chunk.get(chunk_id)
        if not idx or not self.vectors.size:
            return {}
        sims = self.vectors[idx] @ query
        return {(self.rows[i][1], self.rows[i][2]): float(s) for i, s in zip(idx, sims, strict=True)}


def _normalise(m: np.ndarray) -> np.ndarray:
    if not m.size:
        return m
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


def unit(vector: list[float]) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n else v
