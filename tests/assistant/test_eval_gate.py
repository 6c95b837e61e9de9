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


def test_quality_gate_on_the_test_split(shared_embeddings, tmp_path_factory) -> None:
    """The development corpus's test half (documents never tuned on), with the shipped corpus as distractors,
    must meet eval/thresholds-dev-test.toml."""
    from assistant.evaluation.multi import run_split
    from assistant.evaluation.splits import load_splits
    from tests.conftest import make_settings

    split = load_splits()["dev-test"]
    assert split.missing() is None, split.missing()
    base = make_settings(tmp_path_factory.mktemp("dev-test"))
    report = run_split(split, base, shared_embeddings, baselines=False, judge=False, progress=False)
    values = report.gate_values()
    summary = "，".join(f"{k}={values.get(k)}" for k in ("fact_recall", "near_miss_refusal_rate", "false_refusal_rate",
                                                        "citation_precision", "right_doc_cited"))
    print(f"\ndev-test ({report.n_questions} questions): {summary}")
    assert any(c.status != "n/a" for c in report.gate.checks), "dev-test must be gated (eval/thresholds-dev-test.toml)"
    failures = "\n".join(f"  - {c.line()}" for c in report.gate.failures)
    assert report.gate.passed, f"dev-test 质量闸门未通过（eval/thresholds-dev-test.toml）：\n{failures}"
