"""``assistant eval --diff``: outcome changes between two hand-made reports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assistant.evaluation.diff import diff_reports, report_rows


def _row(id: str, answer: str, grounded: bool, answerable: bool = True, facts: bool = True,
         cites: list[bool] = (True,)) -> dict:
    return {
        "id": id, "question": f"问题{id}", "category": "factual" if answerable else "unanswerable",
        "answerable": answerable, "answer": answer, "grounded": grounded, "all_facts": answerable and facts,
        "citations": [{"source": "a.md", "quote": "q", "verbatim": c, "expected_source": True, "correct": c}
                      for c in cites] if grounded else [],
    }


def _eval(rows: list[dict]) -> dict:
    return {"created": "2026-01-01T00:00:00", "gold": "g", "systems": [{"name": "project", "rows": rows},
                                                                       {"name": "naive_langchain", "rows": []}]}


OLD = _eval([
    _row("a", "拒答了", False),  # → answered with all facts: fixed
    _row("b", "答对了" * 30, True),  # → facts lost: broken
    _row("c", "答了", True, cites=[False]),  # → citation fixed but facts lost: changed
    _row("d", "一样", True),  # unchanged
    _row("u", "抱歉", False, answerable=False),  # unanswerable → answered: broken
    _row("gone", "x", True),  # only in the old report
])
NEW = _eval([
    _row("a", "区科委牵头", True),
    _row("b", "答错了", True, facts=False),
    _row("c", "答了", True, facts=False, cites=[True]),
    _row("d", "一样，只是换了说法", True),
    _row("u", "胡说", True, answerable=False),
])


def test_diff_groups_fixed_broken_changed() -> None:
    result = diff_reports(OLD, NEW)
    by_id = {e.id: e for e in result.entries}
    assert set(by_id) == {"a", "b", "c", "u"}
    assert by_id["a"].group == "fixed" and by_id["a"].changes == ["作答：拒答→作答", "要点：缺→全"]
    assert by_id["a"].old_head == "（拒答）拒答了" and by_id["a"].new_head == "区科委牵头"
    assert by_id["b"].group == "broken" and by_id["b"].changes == ["要点：全→缺"]
    assert len(by_id["b"].old_head) == 60 and by_id["b"].old_head.endswith("…")
    assert by_id["c"].group == "changed" and by_id["c"].changes == ["要点：全→缺", "引用：错→对"]
    assert by_id["u"].group == "broken" and by_id["u"].changes == ["拒答：拒答→作答"]
    assert result.compared == {"gold": 5} and result.missing_ids == {"gold": 1}
    assert (result.count("fixed"), result.count("broken"), result.count("changed")) == (1, 2, 1)
    assert "修好 1，变坏 2，有好有坏 1" in result.summary()


def test_diff_of_split_reports_matches_by_split_and_includes_ncpqa() -> None:
    ncpqa_old = {"systems": [{"name": "project", "rows": [
        {"id": "n1", "question": "问", "answer": "", "grounded": False, "doc_hit_at_5": True, "span_in_top5": False}]}]}
    ncpqa_new = {"systems": [{"name": "project", "rows": [
        {"id": "n1", "question": "问", "answer": "答", "grounded": True, "doc_hit_at_5": True, "span_in_top5": True}]}]}
    old = {"kind": "splits", "splits": {"gold": OLD, "heldout": OLD}, "ncpqa": ncpqa_old}
    new = {"kind": "splits", "splits": {"gold": NEW, "dev-test": NEW}, "ncpqa": ncpqa_new}
    assert set(report_rows(old)) == {"gold", "heldout", "ncpqa"}
    result = diff_reports(old, new)
    assert result.only_old == ["heldout"] and result.only_new == ["dev-test"]
    n1 = next(e for e in result.entries if e.split == "ncpqa")
    assert n1.group == "fixed" and n1.changes == ["作答：拒答→作答", "答案片段前5：不在→在"]
    # a plain (default-run) report compares with a split report's "gold" split
    assert diff_reports(OLD, new).compared == {"gold": 5}


def test_cli_diff_against_compares_two_saved_reports(tmp_path: Path) -> None:
    from assistant.cli import app

    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(OLD, ensure_ascii=False), encoding="utf-8")
    new.write_text(json.dumps(NEW, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--diff", str(old), "--against", str(new)])
    assert result.exit_code == 0, result.output
    assert "修好了（fixed）：1" in result.output and "变坏了（broken）：2" in result.output
    assert "gold/a" in result.output and "区科委牵头" in result.output
    assert "修好 1，变坏 2，有好有坏 1" in result.output
    bad = CliRunner().invoke(app, ["eval", "--diff", str(tmp_path / "none.json"), "--against", str(new)])
    assert bad.exit_code == 2 and "找不到报告" in bad.output
    alone = CliRunner().invoke(app, ["eval", "--against", str(new)])
    assert alone.exit_code == 2
