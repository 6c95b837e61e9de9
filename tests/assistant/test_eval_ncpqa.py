"""The ncpqa table: LCS / ROUGE-L worked out by hand, the corpus writer, and a run on a 3-document fake folder
in the same format as ../shared/external/ncpqa_dev/ (the real data never enters the repository)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.evaluation.ncpqa import (
    DEFAULT_DIR,
    ENV_DIR,
    answer_form,
    gold_rows,
    lcs_length,
    resolve_dir,
    rouge_l,
    score_question,
    write_corpus,
)
from assistant.types import Context


def _lcs_table(a: str, b: str) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def test_halves_split_by_document_and_keep_duplicates_together() -> None:
    from assistant.evaluation.ncpqa import half

    qs = [{"doc_id": f"d{i:03d}"} for i in range(200)]
    halves = [half(q) for q in qs]
    assert set(halves) == {"tune", "test"} and 60 < halves.count("test") < 140  # about half each
    assert [half(q) for q in qs] == halves  # stable
    # a question on a duplicate document falls in the half of the group's smallest id
    for q in qs[:20]:
        twin = {"doc_id": "zzz" + q["doc_id"], "equivalent_doc_ids": [q["doc_id"]]}
        assert half(twin) == half(q)


def test_lcs_by_hand() -> None:
    assert lcs_length("", "abc") == 0 and lcs_length("abc", "") == 0
    assert lcs_length("abcbdab", "bdcaba") == 4  # the textbook pair (CLRS): "bcba"
    assert lcs_length("南湖精工机械制造有限公司", "精工机械公司") == 6
    assert lcs_length("对中小企业减免房租", "减免中小企业房租") == 6  # 中小企业房租
    assert lcs_length("aaaa", "aa") == 2 and lcs_length("abc", "def") == 0
    long_a, long_b = "一" * 70 + "二", "二" + "一" * 70  # across a 64-bit word boundary
    assert lcs_length(long_a, long_b) == 70


def test_lcs_agrees_with_the_table_on_random_strings() -> None:
    rng = random.Random(7)
    for _ in range(300):
        a = "".join(rng.choice("甲乙丙丁") for _ in range(rng.randint(0, 90)))
        b = "".join(rng.choice("甲乙丙戊") for _ in range(rng.randint(0, 90)))
        assert lcs_length(a, b) == _lcs_table(a, b) == lcs_length(b, a)


def test_rouge_l_by_hand() -> None:
    # lcs("abcde", "abxde") = 4: P = 4/5, R = 4/5, F1 = 0.8
    assert rouge_l("abcde", "abxde") == pytest.approx(0.8)
    # pred "精工机械公司" (6) vs gold "南湖精工机械制造有限公司" (12): lcs 6, P = 1, R = 0.5, F1 = 2/3
    assert rouge_l("精工机械公司", "南湖精工机械制造有限公司") == pytest.approx(2 / 3)
    assert rouge_l("", "abc") == 0.0 and rouge_l("xyz", "abc") == 0.0
    assert rouge_l("abc", "abc") == 1.0
    # beta = 2 weighs recall: P = 1, R = 0.5 → 5·0.5 / (0.5 + 4) = 5/9
    assert rouge_l("ab", "abcd", beta=2.0) == pytest.approx(5 / 9)


def test_answer_form_drops_markers_and_whitespace() -> None:
    assert answer_form("精工 机械[1]\n制造[12]") == "精工机械制造"


def ctx(rank: int, source: str, text: str) -> Context:
    return Context(rank=rank, chunk_id=f"c{rank}", source=source, section="", text=text, score=1.0)


def test_score_question_by_hand() -> None:
    q = {"id": "q1", "q": "检查组去了哪家企业？", "answer": "南湖精工 机械制造有限公司", "doc_id": "d1",
         "equivalent_doc_ids": ["d1twin"], "answer_also_in_doc_ids": []}
    row = gold_rows([q])[0]
    assert row.expected_sources == ["d1.txt", "d1twin.txt"] and row.key_facts == [["南湖精工 机械制造有限公司"]]
    # the span crosses two contexts: found in the concatenation; the twin counts as the gold document
    contexts = [ctx(1, "x.txt", "无关"), ctx(2, "d1twin.txt", "检查南湖精工机械"), ctx(3, "d1twin.txt", "制造有限公司。"),
                ctx(6, "d1.txt", "")]
    r = score_question(q, row, "精工机械公司[1]", True, contexts, 12.0)
    assert r.doc_hit_at_5 and r.span_in_top5
    assert r.answer_span_recall == 0.5 and r.rouge_l == pytest.approx(0.6667, abs=1e-4)
    # a refusal scores 0; the gold document only below rank 5 is a miss
    r = score_question(q, row, "南湖精工机械制造有限公司", False, [ctx(i, "x.txt", "") for i in range(1, 6)] + contexts, 5.0)
    assert (r.doc_hit_at_5, r.span_in_top5, r.answer_span_recall, r.rouge_l) == (False, False, 0.0, 0.0)


def test_write_corpus_keeps_unchanged_files_and_drops_stale_ones(tmp_path: Path) -> None:
    dest = tmp_path / "corpus"
    write_corpus([{"id": "a", "text": "甲 文"}, {"id": "b", "text": "乙"}], dest)
    assert (dest / "a.txt").read_text(encoding="utf-8") == "甲 文"
    before = (dest / "a.txt").stat().st_mtime_ns
    write_corpus([{"id": "a", "text": "甲 文"}, {"id": "c", "text": "丙"}], dest)
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "c.txt"]
    assert (dest / "a.txt").stat().st_mtime_ns == before


def test_resolve_dir_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DIR, raising=False)
    assert resolve_dir() == (DEFAULT_DIR, "默认位置")
    assert DEFAULT_DIR.parts[-3:] == ("shared", "external", "ncpqa_dev")
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    assert resolve_dir()[0] == tmp_path
    assert resolve_dir(tmp_path / "x")[0] == tmp_path / "x"


def test_cli_ncpqa_absent_is_skipped_with_where_it_looked(tmp_path: Path) -> None:
    from assistant.cli import app

    missing = tmp_path / "no-ncpqa"
    result = CliRunner().invoke(app, ["eval", "--ncpqa", "--ncpqa-dir", str(missing), "--data-dir", str(tmp_path / "d"),
                                      "--reports-dir", str(tmp_path / "r"), "--no-judge"])
    assert result.exit_code == 0, result.output
    assert "ncpqa 跳过" in result.output and str(missing) in result.output.replace("\n", "")
    data = json.loads(next((tmp_path / "r").glob("*-splits.json")).read_text(encoding="utf-8"))
    assert data["ncpqa"] is None and str(missing) in data["ncpqa_skipped"]


# Invented documents and questions in the format of ../shared/external/ncpqa_dev/ (none of its content).
FAKE_DOCS = [
    {"id": "d1", "title": "检查", "text": "某市经信局 近日，市经信局检查组到南湖精工机械制造有限公司检查安全生产，了解设备更新进度。"},
    {"id": "d2", "title": "租金", "text": "关于调整租金的通知 对租用区属园区厂房的小微企业，免收第一季度租金，第二季度租金减半。"},
    {"id": "d3", "title": "平台", "text": "某省 登录省政务服务网首页，进入企业服务综合平台，可以在线申请稳岗补贴。"},
]
FAKE_QA = [
    {"id": "q1", "q": "市经信局检查组到哪家企业检查安全生产？", "answer": "南湖精工机械制造有限公司", "doc_id": "d1",
     "equivalent_doc_ids": [], "answer_also_in_doc_ids": []},
    {"id": "q2", "q": "租用区属园区厂房的小微企业第一季度租金怎么收？", "answer": "免收第一季度租金", "doc_id": "d2",
     "equivalent_doc_ids": [], "answer_also_in_doc_ids": None},
    {"id": "q3", "q": "在哪里可以在线申请稳岗补贴？", "answer": "企业服务综合平台", "doc_id": "d3",
     "equivalent_doc_ids": [], "answer_also_in_doc_ids": []},
]


@pytest.mark.slow
def test_run_ncpqa_on_a_fake_folder(tmp_path: Path, shared_embeddings) -> None:
    from assistant.evaluation.multi import SplitsReport, splits_markdown
    from assistant.evaluation.ncpqa import run_ncpqa
    from tests.conftest import make_settings

    folder = tmp_path / "ncpqa"
    folder.mkdir()
    for name, rows in (("corpus.jsonl", FAKE_DOCS), ("qa.jsonl", FAKE_QA)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    base = make_settings(tmp_path / "data")
    report = run_ncpqa(base, folder, embeddings=shared_embeddings, progress=False)
    corpus = base.data_dir / "eval" / "ncpqa" / "corpus"
    assert sorted(p.name for p in corpus.iterdir()) == ["d1.txt", "d2.txt", "d3.txt"]
    assert (base.data_dir / "eval" / "ncpqa" / "data" / "current.json").is_file()
    assert report.n_documents == 3 and report.n_questions == 3
    project = report.systems[0]
    assert project.name == "project" and [r.id for r in project.rows] == ["q1", "q2", "q3"]
    v = project.values
    assert v["doc_hit_at_5"] == 1.0 and v["span_in_top5"] == 1.0  # three documents: every one is in the top 5
    assert 0.0 <= v["rouge_l"] <= 1.0 and 0.0 <= v["answer_span_recall"] <= 1.0
    answered = [r for r in project.rows if r.grounded]
    assert v["answered"] == pytest.approx(len(answered) / 3, abs=1e-4)
    assert all(r.rouge_l == 0.0 for r in project.rows if not r.grounded)
    assert v["latency_total_p95"] is not None
    # the test half is answered by the models fitted without it, and reported on its own
    from assistant.evaluation.ncpqa import half

    assert [r.half for r in project.rows] == [half(q) for q in FAKE_QA]
    if any(r.half == "test" for r in project.rows):
        assert project.values_test["answered"] is not None

    limited = run_ncpqa(base, folder, embeddings=shared_embeddings, progress=False, limit=1)
    assert limited.n_questions == 1 and limited.n_documents == 3 and limited.ingest_seconds < report.ingest_seconds + 5
    md = splits_markdown(SplitsReport(created="2026-01-01T00:00:00+00:00", ncpqa=report))
    assert "## ncpqa（3 题，3 个文件" in md and "ROUGE-L F1 (char)" in md
