"""Synonym groups (a data file, extendable per corpus) used to expand queries and judge term coverage."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "data" / "synonyms.txt"


@lru_cache(maxsize=8)
def load_synonyms(extra: str | None = None) -> dict[str, frozenset[str]]:
    """word → every word sharing a group with it (itself included). ``extra`` is an optional second file."""
    table: dict[str, set[str]] = {}
    for path in (PACKAGED, Path(extra) if extra else None):
        if path is None or not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            words = [w.lower() for w in line.split() if w]
            if len(words) < 2:
                continue
            for w in words:
                table.setdefault(w, set()).update(words)
    return {w: frozenset(group) for w, group in table.items()}


def variants(term: str, table: dict[str, frozenset[str]]) -> frozenset[str]:
    return table.get(term.lower(), frozenset((term.lower(),)))
