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


@pytest.fixture()
def cli(monkeypatch, shared_embeddings):
    """The in-process CLI over the session's real model and embedding cache (as tests/assistant/test_cli_json.py)."""
    from typer.testing import CliRunner

    from assistant.settings import get_settings

    monkeypatch.setattr(pipeline, "get_embeddings", lambda settings: shared_embeddings.inner)
    monkeypatch.setattr(pipeline, "make_embeddings", lambda settings, inner=None: shared_embeddings)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


GBK_NOTICE = "\n".join(
    ["长宁区测试委员会文件", "长测委〔2026〕7号", "关于开展楼宇能耗监测试点的通知", "各有关单位：",
     "一、支持内容", "对完成楼宇能耗监测改造的企业，按改造投资额的30%给予补贴，最高50万元。"]
)
BOM_NOTICE = "# 关于开展夜间经济示范街区评选的通知\n\n对评为夜间经济示范街区的，给予运营主体一次性奖励20万元。\n"
GB18030_NOTICE = "关于支持生僻字㐀䶵字库建设的通知\n\n对完成𠀀字库补全的单位给予一次性奖励8万元。\n"
TRADITIONAL_NOTICE = (
    "# 關於開展長寧區低空飛行器測試場試點的通知\n\n"
    "## 一、支持內容\n\n對入駐虹橋低空飛行器測試場的企業，按測試飛行小時給予補貼，每家企業每年最高補貼88萬元。\n\n"
    "## 二、申報方式\n\n企業通過長寧區科委網上平臺提交申請材料。\n"
)


def _bad_corpus(corpus: Path) -> dict[str, str]:
    """Every kind of bad input next to good ones; returns {bad file: what its reason must say}."""
    from tests.fixtures.docs import make_pdf, make_scanned_pdf

    (corpus / "gbk-notice.txt").write_bytes(GBK_NOTICE.encode("gbk"))
    (corpus / "bom-notice.md").write_bytes(BOM_NOTICE.encode("utf-8-sig"))
    (corpus / "gb18030-notice.txt").write_bytes(GB18030_NOTICE.encode("gb18030"))
    (corpus / "traditional-notice.md").write_text(TRADITIONAL_NOTICE, encoding="utf-8")
    full = make_pdf(corpus.parent / "full.pdf", [[f"第{i}页：对符合条件的企业给予支持。"] * 5 for i in range(8)])
    (corpus / "truncated.pdf").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    (corpus / "garbage.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n%%EOF")
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (corpus / "dump.txt").write_bytes(bytes(range(256)) * 8)
    (corpus / "empty.txt").write_bytes(b"")
    make_scanned_pdf(corpus / "scan.pdf", ["NOTICE 2026", "subsidy"], pages=3)
    return {
        "truncated.pdf": "不完整", "garbage.pdf": "损坏", "photo.txt": "PNG", "dump.txt": "二进制",
        "empty.txt": "没有可提取的文字", "scan.pdf": "扫描件",
    }


