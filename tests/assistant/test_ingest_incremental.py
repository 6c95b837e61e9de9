"""Incremental ingest on a temp copy of the corpus plus one extra file: only what changed is embedded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.index.snapshot import GENERATIONS, read_pointer
from assistant.index.vector import make_client
from assistant.ingest.pipeline import run_ingest
from assistant.service import Assistant
from embeddings.base import PolicyEmbeddings
from embeddings.cache import CachedEmbeddings
from tests.conftest import CORPUS, PLAN, REPLY, make_settings

EXTRA = "extra/xinghe-notice.txt"
EXTRA_TEXT = """长宁区测试委员会文件
长测委〔2025〕99号
关于开展星河巡检平台试点工作的通知
各有关单位：
为推进城市精细化管理，决定在虹桥街道开展星河巡检平台试点。
一、试点内容
星河巡检平台利用无人机对辖区建筑外立面开展每周两次巡检，发现隐患当日派单处置。
二、工作要求
各单位要指定专人负责，于2025年9月30日前报送试点总结。
长宁区测试委员会
2025年8月1日
"""
EXTRA_QUESTION = "星河巡检平台每周巡检几次？"
EDIT_FROM = "字基座建设获教育部科技与信息化司领导高度认可。"
EDIT_TO = "字基座建设获教育部科技与信息化司领导高度认可，并在全市推广应用。"


class _Through(PolicyEmbeddings):
    """The session's cached real model seen as a plain backend: a fresh ``CachedEmbeddings`` around it
    counts every text it has not seen itself, while the vectors still come from the real model (fast,
    because the session cache already holds the corpus)."""

    def __init__(self, inner: PolicyEmbeddings) -> None:
        self.inner = inner

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture()
def warm_embeddings(corpus_settings, shared_embeddings) -> CachedEmbeddings:
    """The shared model once the session index is built (its cache then holds every corpus text)."""
    return shared_embeddings


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (PLAN, REPLY):
        shutil.copyfile(CORPUS / name, corpus / name)  # copyfile: the originals are read-only
    (corpus / EXTRA).parent.mkdir()
    (corpus / EXTRA).write_text(EXTRA_TEXT, encoding="utf-8")
    (corpus / ".hidden.txt").write_text("隐藏文件不导入", encoding="utf-8")
    return corpus


def _chunks(data_dir: Path) -> list[dict]:
    pointer = read_pointer(data_dir)
    assert pointer is not None
    path = data_dir / GENERATIONS / pointer["generation"] / "chunks.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _embedded(chunks: list[dict]) -> set[str]:
    """Every text ingest embeds for these chunks: each chunk's dense text and each of its sentences."""
    from assistant.answer.text import content_spans
    from assistant.types import Chunk

    out = set()
    for raw in chunks:
        c = Chunk.model_validate(raw)
        out.add(c.dense_text())
        out.update(sp.text for sp in content_spans(c.text, c.section))
    return out


def test_rerun_and_edit_embed_only_new_texts(tmp_path: Path, corpus_copy: Path, warm_embeddings) -> None:
    settings = make_settings(tmp_path / "data", corpus_dir=corpus_copy)
    # a fresh cache of its own: every text it has to embed is counted
    embeddings = CachedEmbeddings(_Through(warm_embeddings), tmp_path / "own-cache.sqlite")
    sources = sorted([PLAN, REPLY, EXTRA])

    first = run_ingest(settings, embeddings=embeddings)
    assert first.changed and sorted(first.added) == sources and not first.skipped
    chunks1 = _chunks(settings.data_dir)
    assert first.chunks == len(chunks1) and first.documents == 3
    assert first.embedded == len(_embedded(chunks1)) == embeddings.embedded_texts
    pointer1 = (settings.data_dir / "current.json").read_text()

    again = run_ingest(settings, embeddings=embeddings)
    assert (again.changed, again.embedded, again.generation) == (False, 0, first.generation)
    assert sorted(again.unchanged) == sources and not (again.added or again.updated or again.removed)
    assert (settings.data_dir / "current.json").read_text() == pointer1

    reply = corpus_copy / REPLY
    text = reply.read_text(encoding="utf-8")
    assert EDIT_FROM in text
    reply.write_text(text.replace(EDIT_FROM, EDIT_TO), encoding="utf-8")
    edited = run_ingest(settings, embeddings=embeddings)
    chunks2 = _chunks(settings.data_dir)
    assert edited.changed and edited.generation != first.generation
    assert edited.updated == [REPLY] and sorted(edited.unchanged) == sorted([PLAN, EXTRA])
    new_texts = _embedded([c for c in chunks2 if c["source"] == REPLY]) - _embedded(chunks1)
    reply_chunks = [c for c in chunks2 if c["source"] == REPLY]
    assert 1 <= edited.embedded == len(new_texts) < len(reply_chunks)
    assert any("领导高度认可，并在全市推广应用。" in c["text"] for c in reply_chunks)

    # ids: unchanged files keep theirs; in the edited file only the edited chunk gets a new one
    def ids(chunks: list[dict], source: str) -> list[str]:
        return [c["id"] for c in chunks if c["source"] == source]

    assert ids(chunks2, PLAN) == ids(chunks1, PLAN) and ids(chunks2, EXTRA) == ids(chunks1, EXTRA)
    changed_ids = set(ids(chunks2, REPLY)) - set(ids(chunks1, REPLY))
    new_chunk_texts = {c["text"] for c in chunks2 if c["source"] == REPLY} - {c["text"] for c in chunks1}
    assert len(changed_ids) == len(new_chunk_texts) == 1  # one chunk and its edited sentence were embedded


