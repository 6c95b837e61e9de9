"""Traditional-Chinese documents found by simplified questions.

A chunk of a document written in traditional characters (a Hong Kong/Taiwan/Macao text, an old notice) gets a
simplified form (OpenCC ``t2s``) that BM25 and the relevance gate read beside the original; the chunk text itself,
and so every quote, stays verbatim. Simplified text converts to itself and gets no extra field.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _converter() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in simplified characters (phrase-aware, so the length may change: never use it for offsets)."""
    with _lock:  # the pure-Python converter keeps per-call state
        return _converter().convert(text)


@lru_cache(maxsize=1024)
def readable(text: str) -> str:
    """``to_simplified``, remembered: the answerer matches a traditional document's sentences, headings and text
    against the (simplified) question for every question that retrieves them."""
    return to_simplified(text)
