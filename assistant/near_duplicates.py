"""Near-duplicate passages count once in retrieval.

A policy library repeats itself: a district forwards a municipal notice (转发), the same measures are re-issued
year after year under a new 文号, a 申报通知 copies its 若干措施 item by item. Counted one by one, the copies of
one paragraph fill both retrievers' candidate lists, and the passage that answers — often the only other one
on the subject — never reaches the top-k. Peers (RAGFlow, QAnything) de-duplicate retrieved passages for the
same reason.

So candidates are grouped before rank fusion: a group's rank in a retriever's list counts distinct groups, not
copies, and the group is one hit — its first candidate stands for it, the other copies' documents are listed in
``Hit.also_in`` so nothing found is hidden from the reader. With no duplicates every candidate is its own group
and the ranking is the plain one.

Two passages are near duplicates when the Jaccard similarity of their character 4-gram sets reaches the
threshold (``Settings.duplicate_similarity``). Renumbered headings (三、 for 二、), a chunk that ends a few
characters later (a signature line) or one sentence added to a paragraph stay above 0.8; two items of one list
stay far below it. (Sampling the 4-grams to save time was tried: on passages of ~70 characters the estimate
fell from 0.83 to 0.71 and copies stayed apart.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.ingest.headings import HEADING_KINDS
from assistant.recent import Recent

SHINGLE = 4
BOTTOM = 16  # bottom-k sketch size
BOTTOM_SHARED = 8  # hashes two bottom-k sketches must share before the exact comparison
_SPACE = re.compile(r"\s+")


_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads the packed 4-grams over 64 bits


def hashed_grams(text: str) -> np.ndarray:
    """The character 4-grams of ``text`` without whitespace, each packed into 64 bits (16 per character: a
    character beyond the BMP may collide, harmlessly) and hashed; unique and sorted, so the first few are a
    min-hash sample."""
    t = _SPACE.sub("", text)
    cps = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) & np.uint64(0xFFFF)
    if not len(cps):
        return cps
    if len(cps) < SHINGLE:  # a text shorter than a gram is one gram, zero-padded
        cps = np.concatenate([cps, np.zeros(SHINGLE - len(cps), dtype=np.uint64)])
    packed = (cps[:-3] << np.uint64(48)) | (cps[1:-2] << np.uint64(32)) | (cps[2:-1] << np.uint64(16)) | cps[3:]
    return np.unique(packed * _MIX)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two ``hashed_grams`` arrays (unique, sorted)."""
    if not len(a) or not len(b):
        return 0.0
    if min(len(a), len(b)) < 0.5 * max(len(a), len(b)):
        return min(len(a), len(b)) / max(len(a), len(b))  # an upper bound, already far below any threshold used
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


# every heading number ingest knows (assistant/ingest/headings.py), at the start of any line
_NUMBERS = re.compile("|".join(f"(?:{p.pattern.removeprefix('^')})" for _kind, _rank, p in HEADING_KINDS).join(
    (r"^[ \t\u3000]*(?:", ")")), re.M)


def exact_key(text: str) -> int:
    """The same for two passages that differ only in whitespace and in their lines' heading numbers (三、 for
    二、, （二） for （四）): the copies a re-issued or forwarded document makes."""
    return hash(_SPACE.sub("", _NUMBERS.sub("", text)))


@dataclass(frozen=True)
class Mark:
    """A passage's ``hashed_grams`` and the set of its ``BOTTOM`` smallest (a bottom-k min-hash sketch)."""

    grams: np.ndarray
    bottom: frozenset[int]

    @classmethod
    def of(cls, text: str) -> Mark:
        grams = hashed_grams(text)
        return cls(grams, frozenset(grams[:BOTTOM].tolist()))


