"""Metrics on small synthetic data, checked against values worked out by hand; thresholds and the gate check."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation.gold import GoldRow
from assistant.evaluation.metrics import aggregate, fact_present, is_hit, per_category, score_row, worst
from assistant.evaluation.thresholds import DEFAULT_THRESHOLDS, Thresholds, check, load_thresholds
from assistant.types import Answer, Citation, Context

DOC_A = "一、总则\n园区由区科委牵头组建管理专班，协同发改委、商务委。\n目标是 60% 的比重。"
DOC_B = "二、人才\n打造“虹桥人才荟”服务品牌。"
TEXTS = {"a.md": [DOC_A], "b.txt": [DOC_B, "二、人才\n\n打造“虹桥人才荟”\n服务品牌。"]}


def row(id: str, facts: list[list[str]] | None = None, sources: list[str] | None = None,
        sections: list[str] | None = None, category: str = "factual") -> GoldRow:
    answerable = facts is not None
    return GoldRow(
        id=id, question=f"问题{id}", category="unanswerable" if not answerable else category, answerable=answerable,
        expected_sources=sources or [], expected_sections=sections or [], key_facts=facts or [],
    )


def ctx(rank: int, source: str, section: str, text: str = "") -> Context:
    return Context(rank=rank, chunk_id=f"c{rank}", source=source, section=section, text=text, score=1.0 / rank)


def answer(text: str, grounded: bool = True, cites: list[tuple[str, str]] = (), total: float = 10.0) -> Answer:
    return Answer(
        question="q", answer=text, grounded=grounded,
        citations=[Citation(n=i, source=s, title=s, quote=q, chunk_id=f"x{i}") for i, (s, q) in enumerate(cites, 1)],
        timings_ms={"retrieve": total - 1, "answer": 1.0, "total": total},
    )


def test_fact_matching_ignores_whitespace_markdown_and_markers() -> None:
    assert fact_present(["长宁区科委", "区科委"], "由 区 科\n委 牵头")
    assert fact_present(["60%", "百分之六十"], "力争达到**60%**")
    assert fact_present(["虹桥人才荟"], "# 虹桥人才[1]荟")
    assert fact_present(["**强化组织领导**"], "一是强化组织领导")
    assert not fact_present(["50%"], "60%")
    assert not fact_present(["区科委"], "")


def test_hit_needs_expected_source_and_section() -> None:
    r = row("h", [["x"]], ["a.md"], ["2、构建园区 管理体系"])
    assert is_hit(r, "a.md", "二、重点任务 > （一）改革 > 2、构建园区管理体系")
    assert not is_hit(r, "a.md", "二、重点任务 > 3、做实园区运营机构")
    assert not is_hit(r, "b.txt", "2、构建园区管理体系")
    assert is_hit(row("h2", [["x"]], ["a.md"]), "a.md", "文件头")  # no section named: the source is enough


def test_scores_by_hand() -> None:
    r1 = row("r1", [["区科委"], ["发改委"]], ["a.md"], ["一、总则"])
    r2 = row("r2", [["虹桥人才荟"]], ["b.txt"], ["二、人才"], category="paraphrase")
    r3 = row("r3", [["60%"]], ["a.md"])
    u1, u2 = row("u1"), row("u2")
    results = [
        # hit at rank 1, both facts, one correct citation + one not verbatim
        score_row(r1, answer("区科委牵头，协同发改委[1]", cites=[("a.md", "区科委牵头组建管理专班"), ("a.md", "编造的原文")], total=10),
                  [ctx(1, "a.md", "一、总则", DOC_A)], TEXTS),
        # hit at rank 3; quote verbatim only in the raw file text (line break inside); fact present
        score_row(r2, answer("打造“虹桥人才荟”服务品牌", cites=[("b.txt", "打造“虹桥人才荟”\n服务品牌。")], total=20),
                  [ctx(1, "a.md", "一、总则"), ctx(2, "b.txt", "一、别处"), ctx(3, "b.txt", "二、人才", DOC_B)], TEXTS),
        # false refusal: facts do not count in a refusal text, even when it happens to contain them
        score_row(r3, answer("没有找到 60%", grounded=False, total=30), [ctx(1, "b.txt", "二、人才", DOC_B)], TEXTS),
        score_row(u1, answer("抱歉", grounded=False, total=40), [], TEXTS),  # correct refusal
        score_row(u2, answer("胡说", cites=[("a.md", "园区")], total=50), [], TEXTS),  # answered an unanswerable one
    ]
    s = aggregate(results)
    v = s.values
    assert (s.n, s.n_answerable, s.n_unanswerable, s.n_citations) == (5, 3, 2, 3)
    assert v["hit_at_1"] == pytest.approx(1 / 3, abs=1e-4)
    assert v["hit_at_3"] == pytest.approx(2 / 3, abs=1e-4)
    assert v["hit_at_5"] == pytest.approx(2 / 3, abs=1e-4)
    assert v["mrr_at_10"] == pytest.approx((1 + 1 / 3 + 0) / 3, abs=1e-4)
    assert v["context_recall_at_5"] == pytest.approx((1 + 1 + 0) / 3, abs=1e-4)
    assert v["fact_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert v["partial_fact_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert v["citation_precision"] == pytest.approx(2 / 3, abs=1e-4)  # r1: 1 of 2, r2: 1 of 1 (u2 not counted)
    assert v["citation_coverage"] == pytest.approx(2 / 3, abs=1e-4)
    assert v["refusal_rate"] == 0.5
    assert v["false_refusal_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert v["latency_total_p50"] == 30.0
    assert v["latency_total_p95"] == pytest.approx(48.0)
    assert v["answer_chars_mean"] == pytest.approx(round((len("区科委牵头，协同发改委[1]") + len("打造“虹桥人才荟”服务品牌") + len("没有找到 60%")) / 3, 1))

    cats = per_category(results)
    assert set(cats) == {"factual", "paraphrase", "unanswerable"}
    assert cats["paraphrase"].values["hit_at_1"] == 0.0 and cats["paraphrase"].values["hit_at_3"] == 1.0
    assert cats["unanswerable"].values["hit_at_5"] is None and cats["unanswerable"].values["refusal_rate"] == 0.5

    # false refusal with a retrieval miss (3.5), an unanswerable question answered (3), a bad citation (0.5)
    assert [r.id for r in worst(results)] == ["r3", "u2", "r1"]


def test_partial_fact_recall_counts_each_fact() -> None:
    r = row("p", [["发改委"], ["商务委"], ["国资委"], ["数据局"]], ["a.md"])
    res = score_row(r, answer("协同发改委、商务委"), [], TEXTS)
    assert (res.facts_found, res.missing_facts) == (2, ["国资委", "数据局"])
    s = aggregate([res]).values
    assert (s["fact_recall"], s["partial_fact_recall"]) == (0.0, 0.5)


def test_gate_check_min_max_and_optional() -> None:
    t = Thresholds(min={"hit_at_5": 0.95, "match_recall_at_5": 0.8}, max={"false_refusal_rate": 0.05},
                   optional=["match_recall_at_5"])
    ok = check({"hit_at_5": 0.95, "false_refusal_rate": 0.05, "match_recall_at_5": None}, t)
    assert ok.passed and [c.status for c in ok.checks] == ["pass", "n/a", "pass"]
    bad = check({"hit_at_5": 0.9499, "false_refusal_rate": 0.06, "match_recall_at_5": 0.7}, t)
    assert not bad.passed and {c.metric for c in bad.failures} == {"hit_at_5", "false_refusal_rate", "match_recall_at_5"}
    assert "hit_at_5 = 0.9499 (需要 >= 0.95)" in bad.failures[0].line()
    missing = check({"false_refusal_rate": 0.0}, t)  # a required metric that was not measured fails
    assert [c.metric for c in missing.failures] == ["hit_at_5"]


def test_shipped_thresholds_never_below_the_starting_values() -> None:
    t = load_thresholds(DEFAULT_THRESHOLDS)
    floors = {"hit_at_5": 0.95, "fact_recall": 0.85, "citation_precision": 0.98, "refusal_rate": 0.85,
              "match_precision_at_5": 0.8, "match_recall_at_5": 0.8}
    for metric, floor in floors.items():
        assert t.min[metric] >= floor, metric
    assert t.max["false_refusal_rate"] <= 0.05
    assert set(t.optional) == {"match_precision_at_5", "match_recall_at_5"}


def test_bad_thresholds_file_is_a_clear_error(tmp_path: Path) -> None:
    from assistant.errors import ConfigError

    (tmp_path / "t.toml").write_text("[min]\nhit_at_5 = 'high'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="格式不对"):
        load_thresholds(tmp_path / "t.toml")
    with pytest.raises(ConfigError, match="找不到阈值文件"):
        load_thresholds(tmp_path / "none.toml")


def test_near_miss_refusal_and_right_doc_cited_by_hand() -> None:
    from assistant.evaluation.metrics import METRIC_BY_KEY

    near = GoldRow(id="n1", question="q", category="unanswerable", answerable=False, near_miss=True)
    near2 = GoldRow(id="n2", question="q", category="unanswerable", answerable=False, near_miss=True)
    far = GoldRow(id="f1", question="q", category="unanswerable", answerable=False)
    r1 = row("r1", [["区科委"]], ["a.md"])
    r2 = row("r2", [["虹桥人才荟"]], ["b.txt"])
    r3 = row("r3", [["60%"]], ["a.md"])
    r4 = row("r4", [["60%"]], ["a.md", "b.txt"])
    results = [
        score_row(near, answer("抱歉", grounded=False), [], TEXTS),  # near miss refused
        score_row(near2, answer("胡说", cites=[("a.md", "园区")]), [], TEXTS),  # near miss answered
        score_row(far, answer("抱歉", grounded=False), [], TEXTS),  # off-topic refused: not a near miss
        # cites the right doc with a quote that is not verbatim: still the right doc
        score_row(r1, answer("区科委", cites=[("a.md", "编造")]), [], TEXTS),
        score_row(r2, answer("虹桥人才荟", cites=[("a.md", "园区")]), [], TEXTS),  # wrong doc only
        score_row(r3, answer("没有", grounded=False), [], TEXTS),  # refused: not counted
        score_row(r4, answer("60%", cites=[("a.md", "园区"), ("b.txt", "二、人才")]), [], TEXTS),  # one of two
    ]
    v = aggregate(results).values
    assert v["near_miss_refusal_rate"] == 0.5
    assert v["refusal_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert v["right_doc_cited"] == pytest.approx(2 / 3, abs=1e-4)  # r1 yes, r2 no, r4 yes
    assert aggregate(results[3:]).values["near_miss_refusal_rate"] is None  # no near-miss rows
    assert aggregate(results[5:6]).values["right_doc_cited"] is None  # no answered answerable rows
    assert {"near_miss_refusal_rate", "right_doc_cited", "hit_at_5", "refusal_rate"} <= set(METRIC_BY_KEY)