def test_every_bad_document_is_reported_by_the_cli_and_the_rest_ingests(tmp_path: Path, cli, warm_embeddings) -> None:
    from assistant.cli import app
    from assistant.ingest.pipeline import last_report

    corpus = _copy_corpus(tmp_path / "corpus")
    expected = _bad_corpus(corpus)
    data = tmp_path / "data"
    result = cli.invoke(app, ["ingest", "--corpus", str(corpus), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    out = result.stderr.replace("\n", "")
    assert f"未导入 {len(expected)} 个文件" in out and "其余文件照常导入" in out
    for name, needle in expected.items():
        line = next(x for x in result.stderr.splitlines() if x.startswith(f"跳过 {name}"))
        assert needle in line and ("请" in line or "OCR" in line), line  # the reason and what to do, on one line

    good = {PLAN, REPLY, "gbk-notice.txt", "bom-notice.md", "gb18030-notice.txt", "traditional-notice.md"}
    report = last_report(data)
    assert report is not None and set(report.added) == good and {s.source for s in report.skipped} == set(expected)
    # nothing half-written: the index holds exactly the good files, in every part
    settings = make_settings(data, corpus_dir=corpus)
    bot = Assistant(settings, embeddings=warm_embeddings)
    snap = bot.snapshot()
    assert set(snap.documents) == good and {c.source for c in snap.chunks.values()} == good
    pointer = read_pointer(data)
    stored = make_client(settings).get_collection(pointer["collection"]).get(include=[])["ids"]
    assert set(stored) == set(snap.chunks) and pointer["chunks"] == len(snap.chunks)
    assert [s.source for s in bot.skipped()] == sorted(expected)

    docs = {d.source: d for d in bot.documents()}
    assert docs["gbk-notice.txt"].doc_number == "长测委〔2026〕7号"
    assert docs["bom-notice.md"].title == "关于开展夜间经济示范街区评选的通知"
    assert "㐀䶵" in snap.documents["gb18030-notice.txt"].text
    assert "\ufeff" not in snap.documents["bom-notice.md"].text

    listed = cli.invoke(app, ["documents", "--data-dir", str(data)])
    assert listed.exit_code == 0 and "未导入 scan.pdf" in listed.stderr and "OCR" in listed.stderr


def test_traditional_document_is_found_by_simplified_questions(tmp_path: Path, warm_embeddings) -> None:
    corpus = _copy_corpus(tmp_path / "corpus")
    (corpus / "traditional-notice.md").write_text(TRADITIONAL_NOTICE, encoding="utf-8")
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    run_ingest(settings, embeddings=warm_embeddings)
    bot = Assistant(settings, embeddings=warm_embeddings)
    stored = bot.snapshot().documents["traditional-notice.md"].text
    for question in ("低空飞行器测试场试点每家企业每年最高补贴多少？", "企业通过什么平台提交申请材料？"):
        retrieval = bot.retrieve(question, dense_mode="adaptive")
        assert retrieval.hits[0].chunk.source == "traditional-notice.md", question
        assert retrieval.gate.passed and retrieval.gate.coverage >= 0.8, retrieval.gate  # simplified terms found
        answer = bot.ask(question)
        assert answer.contexts[0].source == "traditional-notice.md"
        for c in answer.citations:  # whatever is quoted is the document's own (traditional) text
            assert c.quote.replace("……", "") and all(part in stored for part in c.quote.split("……")), c.quote
    # and answered: the answerer matches the traditional text in simplified form, and quotes the original
    answer = bot.ask("低空飞行器测试场试点每家企业每年最高补贴多少？")
    assert answer.grounded and "88萬元" in answer.answer, answer.answer
    simplified_only = bot.retrieve("低空飞行器测试场", dense_mode="adaptive")
    assert simplified_only.hits[0].chunk.text in stored and "飛行器" in simplified_only.hits[0].chunk.text


@pytest.mark.slow
def test_a_50_mb_text_file_is_refused_by_the_size_setting_in_bounded_memory(tmp_path: Path, warm_embeddings) -> None:
    import tracemalloc

    corpus = _copy_corpus(tmp_path / "corpus", (PLAN,))
    line = "第{n}条 对符合条件的企业，按实际投入的30%给予补贴，最高不超过500万元。\n"
    with open(corpus / "huge.txt", "w", encoding="utf-8") as fh:
        n = 0
        while fh.tell() < 50 * 2**20:
            fh.write("".join(line.format(n=n + i) for i in range(1000)))
            n += 1000
    size = (corpus / "huge.txt").stat().st_size
    settings = make_settings(tmp_path / "data", corpus_dir=corpus)
    assert size > 50 * 2**20 > settings.max_document_bytes

    tracemalloc.start()
    try:
        report = run_ingest(settings, embeddings=warm_embeddings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [skipped] = report.skipped
    assert skipped.source == "huge.txt" and "文件过大" in skipped.reason and "上限 20.0 MiB" in skipped.reason
    assert "ASSISTANT_MAX_DOCUMENT_BYTES" in skipped.reason
    assert report.added == [PLAN] and report.documents == 1
    assert peak < 16 * 2**20, f"peak Python allocation {peak / 2**20:.1f} MiB: the file was read"  # 50 MiB if it were
    print(f"\n50 MiB text refused by max_document_bytes; ingest peak Python allocation {peak / 2**20:.1f} MiB")
