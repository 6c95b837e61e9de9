"""Chinese lexical search: jieba search-mode tokens + BM25 (bm25s), saved beside the vector index."""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from assistant.rules import LexicalRules, default_rules

DF_EXACT = 4096  # doc_freq counts exactly up to this many candidate texts, then on an even sample of them
TERM_CACHE_MAX = 100_000  # doc_freq / used answers kept per index (~10 MB), then the caches start over
V = TypeVar("V")
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")

log = logging.getLogger(__name__)


_tok_lock = threading.Lock()
_init_lock = threading.Lock()


@lru_cache(maxsize=1)
def _build_tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def _tokenizer() -> Any:
    """One jieba tokenizer per process, built on first use (not at import), once even under concurrency."""
    with _init_lock:
        return _build_tokenizer()


def _default_lexical() -> LexicalRules:
    """The ``lexical`` rules when a caller passes none: BM25 at ingest and query time must tokenise alike."""
    return default_rules().lexical


@lru_cache(maxsize=4)
def _phrasing_words(tags: frozenset[str]) -> frozenset[str]:
    """Dictionary words jieba tags with one of ``tags`` (rules ``lexical.phrasing_tags``: adverb, pronoun,
    numeral, time word …), read from its dict file (~28k words)."""
    words = set()
    with _build_tokenizer().get_dict_file() as fh:  # callers hold _init_lock
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3 and parts[2] in tags:
                words.add(parts[0])
    return frozenset(words)


def warm_up(rules: LexicalRules | None = None) -> None:
    _tokenizer()
    tags = (rules or _default_lexical()).phrasing_tags
    with _init_lock:
        _phrasing_words(tags)


def phrasing_word(word: str, rules: LexicalRules | None = None) -> bool:
    """True for a dictionary word of a function class (rules ``lexical.phrasing_tags``): 到底, 那块, 明天, 每次 …"""
    tags = (rules or _default_lexical()).phrasing_tags
    with _init_lock:
        return word in _phrasing_words(tags)


def known_word(word: str) -> int:
    """Frequency of ``word`` in jieba's dictionary (0 when jieba would only guess it)."""
    return int(_tokenizer().FREQ.get(word) or 0)


def tokenize(text: str, search_mode: bool = True, rules: LexicalRules | None = None) -> list[str]:
    """Lower-cased jieba tokens without punctuation and stop words (rules ``lexical.stopwords``; search mode adds
    sub-words)."""
    stopwords = (rules or _default_lexical()).stopwords
    tok = _tokenizer()
    with _tok_lock:
        words = tok.lcut_for_search(text) if search_mode else tok.lcut(text)
    return [w.lower() for w in (w.strip() for w in words) if w and _TOKEN_OK.search(w) and w not in stopwords]


def in_dictionary(word: str) -> bool:
    """Whether jieba's dictionary has ``word`` (a word its HMM made up for unknown text has no entry)."""
    with _init_lock:
        return bool(_build_tokenizer().FREQ.get(word))


def salient_terms(question: str, rules: LexicalRules | None = None) -> list[str]:
    """Content words of a question (precise mode, de-duplicated, order kept)."""
    seen: dict[str, None] = {}
    for w in tokenize(question, search_mode=False, rules=rules):
        if len(w) >= 2 or not w.isascii():
            seen.setdefault(w, None)
    return list(seen)


PARALLEL_MIN = 5000  # texts; below this, worker processes do not pay for themselves
_BATCH = 1000


def _tokenize_batch(texts: list[str]) -> list[list[str]]:
    return [tokenize(t) for t in texts]


def _fresh_locks() -> None:
    """In a forked worker: another thread of the parent (a server answering) may have held a lock at the fork."""
    global _tok_lock, _init_lock
    _tok_lock, _init_lock = threading.Lock(), threading.Lock()


def tokenize_all(texts: list[str], progress: bool = False) -> Iterator[list[str]]:
    """``tokenize`` of every text, in order; on every core for a big corpus (jieba is pure Python, ~1k chunks/s
    on one core). Workers are forked after the tokenizer is loaded, so they start at once and tokenise exactly
    as this process does (same dictionary, same rules)."""
    from tqdm import tqdm

    workers = min(os.cpu_count() or 1, 8)
    parallel = workers > 1 and len(texts) >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods()
    with tqdm(total=len(texts), desc="分词", unit="chunk", disable=not progress) as bar:
        if not parallel:
            for t in texts:
                yield tokenize(t)
                bar.update(1)
            return
        tokenize("预热")  # dictionary and rules loaded once, before the fork
        batches = [texts[i : i + _BATCH] for i in range(0, len(texts), _BATCH)]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_fresh_locks) as pool:
            for batch in pool.map(_tokenize_batch, batches):
                yield from batch
                bar.update(len(batch))


FULL_SORT_MAX = 20000  # BM25 scores of at most this many chunks are fully sorted (the order the eval was fitted on)
CHARS, CHAR_BITS = "chars.json", "chars.npy"


