"""The CLI contract: `assistant ask --json` prints one JSON object per question per line; clean errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.ingest import pipeline
from assistant.settings import get_settings
from tests.conftest import CORPUS, PLAN, REPLY, REPO
from tests.fixtures.contract import check_answer_line, subprocess_env

ANSWERABLE = "长宁园管理专班由哪个部门牵头组建？"
UNANSWERABLE = "企业在长宁上市能拿到多少奖励？"
ASSISTANT_BIN = REPO / ".venv" / "bin" / "assistant"


@pytest.fixture()
def cli(monkeypatch, shared_embeddings) -> Iterator[CliRunner]:
    """In-process CLI. The commands build their own embeddings: here the already loaded real model, and for
    ingest the session's embedding cache (so that re-ingesting corpus text costs no model time)."""
    monkeypatch.setattr(pipeline, "get_embeddings", lambda settings: shared_embeddings.inner)
    monkeypatch.setattr(pipeline, "make_embeddings", lambda settings, inner=None: shared_embeddings)
    get_settings.cache_clear()  # settings cached while another test had patched the environment
    yield CliRunner()
    get_settings.cache_clear()


def test_ask_json_one_object_per_question(cli: CliRunner, corpus_settings) -> None:
    result = cli.invoke(app, ["ask", "--json", "--data-dir", str(corpus_settings.data_dir), ANSWERABLE, UNANSWERABLE])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 2
    first = check_answer_line(lines[0], ANSWERABLE)
    second = check_answer_line(lines[1], UNANSWERABLE)
    assert first["grounded"] and first["citations"]
    assert any("2、构建园区管理体系" in c["section"] for c in first["citations"])
    assert first["citations"][0]["doc_number"] == "长科委〔2025〕13号" and first["citations"][0]["date"] == "2025-07-25"
    assert second["grounded"] is False and second["citations"] == [] and second.get("refusal_reason")


def test_ask_json_top_k_and_source_filter(cli: CliRunner, corpus_settings) -> None:
    args = ["ask", "--json", "--data-dir", str(corpus_settings.data_dir), "--top-k", "3", "--source", REPLY, "科技成果转化"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    obj = check_answer_line(result.stdout.strip(), "科技成果转化")
    assert 1 <= len(obj["contexts"]) <= 3
    assert {c["source"] for c in obj["contexts"]} == {REPLY}


def test_ask_json_errors_are_json_too(cli: CliRunner, tmp_path: Path, corpus_settings) -> None:
    result = cli.invoke(app, ["ask", "--json", "--data-dir", str(tmp_path / "no-index"), ANSWERABLE])
    assert result.exit_code == 2
    obj = json.loads(result.stdout.strip())
    assert obj["question"] == ANSWERABLE and obj["error"] and "assistant ingest" in obj["hint"]

    result = cli.invoke(app, ["ask", "--json", "--data-dir", str(corpus_settings.data_dir), "   ", ANSWERABLE])
    assert result.exit_code == 2  # one bad question does not stop the others
    bad, good = result.stdout.strip().split("\n")
    assert "问题不能为空" in json.loads(bad)["error"]
    check_answer_line(good, ANSWERABLE)


def test_ingest_missing_corpus_is_a_clean_error(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = cli.invoke(app, ["ingest", "--corpus", str(missing), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "语料目录不存在" in result.stderr and "--corpus" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "data" / "current.json").exists()

    proc = subprocess.run(
        [str(ASSISTANT_BIN), "ingest", "--corpus", str(missing), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, env=subprocess_env(), cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "语料目录不存在" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_ingest_json_report_and_documents(cli: CliRunner, tmp_path: Path, corpus_settings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / PLAN, corpus / PLAN)
    (corpus / "notes.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    data = tmp_path / "data"
    result = cli.invoke(app, ["ingest", "--json", "--corpus", str(corpus), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == [PLAN] and report["documents"] == 1 and report["changed"] is True
    assert [s["source"] for s in report["skipped"]] == ["notes.xls"]
    assert "notes.xls" in result.stderr and "跳过" in result.stderr

    again = cli.invoke(app, ["ingest", "--corpus", str(corpus), "--data-dir", str(data)])
    assert again.exit_code == 0 and "无变化" in again.stdout

    docs = cli.invoke(app, ["documents", "--json", "--data-dir", str(data)])
    assert docs.exit_code == 0
    [doc] = json.loads(docs.stdout)
    assert doc["source"] == PLAN and doc["doc_number"] == "长科委〔2025〕13号" and doc["chunks"] == report["chunks"]


@pytest.mark.slow
def test_ask_json_in_a_subprocess(corpus_settings, cli: CliRunner) -> None:
    questions = [ANSWERABLE, UNANSWERABLE, "保障措施有哪几项？"]
    proc = subprocess.run(
        [str(ASSISTANT_BIN), "ask", "--json", "--data-dir", str(corpus_settings.data_dir), *questions],
        capture_output=True, text=True, timeout=300, env=subprocess_env(), cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().split("\n")
    assert len(lines) == len(questions), proc.stdout
    outside = [check_answer_line(line, q) for line, q in zip(lines, questions, strict=True)]
    # the same answers as in this process (the CLI is a thin layer over the library)
    inside = cli.invoke(app, ["ask", "--json", "--data-dir", str(corpus_settings.data_dir), *questions])
    for a, b in zip(outside, [json.loads(x) for x in inside.stdout.strip().split("\n")], strict=True):
        assert (a["answer"], a["grounded"], a["citations"]) == (b["answer"], b["grounded"], b["citations"])
        # scores may differ in the last digits (float sums on other threads), not more
        ctx_a = {c["chunk_id"]: c["score"] for c in a["contexts"]}
        ctx_b = {c["chunk_id"]: c["score"] for c in b["contexts"]}
        assert ctx_a.keys() == ctx_b.keys(), (a["contexts"], b["contexts"])
        assert all(abs(ctx_a[k] - ctx_b[k]) < 1e-3 for k in ctx_a), (ctx_a, ctx_b)


def test_chunks_json_contract(cli: CliRunner, corpus_settings) -> None:
    """`assistant chunks --json`: one object per chunk with exactly the contract keys (more may be added)."""
    from assistant.ingest.pipeline import process_file
    from tests.conftest import make_settings

    result = cli.invoke(app, ["chunks", "--json", "--data-dir", str(corpus_settings.data_dir), "--source", REPLY])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.strip().split("\n")]
    assert rows and all({"chunk_id", "source", "section", "text", "start", "end"} <= set(r) for r in rows)
    assert {r["source"] for r in rows} == {REPLY}
    doc, _ = process_file(CORPUS / REPLY, REPLY, "sha", make_settings(corpus_settings.data_dir))
    for r in rows:  # start/end are offsets into the cleaned text
        assert doc.text[r["start"] : r["end"]] == r["text"]

    everything = cli.invoke(app, ["chunks", "--json", "--data-dir", str(corpus_settings.data_dir)])
    assert {json.loads(line)["source"] for line in everything.stdout.strip().split("\n")} == {PLAN, REPLY}

    readable = cli.invoke(app, ["chunks", "--data-dir", str(corpus_settings.data_dir), "--source", PLAN])
    assert readable.exit_code == 0 and "全部内容都已进入索引" in readable.stdout

    unknown = cli.invoke(app, ["chunks", "--data-dir", str(corpus_settings.data_dir), "--source", "nope.txt"])
    assert unknown.exit_code == 2 and "没有导入文件 nope.txt" in unknown.stderr
