"""Sentence vectors: every sentence of every chunk, embedded once at ingest by the same model as the chunks.

The answerer compares the question with the sentences of the retrieved passages, so that a paraphrase
("房补" for 租房补贴, "截止" for 申报时间为…至…) still finds the sentence that answers. Vectors go through the
embedding cache like the chunks' (no text is embedded twice) and are stored with the index generation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from assistant.answer.text import content_spans
from assistant.types import Chunk
from embeddings.base import PolicyEmbeddings
from embeddings.bulk import embed_in_batches

ROWS = "rows.json"  # [[chunk_id, start, end], …]: every generation has it (servers of earlier versions read it)
VECTORS = "vectors.npy"
SPANS, CHUNK_IDS = "spans.npy", "chunk_ids.json"  # the same rows, compact: read instead of rows.json when present


class SentenceIndex:
    """Rows ``(chunk_id, start, end)`` (offsets into the chunk text) with one unit vector each.

    Held compactly (a server holds ~300k rows at 100k chunks; as tuples they took ~80 MB): the offsets in two
    int32 arrays, and per chunk the ``range`` of its rows (a chunk's sentences are consecutive rows)."""

    def __init__(self, rows: list[tuple[str, int, int]], vectors: np.ndarray | RowFile) -> None:
        self.vectors = vectors  # float32, shape (len(rows), dim), L2-normalised
        ids, spans = _numbered(rows)
        self._index(ids, spans[:, 0], np.ascontiguousarray(spans[:, 1]), np.ascontiguousarray(spans[:, 2]))

    def _index(self, ids: list[str], chunk_no: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        """Row ``i`` is sentence ``starts[i]:ends[i]`` of chunk ``ids[chunk_no[i]]``."""
        self._starts, self._ends = starts, ends
        self._by_chunk: dict[str, range | list[int]] = {}
        bounds = [0, *(np.flatnonzero(np.diff(chunk_no)) + 1).tolist(), len(chunk_no)] if len(chunk_no) else [0]
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            cid = ids[int(chunk_no[lo])]
            have = self._by_chunk.get(cid)
            if have is None:
                self._by_chunk[cid] = range(lo, hi)
            else:  # not consecutive (never so for an index made by ``build``): the rows listed one by one
                self._by_chunk[cid] = [*have, *range(lo, hi)]

    def rows(self) -> list[tuple[str, int, int]]:
        """``(chunk_id, start, end)`` of every row, in row order."""
        out: list[tuple[str, int, int]] = [("", 0, 0)] * len(self._starts)
        for cid, idx in self._by_chunk.items():
            for i in idx:
                out[i] = (cid, int(self._starts[i]), int(self._ends[i]))
        return out

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
        rows = self.rows()
        (path / ROWS).write_text(json.dumps(rows), encoding="utf-8")
        ids, spans = _numbered(rows)
        (path / CHUNK_IDS).write_text(json.dumps(ids), encoding="utf-8")
        np.save(path / SPANS, spans)
        np.save(path / VECTORS, self.vectors)

    @classmethod
    def load(cls, path: Path) -> SentenceIndex | None:
        """None for a generation built before sentence vectors existed (the answerer then scores lexically)."""
        if not (path / ROWS).exists():
            return None
        # Read on demand: a question reads the sentences of its few retrieved chunks (100k chunks have ~300k
        # sentence vectors, 0.4 GB if read whole; memory-mapped, every page a question touched stayed resident).
        vectors = RowFile(path / VECTORS)
        if not (path / SPANS).exists():  # a generation from before the compact rows
            return cls([tuple(r) for r in json.loads((path / ROWS).read_text(encoding="utf-8"))], vectors)
        ids = json.loads((path / CHUNK_IDS).read_text(encoding="utf-8"))
        spans = np.load(path / SPANS)
        index = cls([], vectors)
        index._index(ids, spans[:, 0], np.ascontiguousarray(spans[:, 1]), np.ascontiguousarray(spans[:, 2]))
        return index

    def similarities(self, query: np.ndarray, chunk_id: str) -> dict[tuple[int, int], float]:
        """Cosine of the (unit) query vector with each sentence of a chunk, keyed by the sentence's offsets."""
        idx = self._by_chunk.get(chunk_id)
        if not idx or not self.vectors.size:
            return {}
        sims = self.vectors[list(idx)] @ query
        return {(int(self._starts[i]), int(self._ends[i])): float(s) for i, s in zip(idx, sims, strict=True)}


class RowFile:
    """Rows of a 2-d ``.npy`` file read on demand with ``os.pread`` (thread-safe, nothing mapped): ``rows[list]``
    gives the same array as ``np.load(path)[list]``; ``size`` and ``shape`` as the array's."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - open as long as the index is
        version = np.lib.format.read_magic(self._file)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(self._file)
        if fortran or len(shape) != 2:
            raise ValueError(f"{path}: expected a C-ordered 2-d array, found shape {shape}")
        self.shape: tuple[int, int] = shape
        self.size = shape[0] * shape[1]
        self.dtype = np.dtype(dtype)
        self._offset = self._file.tell()
        self._row_bytes = shape[1] * self.dtype.itemsize

    def __getitem__(self, rows: list[int]) -> np.ndarray:
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        if not out.size:
            return out
        fd, view = self._file.fileno(), memoryview(out).cast("B")
        i = 0
        while i < len(rows):  # one read per run of consecutive rows (a chunk's sentences are one run)
            j = i + 1
            while j < len(rows) and rows[j] == rows[j - 1] + 1:
                j += 1
            if rows[i] < 0 or rows[j - 1] >= self.shape[0]:
                raise IndexError(f"rows {rows[i]}..{rows[j - 1]} outside 0..{self.shape[0] - 1}")
            want = (j - i) * self._row_bytes
            got = os.preadv(fd, [view[i * self._row_bytes : j * self._row_bytes]], self._offset + rows[i] * self._row_bytes)
            if got != want:
                raise OSError(f"{self._file.name}: short read ({got} of {want} bytes)")
            i = j
        return out


def _numbered(rows: list[tuple[str, int, int]]) -> tuple[list[str], np.ndarray]:
    """The rows' distinct chunk ids in first-seen order, and the rows as an int32 ``(n, 3)`` array of
    ``(chunk number, start, end)`` — the compact form held in memory and saved as ``spans.npy``."""
    number: dict[str, int] = {}
    spans = np.asarray([(number.setdefault(cid, len(number)), s, e) for cid, s, e in rows], dtype=np.int32)
    return list(number), spans.reshape(-1, 3)


def _normalise(m: np.ndarray) -> np.ndarray:
    if not m.size:
        return m
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


def unit(vector: list[float]) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n else v