class GramCache:
    """``Mark``s and ``exact_key``s of recently retrieved chunks, by chunk id (one per index generation: ids name
    texts). Bounded: at ~300 grams a passage, the default 4,096 marks hold ~12 MB; keys are kept for 4× as many."""

    def __init__(self, size: int = 4096) -> None:
        self._marks: Recent[Mark] = Recent(size)
        self._keys: Recent[int] = Recent(4 * size)

    def key(self, cid: str, text_of: Callable[[str], str]) -> int:
        return self._keys.get(cid, lambda: exact_key(text_of(cid)))

    def get(self, cid: str, text_of: Callable[[str], str]) -> Mark:
        return self._marks.get(cid, lambda: Mark.of(text_of(cid)))


class Grouper:
    """Assigns each candidate chunk to the group of the first earlier candidate it nearly duplicates.

    Two min-hash filters keep the cost per candidate flat in the number of groups: a candidate is compared only
    with the groups that share one of its ``ANCHORS`` smallest hashes (two sets with Jaccard ≥ 0.8 share each of
    those with probability ≥ 0.8: a true copy is missed with probability ≤ 0.2^ANCHORS), and exactly only when
    their bottom-``BOTTOM`` sketches share at least ``BOTTOM_SHARED`` hashes (copies at 0.8 share ~14 of 16 on
    average; passages on the same subject ~3)."""

    ANCHORS = 4

    def __init__(self, text_of: Callable[[str], str], threshold: float, cache: GramCache | None = None) -> None:
        self.text_of = text_of
        self.threshold = threshold
        self.cache = cache or GramCache(size=256)
        self.marks: dict[str, Mark] = {}  # group id -> its first candidate's mark
        self.by_anchor: dict[int, list[str]] = {}
        self.group: dict[str, str] = {}  # chunk id -> the id of its group's first candidate
        self.exact: dict[int, str] = {}  # exact_key -> group id (copies found without comparing 4-grams)

    def add(self, cid: str) -> str:
        if cid in self.group:
            return self.group[cid]
        if self.threshold > 1.0:
            self.group[cid] = cid
            return cid
        key = self.cache.key(cid, self.text_of)
        head = self.exact.get(key)
        if head is not None or self.threshold >= 1.0:
            head = head or self.exact.setdefault(key, cid)
            self.group[cid] = head
            return head
        mark = self.cache.get(cid, self.text_of)
        anchors = mark.grams[: self.ANCHORS].tolist()  # the smallest hashes
        head = None
        tried: set[str] = set()
        for a in anchors:
            for h in self.by_anchor.get(a, ()):
                if h in tried:
                    continue
                tried.add(h)
                other = self.marks[h]
                shared = len(mark.bottom & other.bottom)
                if shared >= min(BOTTOM_SHARED, len(mark.bottom), len(other.bottom)) and \
                        overlap(mark.grams, other.grams) >= self.threshold:
                    head = h
                    break
            if head is not None:
                break
        if head is None:
            head = cid
            self.marks[cid] = mark
            for a in anchors:
                self.by_anchor.setdefault(a, []).append(cid)
        self.exact[key] = head
        self.group[cid] = head
        return head


def distinct_ranks(
    lists: list[list[tuple[str, float]]], grouper: Grouper, depth: int
) -> list[list[tuple[str, str, float, int]]]:
    """For each ranked list: (group id, chunk id, score, rank among distinct groups) for its first ``depth``
    distinct groups, each group at its best-ranked copy. Candidates are grouped in interleaved rank order
    (first of each list, then second …), so a group's id is its best-ranked copy over all lists; grouping stops
    when every list has its ``depth`` groups."""
    out: list[list[tuple[str, str, float, int]]] = [[] for _ in lists]
    seen: list[set[str]] = [set() for _ in lists]
    for i in range(max((len(x) for x in lists), default=0)):
        if all(len(rows) == depth or i >= len(ranked) for rows, ranked in zip(out, lists, strict=True)):
            break
        for ranked, rows, groups in zip(lists, out, seen, strict=True):
            if i >= len(ranked) or len(rows) == depth:
                continue
            cid, score = ranked[i]
            g = grouper.add(cid)
            if g not in groups:
                groups.add(g)
                rows.append((g, cid, score, len(rows) + 1))
    return out