def test_deleted_file_leaves_vector_and_lexical_index(tmp_path: Path, corpus_copy: Path, warm_embeddings) -> None:
    shared_embeddings = warm_embeddings
    settings = make_settings(tmp_path / "data", corpus_dir=corpus_copy)
    run_ingest(settings, embeddings=shared_embeddings)
    bot = Assistant(settings, embeddings=shared_embeddings)
    before = bot.retrieve(EXTRA_QUESTION)
    assert before.hits[0].chunk.source == EXTRA
    extra_ids = {c.id for c in bot.chunks() if c.source == EXTRA}
    plan_ids = [c.id for c in bot.chunks() if c.source == PLAN]
    assert extra_ids

    (corpus_copy / EXTRA).unlink()
    report = run_ingest(settings, embeddings=shared_embeddings)
    assert report.removed == [EXTRA] and report.embedded == 0 and report.documents == 2

    pointer = read_pointer(settings.data_dir)
    collection = make_client(settings).get_collection(pointer["collection"])
    assert collection.get(where={"source": EXTRA})["ids"] == []
    assert collection.count() == report.chunks

    after = bot.retrieve(EXTRA_QUESTION)  # the assistant picks up the new generation by itself
    snap = bot.snapshot()
    assert snap.generation == report.generation
    assert after.hits, "queries still work"
    assert all(h.chunk.source != EXTRA for h in after.hits)
    assert not extra_ids & set(snap.lexical.ids)
    assert not extra_ids & {cid for cid, _ in snap.lexical.search("星河巡检平台 无人机 巡检", 50)}
    assert [c.id for c in bot.chunks() if c.source == PLAN] == plan_ids
    assert EXTRA not in {d.source for d in bot.documents()}


def test_forced_rebuild_keeps_ids_and_prunes_old_generations(
    tmp_path: Path, corpus_copy: Path, warm_embeddings
) -> None:
    shared_embeddings = warm_embeddings
    settings = make_settings(tmp_path / "data", corpus_dir=corpus_copy)
    generations = [run_ingest(settings, embeddings=shared_embeddings)]
    for _ in range(2):
        generations.append(run_ingest(settings, embeddings=shared_embeddings, force=True))
    assert len({r.generation for r in generations}) == 3
    assert all(r.changed and r.embedded == 0 for r in generations[1:])  # texts come from the cache
    # the live generation and the one before it stay (readers may still be on it); older ones go
    on_disk = {p.name for p in (settings.data_dir / GENERATIONS).iterdir()}
    assert on_disk == {generations[2].generation, generations[1].generation}
    names = {getattr(c, "name", c) for c in make_client(settings).list_collections()}
    assert names == {f"{settings.collection}-{r.generation}" for r in generations[1:]}
    assert "隐藏文件不导入" not in json.dumps(_chunks(settings.data_dir), ensure_ascii=False)


def test_generation_names_sort_by_creation_within_one_second() -> None:
    """Pruning keeps the newest generation by name: names made in the same second must still sort by creation
    (microseconds), and a name of the older seconds-only form sorts before any newer one of its second."""
    from assistant.index.publish import generation_of

    old = "g20261202T183900-ffffff"
    first, second = "g20261202T183900000001-ffffff", "g20261202T183900000002-000000"
    assert old < first < second
    assert [generation_of("policy", f"policy-{g}") for g in (old, first, second)] == [old, first, second]
    assert generation_of("policy", "policy-b-g20261202T183900000001-ffffff") is None  # another index's prefix
