"""The index lives on disk: ingest in one process, ask from another process and from this one."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from assistant.ingest.pipeline import run_ingest
from assistant.service import Assistant
from tests.conftest import CORPUS, PLAN, REPLY, REPO, make_settings
from tests.fixtures.contract import check_answer_line, subprocess_env

ASSISTANT_BIN = REPO / ".venv" / "bin" / "assistant"
QUESTIONS = ["长宁园管理专班由哪个部门牵头组建？", "东华大学国家大学科技园技术转移中心是哪一年设立的？"]


def _seed_embedding_cache(shared_embeddings, data_dir: Path) -> None:
    """Copy the session's embedding cache into the new data dir, so the ingest subprocess embeds nothing
    (it also shows that the on-disk cache is shared across processes)."""
    target = data_dir / "cache" / "embeddings.sqlite"
    target.parent.mkdir(parents=True)
    src, dst = sqlite3.connect(shared_embeddings._path), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.mark.slow
def test_ingest_and_ask_across_processes(tmp_path: Path, corpus_settings, shared_embeddings) -> None:
    data = tmp_path / "data"
    _seed_embedding_cache(shared_embeddings, data)
    env = subprocess_env()

    ingest = subprocess.run(
        [str(ASSISTANT_BIN), "ingest", "--json", "--corpus", str(CORPUS), "--data-dir", str(data)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert ingest.returncode == 0, ingest.stderr
    report = json.loads(ingest.stdout)
    assert sorted(report["added"]) == sorted([PLAN, REPLY]) and report["documents"] == 2
    assert report["embedded"] == 0, "the seeded cache serves every text"
    assert (data / "current.json").is_file()

    ask = subprocess.run(
        [str(ASSISTANT_BIN), "ask", "--json", "--data-dir", str(data), *QUESTIONS],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert ask.returncode == 0, ask.stderr
    lines = ask.stdout.strip().split("\n")
    assert len(lines) == len(QUESTIONS)
    outside = [check_answer_line(line, q) for line, q in zip(lines, QUESTIONS, strict=True)]
    assert all(o["grounded"] for o in outside), [o["answer"] for o in outside]
    assert any("2020" in c["quote"] for c in outside[1]["citations"]), outside[1]

    # this process reads the same index: same passages, same answers
    settings = make_settings(data)
    bot = Assistant(settings, embeddings=shared_embeddings)
    assert {d.source for d in bot.documents()} == {PLAN, REPLY}
    assert bot.snapshot().generation == report["generation"]
    for question, other in zip(QUESTIONS, outside, strict=True):
        answer = bot.ask(question)
        assert answer.answer == other["answer"]
        assert [c.chunk_id for c in answer.contexts] == [c["chunk_id"] for c in other["contexts"]]

    # an ingest from this process sees the manifest written by the other one: nothing to do
    again = run_ingest(settings, embeddings=shared_embeddings)
    assert (again.changed, again.generation, again.embedded) == (False, report["generation"], 0)
