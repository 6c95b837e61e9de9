"""Loaded chunks share their recurring strings and fields-set, and behave exactly like freshly parsed ones."""

from __future__ import annotations

from assistant.index.compact import ChunkCompactor
from assistant.types import Chunk

ROW = {"id": "c1", "source": "a.md", "title": "关于印发某办法的通知", "doc_number": "长科委〔2025〕13号",
       "date": "2025-07-25", "issuer": "长宁区科委", "section": "一、总则", "heading": "一、总则", "ordinal": 0,
       "start": 0, "text": "第一条 为了……", "simplified": ""}


def _load(n: int) -> list[Chunk]:
    compact = ChunkCompactor()
    return [compact(Chunk.model_validate_json(Chunk(**{**ROW, "id": f"c{i}", "ordinal": i}).model_dump_json())) for i in range(n)]


def test_loaded_chunks_share_strings_and_fields_set_and_dump_as_before() -> None:
    a, b = _load(2)
    assert a.title is b.title and a.section is b.section and a.source is b.source
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    fresh = Chunk.model_validate_json(Chunk(**{**ROW, "id": "c0"}).model_dump_json())
    assert a.model_dump() == fresh.model_dump() and a.model_dump(exclude_unset=True) == fresh.model_dump(exclude_unset=True)


def test_assigning_or_copying_one_chunk_leaves_the_others_alone() -> None:
    a, b = _load(2)
    a.section = "二、附则"
    c = b.model_copy(update={"title": "另一个标题"})
    assert b.section == "一、总则" and b.title == ROW["title"] and c.title == "另一个标题"
    assert b.model_fields_set == set(Chunk.model_fields), "every field is still set, nothing else was added"


def test_a_chunk_without_every_field_keeps_its_own_fields_set() -> None:
    compact = ChunkCompactor()
    partial = compact(Chunk.model_validate_json('{"id": "x", "source": "a.md", "title": "t", "text": "正文"}'))
    assert partial.model_fields_set == {"id", "source", "title", "text"}
    partial.heading = "h"
    assert compact(Chunk.model_validate_json('{"id": "y", "source": "a.md", "title": "t", "text": "正文"}')).model_fields_set == {
        "id", "source", "title", "text"}
