"""Less memory per loaded chunk, same ``Chunk`` objects: a server holds every chunk of the live generation (100k
at a district's scale), and each ``Chunk`` parsed from ``chunks.jsonl`` carried its own copies of its document's
title, source, 文号, date, issuer and of its section path, plus its own pydantic fields-set (a 12-name ``set``,
728 bytes: a third of the chunk's overhead).

``ChunkCompactor`` makes chunks of one load share them: one string per distinct value, and one fields-set for the
chunks that have every field set (all chunks read from a generation file). Sharing that set changes nothing:
assigning a field or ``model_copy(update=…)`` adds a name the set already holds.
"""

from __future__ import annotations

from assistant.types import Chunk

SHARED_FIELDS = ("source", "title", "doc_number", "date", "issuer", "section", "heading", "simplified")
ALL_FIELDS = frozenset(Chunk.model_fields)


class ChunkCompactor:
    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._all_set: set[str] = set(ALL_FIELDS)

    def __call__(self, chunk: Chunk) -> Chunk:
        values = chunk.__dict__
        for name in SHARED_FIELDS:
            value = values[name]
            values[name] = self._strings.setdefault(value, value)
        if chunk.__pydantic_fields_set__ == ALL_FIELDS:
            object.__setattr__(chunk, "__pydantic_fields_set__", self._all_set)
        return chunk
