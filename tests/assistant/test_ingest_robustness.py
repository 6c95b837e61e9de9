"""Ingest survives bad files, crashes and concurrent runs without damaging the live index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import IngestBusyError
from assistant.index.snapshot import GENERATIONS, read_pointer
from assistant.index.vector import VectorIndex, make_client
from assistant.ingest import pipeline
from assistant.ingest.pipeline import run_ingest
from assistant.service import Assistant
from tests.conftest import CORPUS, PLAN, REPLY, REPO, make_settings
from tests.fixtures.docs import make_blank_pdf

QUESTION = "长宁园管理专班由哪个部门牵头组建？"


@pytest.fixture()
def warm_embeddings(corpus_settings, shared_embeddings):
    """The shared model once the session index is built (its cache then holds every corpus text)."""
    return shared_embeddings


def _copy_corpus(dest: Path, names: tuple[str, ...] = (PLAN, REPLY)) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(CORPUS / name, dest / name)
    return dest


def _state(data_dir: Path, settings) -> tuple[str, set[str], set[str]]:
    """(pointer file text, entries under generations/, chroma collection names)."""
    pointer = (data_dir / "current.json").read_text(encoding="utf-8")
    entries = {p.name for p in (data_dir / GENERATIONS).iterdir()}
    names = {getattr(c, "name", c) for c in make_client(settings).list_collections()}
    return pointer, entries, names


def test_bad_files_are_reported_and_the_rest_ingests(tmp_path: Path, warm_embeddings) -> None:
    corpus = _copy_corpus(tmp_path / "corpus", (PLAN,))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (corpus / "really-text.docx").write_text("这是一个改了扩展名的文本文件", encoding="utf-8")
    (corpus / "budget.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    (corpus / "empty.txt").write_bytes(b"")
    make_blank_pdf(corpus / "scan.pdf")
    (corpus / "~$lock.docx").write_bytes(b"owner file of an open Word document")
    (corpus / ".DS_Store").write_bytes(b"\x00\x01")
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)

    report = run_ingest(settings, embeddings=warm_embeddings)

    skipped = {s.source: s.reason for s in report.skipped}
    assert set(skipped) == {"broken.pdf", "really-text.docx", "budget.xls", "empty.txt", "scan.pdf"}
    for source, reason in skipped.items():
        assert source in reason and len(reason) > len(source) + 5, reason
    assert "不支持的文件类型" in skipped["budget.xls"]
    assert "OCR" in skipped["scan.pdf"]
    assert report.added == [PLAN] and report.documents == 1 and report.chunks > 10
    assert not any(s.kept_previous for s in report.skipped)
    hits = Assistant(settings, embeddings=warm_embeddings).retrieve(QUESTION).hits
    assert hits and all(h.chunk.source == PLAN for h in hits)


def test_a_file_that_breaks_keeps_its_last_good_version(tmp_path: Path, warm_embeddings) -> None:
    corpus = _copy_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    first = run_ingest(settings, embeddings=warm_embeddings)
    (corpus / REPLY).unlink()
    (corpus / REPLY).write_bytes(b"")  # emptied by a failed copy
    report = run_ingest(settings, embeddings=warm_embeddings)
    assert [(s.source, s.kept_previous) for s in report.skipped] == [(REPLY, True)]
    assert not report.removed and report.documents == 2 and report.generation == first.generation


def test_a_processing_error_in_one_file_is_not_fatal(tmp_path: Path, warm_embeddings, monkeypatch) -> None:
    corpus = _copy_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    real = pipeline.process_file

    def flaky(path, source, sha, s):
        if source == REPLY:
            raise RuntimeError("unexpected parser state")
        return real(path, source, sha, s)

    monkeypatch.setattr(pipeline, "process_file", flaky)
    report = run_ingest(settings, embeddings=warm_embeddings)
    assert [s.source for s in report.skipped] == [REPLY]
    assert "unexpected parser state" in report.skipped[0].reason
    assert report.added == [PLAN]


def test_crash_mid_ingest_leaves_previous_index_live(tmp_path: Path, warm_embeddings, monkeypatch) -> None:
    corpus = _copy_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    first = run_ingest(settings, embeddings=warm_embeddings)
    assert first.chunks > 16, "needs more than one batch"
    bot = Assistant(settings, embeddings=warm_embeddings)
    old_ids = set(bot.snapshot().chunks)
    before = _state(settings.data_dir, settings)

    real_add = VectorIndex.add
    calls = {"n": 0}

    def add_then_crash(self, chunks, vectors=None, batch_size=0):
        # Ingest adds in Chroma's largest batches; cut this corpus into several and fail after the first is written.
        collection = self.store._collection
        real_upsert = collection.upsert

        def upsert(**kwargs):
            calls["n"] += 1
            if calls["n"] > 1:
                raise RuntimeError("simulated crash after the first batch")
            return real_upsert(**kwargs)

        monkeypatch.setattr(collection, "upsert", upsert)
        return real_add(self, chunks, vectors, batch_size=16)

    monkeypatch.setattr(VectorIndex, "add", add_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_ingest(settings, embeddings=warm_embeddings, force=True)
    assert calls["n"] == 2

    # pointer unchanged, no orphan collection, no temp generation left behind
    assert _state(settings.data_dir, settings) == before
    assert not [p for p in (settings.data_dir / GENERATIONS).iterdir() if p.name.startswith(".tmp")]

    answer = bot.ask(QUESTION)
    assert bot.snapshot().generation == first.generation
    assert answer.grounded and answer.contexts
    assert {c.chunk_id for c in answer.contexts} <= old_ids
    assert any("2、构建园区管理体系" in c.section for c in answer.contexts)
    fresh = Assistant(settings, embeddings=warm_embeddings)  # a process started after the crash
    assert fresh.snapshot().generation == first.generation

    monkeypatch.setattr(VectorIndex, "add", real_add)
    again = run_ingest(settings, embeddings=warm_embeddings, force=True)
    assert again.changed and read_pointer(settings.data_dir)["generation"] == again.generation


def test_concurrent_ingest_is_refused(tmp_path: Path, warm_embeddings) -> None:
    corpus = _copy_corpus(tmp_path / "corpus", (PLAN,))
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from assistant.ingest.pipeline import ingest_lock\n"
            f"with ingest_lock(Path({str(settings.data_dir)!r})):\n"
            "    print('locked', flush=True); sys.stdin.read()",
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(IngestBusyError) as err:
            run_ingest(settings, embeddings=warm_embeddings)
        assert "导入" in err.value.message and err.value.status_code == 409
        assert read_pointer(settings.data_dir) is None
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    report = run_ingest(settings, embeddings=warm_embeddings)  # released: the next run goes ahead
    assert report.changed and report.added == [PLAN]
