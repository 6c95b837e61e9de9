"""Vectors for a synthetic corpus in minutes: each text's vector is composed from the real model's vectors of the
real sentences it is made of.

A synthetic document is real pool sentences rearranged (``eval.bench.synth``), so the real model embeds each
distinct pool sentence once (cached on disk, reused by every later run) and a chunk gets the length-weighted
mean of its known sentences' vectors, normalised. Pieces the pool does not know (a synthetic title, a 文号, a
fragment cut by the chunk overlap) are left out of the mean; a text with no known piece at all (the buried
real documents, a header-only chunk) goes to the real model. Queries always go to the real model, so query
latency and the dense ranking are the real model's. The bench prints how many texts were composed and how many
the model embedded, and the cosine between composed and real vectors on real chunks.

``model_id`` is the real model's: the vectors live in its space (the server queries the index with the real
model). Only the bench's own temp data dirs ever hold composed vectors.
"""

from __future__ import annotations

import numpy as np

from assistant.answer.text import sentences
from embeddings.base import PolicyEmbeddings

ATOM_COVER = 0.6  # share of a text's letters template words must cover for it to be composed from them


def pieces(text: str, max_chars: int | None = None) -> list[str]:
    """The sentences of every line (the splitter the sentence index uses), within the first ``max_chars``."""
    out: list[str] = []
    pos = 0
    for line in text.split("\n"):
        if max_chars is not None and pos >= max_chars:
            break
        out.extend(sp.text for sp in sentences(line))
        pos += len(line) + 1
    return out


class ComposedEmbeddings(PolicyEmbeddings):
    """``real``: the model whose space the vectors live in (wrap it in a ``CachedEmbeddings`` so the pool is
    embedded once). ``max_chars``: a model that truncates its input (MiniLM: 256 tokens ≈ 256 Chinese characters)
    only sees the pieces that start within it."""

    def __init__(self, real: PolicyEmbeddings, max_chars: int | None = None) -> None:
        self.real = real
        self.max_chars = max_chars
        self.table: dict[str, np.ndarray] = {}
        self.atoms: list[str] = []  # template words (district, topic, kind …): what a synthetic title is made of
        self.alpha = 1.0  # deviation from the mean direction is scaled by this (``calibrate``)
        self.mean_dir: np.ndarray | None = None
        self.exact: set[str] = set()  # texts that always get the real model's vector (the buried real documents)
        self.composed = 0  # texts given a composed vector
        self.embedded = 0  # texts sent to the real model

    @property
    def model_id(self) -> str:
        return self.real.model_id

    @property
    def runtime(self) -> str:
        return self.real.runtime

    def learn(self, texts: list[str], batch: int = 256) -> int:
        """Embed the pool's pieces with the real model (once: the cache keeps them); how many are known now."""
        todo = sorted({p for t in texts for p in pieces(t)} - set(self.table))
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            for piece, vec in zip(part, self.real.embed_documents(part), strict=True):
                self.table[piece] = np.asarray(vec, dtype=np.float32)
        return len(self.table)

    def learn_atoms(self, atoms: list[str]) -> None:
        """Template words a text with no known sentence (a synthetic title, issuer line, 文号) is composed from."""
        self.learn(atoms)
        self.atoms = sorted({a for a in atoms if a in self.table}, key=len, reverse=True)

    def _mean(self, known: list[tuple[str, np.ndarray]]) -> np.ndarray:
        v = np.sum([len(p) * vec for p, vec in known], axis=0)
        v = v / (float(np.linalg.norm(v)) or 1.0)
        if self.mean_dir is not None and self.alpha != 1.0:
            # A mean of unit vectors keeps their shared direction and averages their own parts away, so it sits
            # closer to every query than a real text's vector does; scale the part off the shared direction back.
            along = float(v @ self.mean_dir) * self.mean_dir
            v = along + self.alpha * (v - along)
            v = v / (float(np.linalg.norm(v)) or 1.0)
        return v

    def compose(self, text: str) -> np.ndarray | None:
        known = [(p, self.table[p]) for p in pieces(text, self.max_chars) if p in self.table]
        if not known:
            known = self._atoms_of(text if self.max_chars is None else text[: self.max_chars])
        return self._mean(known) if known else None

    def _atoms_of(self, text: str) -> list[tuple[str, np.ndarray]]:
        """The template words of a header-like text, when they make up most of its letters (not digits or
        punctuation); a real sentence that merely names a district goes to the real model."""
        letters = [i for i, ch in enumerate(text) if ch.isalpha()]
        if not letters:
            return []
        covered: set[int] = set()
        found = []
        for atom in self.atoms:
            start = text.find(atom)
            if start < 0:
                continue
            found.append((atom, self.table[atom]))
            while start >= 0:
                covered.update(range(start, start + len(atom)))
                start = text.find(atom, start + 1)
        share = sum(1 for i in letters if i in covered) / len(letters)
        return found if share >= ATOM_COVER else []

    def calibrate(self, texts: list[str], queries: list[str]) -> dict[str, float]:
        """Choose ``alpha`` so that queries are as close to composed vectors, on average, as to the real model's
        vectors of the same texts (``texts``: real chunks made of pool sentences). Returns the fit."""
        self.mean_dir = None
        self.alpha = 1.0
        pairs = [(t, v) for t in texts if (v := self.compose(t)) is not None]
        if len(pairs) < 10:
            return {"alpha": 1.0, "texts": len(pairs)}
        table = np.array(list(self.table.values()))
        mean_dir = table.mean(axis=0)
        real = _unit(np.asarray(self.real.embed_documents([t for t, _ in pairs]), dtype=np.float32))
        q = _unit(np.asarray([self.real.embed_query(x) for x in queries], dtype=np.float32))
        target = float((q @ real.T).mean())
        before = np.array([v for _, v in pairs])
        self.mean_dir = mean_dir / np.linalg.norm(mean_dir)
        lo, hi = 1.0, 4.0
        for _ in range(30):
            self.alpha = (lo + hi) / 2
            comp = np.array([self._mean([(t, v)]) for t, v in pairs])  # one unit vector: only the correction acts
            lo, hi = (self.alpha, hi) if float((q @ comp.T).mean()) > target else (lo, self.alpha)
        comp = np.array([self._mean([(t, v)]) for t, v in pairs])
        return {"alpha": round(self.alpha, 3), "texts": len(pairs), "query_sim_real": round(target, 4),
                "query_sim_composed_before": round(float((q @ before.T).mean()), 4),
                "query_sim_composed": round(float((q @ comp.T).mean()), 4),
                "cos_to_real_before": round(float(np.mean(np.sum(before * real, 1))), 4),
                "cos_to_real": round(float(np.mean(np.sum(comp * real, 1))), 4)}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float] | None] = []
        missing: list[int] = []
        for i, text in enumerate(texts):
            v = None if text in self.exact else self.compose(text)
            if v is None:
                missing.append(i)
                out.append(None)
            else:
                out.append(v.tolist())
        self.composed += len(texts) - len(missing)
        if missing:
            vectors = self.real.embed_documents([texts[i] for i in missing])
            self.embedded += len(missing)
            for i, vec in zip(missing, vectors, strict=True):
                out[i] = list(vec)
        return out  # type: ignore[return-value]

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)

    def warm_up(self) -> None:
        self.real.warm_up()


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
