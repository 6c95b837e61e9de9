"""Chinese lexical search: jieba search-mode tokens + BM25 (bm25s), saved beside the vector index."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.rules import LexicalRules, default_rules

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


def salient_terms(question: str, rules: LexicalRules | None = None) -> list[str]:
    """Content words of a question (precise mode, de-duplicated, order kept)."""
    seen: dict[str, None] = {}
    for w in tokenize(question, search_mode=False, rules=rules):
        if len(w) >= 2 or not w.isascii():
            seen.setdefault(w, None)
    return list(seen)


class LexicalIndex:
    def __init__(self, retriever: Any, ids: list[str], texts: list[str]) -> None:
        self.retriever = retriever
        self.ids = ids
        self.texts = texts  # lexical texts, lower-cased, for coverage checks
        self._df_cache: dict[str, int] = {}

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> LexicalIndex:
        import bm25s

        corpus_tokens = [tokenize(t) or ["\u2205"] for t in texts]
        retriever = bm25s.BM25()
        if corpus_tokens:
            retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever, ids, [t.lower() for t in texts])

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.ids:
            self.retriever.save(str(path / "bm25"))
        (path / "ids.json").write_text(json.dumps({"ids": self.ids, "texts": self.texts}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        data = json.loads((path / "ids.json").read_text())
        retriever = bm25s.BM25.load(str(path / "bm25")) if data["ids"] else bm25s.BM25()
        return cls(retriever, data["ids"], data["texts"])

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; only ids in ``allowed`` when given."""
        if not self.ids:
            return []
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self.retriever.get_scores(tokens))
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
        """Chunks whose text contains ``term`` as a substring (robust to tokenisation differences)."""
        term = term.lower()
        if term not in self._df_cache:
            self._df_cache[term] = sum(1 for t in self.texts if term in t)
        return self._df_cache[term]

    def idf(self, term: str) -> float:
        n = len(self.texts)
        return math.log((n + 1) / (self.doc_freq(term) + 0.5))
