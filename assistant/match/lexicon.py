"""Find a taxonomy dimension's words in text: longest word first, non-overlapping, offsets kept.

"海外人才" wins over "海外" inside one dimension; different dimensions are searched independently (a word
such as "博士后" may signal both a kind and a target group).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

from assistant.match.taxonomy import Taxonomy

Side = Literal["profile", "measure"]

# A profile word right after one of these is negated: "暂不需要贷款", "没有融资需求" (the latter not handled).
_NEGATION = re.compile(r"(?:不|无|没|暂不|无需|不再)(?:需要|想要|想|要|用|打算|考虑|缺)?$")


@dataclass(frozen=True)
class Found:
    name: str  # the term's name, e.g. "融资/信贷"
    word: str  # the text as it occurs
    start: int
    end: int


class Lexicon:
    def __init__(self, words: dict[str, list[str]]) -> None:
        self._owners = {w.lower(): names for w, names in words.items()}
        ordered = sorted(words, key=lambda w: (-len(w), w))
        parts = []
        for w in ordered:
            body = re.escape(w)
            if w.isascii() and re.search(r"[A-Za-z0-9]", w):
                body = rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])"
            parts.append(body)
        self._pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def find(self, text: str, skip_negated: bool = False) -> list[Found]:
        if not text or self._pattern is None:
            return []
        out: list[Found] = []
        for m in self._pattern.finditer(text):
            if skip_negated and _NEGATION.search(text[max(0, m.start() - 4) : m.start()]):
                continue
            for name in self._owners.get(m.group(0).lower(), []):
                out.append(Found(name, m.group(0), m.start(), m.end()))
        return out

    def names(self, text: str, skip_negated: bool = False) -> dict[str, list[str]]:
        """term name → distinct words found, in order of first occurrence."""
        out: dict[str, list[str]] = {}
        for f in self.find(text, skip_negated):
            words = out.setdefault(f.name, [])
            if f.word not in words:
                words.append(f.word)
        return out


_cache: dict[tuple[str, str, str], Lexicon] = {}
_lock = threading.Lock()


def lexicon(taxonomy: Taxonomy, field: str, side: Side) -> Lexicon:
    key = (taxonomy.fingerprint, field, side)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
    words: dict[str, list[str]] = {}
    for term in taxonomy.terms(field):
        for w in term.words_for(side):
            owners = words.setdefault(w, [])
            if term.name not in owners:
                owners.append(term.name)
    built = Lexicon(words)
    with _lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = built
    return built


def word_lexicon(words: list[str], name: str = "") -> Lexicon:
    """An ad-hoc lexicon (trigger words, condition-check words)."""
    return Lexicon({w: [name or w] for w in words})