class CharIndex:
    """For each character, a bitset of the texts containing it. A text containing a term contains each of its
    characters, so AND-ing their bitsets gives the only texts worth the substring test: ``doc_freq`` stays exact
    without scanning 100k texts per new term (~20 ms each at that size)."""

    def __init__(self, rows: dict[str, int], bits: np.ndarray, n: int) -> None:
        self.rows, self.bits, self.n = rows, bits, n

    @classmethod
    def build(cls, texts: list[str]) -> CharIndex:
        postings: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            for ch in set(text):
                postings.setdefault(ch, []).append(i)
        n = len(texts)
        bits = np.zeros((len(postings), (n + 7) // 8), dtype=np.uint8)
        row = np.zeros(n, dtype=bool)
        for r, docs in enumerate(postings.values()):
            row[:] = False
            row[docs] = True
            bits[r] = np.packbits(row)
        return cls({ch: r for r, ch in enumerate(postings)}, bits, n)

    def save(self, path: Path) -> None:
        (path / CHARS).write_text(json.dumps(self.rows, ensure_ascii=False), encoding="utf-8")
        np.save(path / CHAR_BITS, self.bits)

    @classmethod
    def load(cls, path: Path, n: int) -> CharIndex | None:
        """None for a generation built before the character index (``doc_freq`` then scans every text)."""
        if not (path / CHARS).exists():
            return None
        rows = json.loads((path / CHARS).read_text(encoding="utf-8"))
        return cls(rows, np.load(path / CHAR_BITS, mmap_mode="r"), n)

    def candidates(self, term: str) -> np.ndarray:
        """Indexes of the texts that hold every character of ``term``."""
        rows = []
        for ch in set(term):
            r = self.rows.get(ch)
            if r is None:
                return np.zeros(0, dtype=np.int64)
            rows.append(r)
        if not rows:
            return np.arange(self.n)
        acc = np.bitwise_and.reduce(self.bits[sorted(rows)], axis=0)
        return np.flatnonzero(np.unpackbits(acc, count=self.n))


def _remember(cache: dict[str, V], term: str, value: V) -> V:
    """``cache[term] = value``, the cache starting over at ``TERM_CACHE_MAX`` (a long-running server meets ever
    new terms)."""
    if len(cache) >= TERM_CACHE_MAX:
        cache.clear()
    cache[term] = value
    return value


class LexicalIndex:
    def __init__(self, retriever: Any, ids: list[str], texts: list[str], chars: CharIndex | None = None) -> None:
        self.retriever = retriever
        self.ids = ids
        self.texts = texts  # lexical texts, lower-cased, for coverage checks
        self.chars = chars  # which texts hold each character: narrows doc_freq's substring scan
        self._df_cache: dict[str, int] = {}
        self._used: dict[str, bool] = {}  # used() answers for terms whose count was never needed

    @classmethod
    def build(cls, ids: list[str], texts: list[str], progress: bool = False) -> LexicalIndex:
        """BM25 over the jieba tokens of ``texts``. Tokens become integer ids as they arrive (one shared int per
        vocabulary entry): lists of token strings for 100k chunks held ~2 GB until bm25s was done with them."""
        import bm25s
        from bm25s.tokenization import Tokenized

        vocab: dict[str, int] = {}
        token_ids = [[vocab.setdefault(t, len(vocab)) for t in toks or ["\u2205"]] for toks in tokenize_all(texts, progress)]
        retriever = bm25s.BM25()
        if token_ids:
            retriever.index(Tokenized(ids=token_ids, vocab=vocab), show_progress=False)
        lowered = [t.lower() for t in texts]
        return cls(retriever, ids, lowered, CharIndex.build(lowered))

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.ids:
            self.retriever.save(str(path / "bm25"))
        (path / "ids.json").write_text(json.dumps({"ids": self.ids, "texts": self.texts}, ensure_ascii=False))
        if self.chars is not None:
            self.chars.save(path)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        data = json.loads((path / "ids.json").read_text())
        retriever = bm25s.BM25.load(str(path / "bm25")) if data["ids"] else bm25s.BM25()
        return cls(retriever, data["ids"], data["texts"], CharIndex.load(path, len(data["texts"])))

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; only ids in ``allowed`` when given."""
        if not self.ids:
            return []
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self.retriever.get_scores(tokens))
        if allowed is None and len(scores) > FULL_SORT_MAX and k < len(scores):
            # the k best (and every tie with the k-th) instead of sorting the whole corpus (~6 ms at 100k)
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            top = np.flatnonzero(scores >= kth)
            order = top[np.argsort(-scores[top], kind="stable")]
        else:
            order = np.argsort(-scores)
        out: list[tuple[str, float]] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= k:
                break
            cid = self.ids[int(i)]
            if allowed is None or cid in allowed:
                out.append((cid, float(scores[i])))
        return out

    def doc_freq(self, term: str) -> int:
        """Chunks whose text contains ``term`` as a substring (robust to tokenisation differences). Exact up to
        ``DF_EXACT`` candidate texts; past that (a frequent term in a large library: 企业 is in 41k of 100k
        chunks) counted on an even sample of them and scaled, which moves its IDF by < 0.01 and saves ~10 ms a
        new term. ``used`` stays exact."""
        term = term.lower()
        known = self._df_cache.get(term)
        if known is None:
            candidates = self._candidates(term)
            step = max(1, -(-len(candidates) // DF_EXACT))  # ceil: 1 while there are at most DF_EXACT
            sample = candidates[::step].tolist()
            found = sum(map(str.__contains__, map(self.texts.__getitem__, sample), repeat(term)))
            known = _remember(self._df_cache, term, found if step == 1 else round(found * len(candidates) / len(sample)))
        return known

    def used(self, term: str) -> bool:
        """Does any chunk's text contain ``term``? (``doc_freq(term) > 0``, stopping at the first text.)"""
        term = term.lower()
        known = self._df_cache.get(term)
        if known is not None:
            return known > 0
        used = self._used.get(term)
        if used is None:
            pool = map(self.texts.__getitem__, self._candidates(term).tolist())
            used = _remember(self._used, term, any(map(str.__contains__, pool, repeat(term))))
        return used

    def _candidates(self, term: str) -> np.ndarray:
        """Indexes of the texts worth the substring test (every text for a generation without the character
        index)."""
        return self.chars.candidates(term) if self.chars is not None else np.arange(len(self.texts))

    def idf(self, term: str) -> float:
        n = len(self.texts)
        return math.log((n + 1) / (self.doc_freq(term) + 0.5))
