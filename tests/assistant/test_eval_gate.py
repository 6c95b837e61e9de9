"""CI quality gate: the full gold set on the shipped corpus must meet every threshold in eval/thresholds.toml."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_quality_gate(bot, corpus_settings) -> None:
    from assistant.evaluation.runner import run_eval

    report = run_eval(corpus_settings, assistant=bot, judge=False)
    values = report.gate_values()
    summary = "，".join(f"{k}={values[k]}" for k in ("hit_at_5", "mrr_at_10", "fact_recall", "citation_precision",
                                                      "refusal_rate", "false_refusal_rate"))
    print(f"\neval ({report.n_questions} questions): {summary}")
    failures = "\n".join(f"  - {c.line()}" for c in report.gate.failures)
    assert report.gate.passed, f"质量闸门未通过（eval/thresholds.toml）：\n{failures}\n运行 `assistant eval` 查看最差的问题。"
