"""Less memory per loaded chunk, same ``Chunk`` objects: a server holds every chunk of the live generation (100k
at a district's scale), and each ``Chunk`` parsed from ``chunks.jsonl`` carried its own copies of its document's
title, source, 文号, date, issuer and of its section path, plus its own pydantic fields-set (a 12-name ``set``,
728 bytes: a third of the chunk's overhead).

``ChunkCompactor`` makes chunks of one load share them: one string per distinct value, and one fields-set for the
chunks that have every field set (all chunks read from a generation file). Sharing that set changes nothing:
assigning a field or ``model_copy(update=…)`` adds a name the set already holds. ``FieldsSets`` does the latter for
any model (the matching catalogue's measures: a 21-name set is 2.2 KB each).
"""

from __future__ import annotations

from pydantic import BaseModel

from assistant.types import Chunk

SHARED_FIELDS = ("source", "title", "doc_number", "date", "issuer", "section", "heading", "simplified")


class FieldsSets:
    """One shared fields-set per model class, for the instances that have every field set."""

    def __init__(self) -> None:
        self._sets: dict[type[BaseModel], tuple[frozenset[str], set[str]]] = {}

    def share(self, model: BaseModel) -> None:
        cls = type(model)
        if cls not in self._sets:
            names = frozenset(cls.model_fields)
            self._sets[cls] = (names, set(names))
        names, shared = self._sets[cls]
        if model.__pydantic_fields_set__ == names:
            object.__setattr__(model, "__pydantic_fields_set__", shared)


class ChunkCompactor:
    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._fields_sets = FieldsSets()

    def __call__(self, chunk: Chunk) -> Chunk:
        values = chunk.__dict__
        for name in SHARED_FIELDS:
            value = values[name]
            values[name] = self._strings.setdefault(value, value)
        self._fields_sets.share(chunk)
        return chunk
