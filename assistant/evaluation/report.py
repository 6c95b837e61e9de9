"""The eval report three ways: a rich table for the terminal, JSON, and Markdown for people fixing things."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.evaluation.metrics import METRIC_BY_KEY, METRICS, RowResult, Scores, worst
from assistant.evaluation.runner import EvalReport
from assistant.evaluation.thresholds import Check
from assistant.settings import REPO_ROOT

DEFAULT_REPORTS_DIR = REPO_ROOT / "eval" / "reports"
CATEGORY_METRICS = ["hit_at_5", "mrr_at_10", "context_recall_at_5", "fact_recall", "partial_fact_recall",
                    "citation_precision", "citation_coverage", "refusal_rate", "false_refusal_rate"]
SHORT_LABELS = {
    "hit_at_5": "hit@5", "mrr_at_10": "MRR@10", "context_recall_at_5": "ctx recall@5", "fact_recall": "facts all",
    "partial_fact_recall": "facts partial", "citation_precision": "cite prec", "citation_coverage": "cite cov",
    "refusal_rate": "refusal", "false_refusal_rate": "false refusal",
}
EXTRA_LABELS = {
    "match_precision_at_5": "match precision@5",
    "match_recall_at_5": "match recall@5",
    "judge_faithfulness": "LLM judge faithfulness",
    "judge_answer_relevancy": "LLM judge answer relevancy",
}


def fmt(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    kind = METRIC_BY_KEY[key].kind if key in METRIC_BY_KEY else "rate"
    if kind == "ms":
        return f"{value:.1f} ms"
    if kind == "chars":
        return f"{value:.0f}"
    return f"{value:.3f}"


def _label(key: str) -> str:
    return METRIC_BY_KEY[key].label if key in METRIC_BY_KEY else EXTRA_LABELS.get(key, key)


def _checks(report: EvalReport) -> dict[str, Check]:
    return {c.metric: c for c in report.gate.checks}


def summary_rows(report: EvalReport) -> list[tuple[str, list[str], str, str]]:
    """(metric label, value per system, threshold, gate status) for every metric."""
    checks = _checks(report)
    rows = []
    for m in METRICS:
        values = [fmt(m.key, s.scores.values.get(m.key)) for s in report.systems]
        c = checks.get(m.key)
        rows.append((m.label, values, f"{c.op} {c.threshold}" if c else "", c.status if c else ""))
    blanks = ["—"] * (len(report.systems) - 1)
    extras: dict[str, float | None] = {}
    extras["match_precision_at_5"] = report.match.precision_at_5 if report.match else None
    extras["match_recall_at_5"] = report.match.recall_at_5 if report.match else None
    if report.judge:
        extras["judge_faithfulness"] = report.judge.faithfulness
        extras["judge_answer_relevancy"] = report.judge.answer_relevancy
    for key, value in extras.items():
        c = checks.get(key)
        rows.append((_label(key), [fmt(key, value), *blanks], f"{c.op} {c.threshold}" if c else "", c.status if c else ""))
    return rows


def print_report(report: EvalReport, console: Console | None = None) -> None:
    console = console or Console()
    names = [s.name for s in report.systems]
    table = Table(title=f"评测：{report.n_questions} 个金标问题，{len(report.corpus)} 个文件", show_lines=False)
    table.add_column("metric", no_wrap=True)
    for i, name in enumerate(names):
        table.add_column(name, justify="right", style="bold" if i == 0 else None)
    table.add_column("gate", justify="right", no_wrap=True)
    style = {"pass": "green", "fail": "bold red", "n/a": "dim"}
    for label, values, threshold, status in summary_rows(report):
        gate = f"[{style.get(status, '')}]{threshold} {status}[/]" if status else ""
        table.add_row(label, *values, gate)
    console.print(table)

    cat = Table(title="本项目分类得分（project, per category）")
    cat.add_column("category", no_wrap=True)
    cat.add_column("n", justify="right")
    for key in CATEGORY_METRICS:
        cat.add_column(SHORT_LABELS[key], justify="right")
    for name, scores in sorted(report.project.per_category.items()):
        cat.add_row(name, str(scores.n), *(fmt(k, scores.values.get(k)) for k in CATEGORY_METRICS))
    console.print(cat)
    if report.gate.passed:
        console.print("[bold green]质量闸门：通过[/]")
    else:
        console.print("[bold red]质量闸门：未通过[/] — " + "；".join(c.line() for c in report.gate.failures))


# ---- markdown -----------------------------------------------------------------------------------------
def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in rows]
    return out


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _failure(r: RowResult) -> list[str]:
    asked = r.question if not r.history else f"{' → '.join(r.history)} → **{r.question}**"
    if r.answerable:
        facts = "；".join(" / ".join(v) for v in r.expected_facts)
        sections = "、".join(r.expected_sections) or "（文件头/落款）"
        expected = f"{'、'.join(r.expected_sources)} § {sections}；要点：{facts}"
    else:
        expected = "拒答（语料不能回答）"
    rank = "未命中" if r.first_hit_rank is None else f"第 {r.first_hit_rank} 位"
    lines = [
        f"### {r.id} · {r.category} · severity {r.severity()}",
        "",
        f"- **问题**：{asked}",
        f"- **期望**：{expected}",
        f"- **得到**（{'作答' if r.grounded else '拒答'}）：{_clip(r.answer, 300)}",
    ]
    if r.answerable:
        lines.append(f"- **缺失要点**：{'；'.join(r.missing_facts) or '无'}；首个命中片段：{rank}")
    if r.citations:
        lines.append("- **引用**：")
        for c in r.citations:
            mark = "✓" if c.correct else ("✗ 非期望来源" if c.verbatim else "✗ 原文中找不到")
            lines.append(f"  - {mark} {c.source}：“{_clip(c.quote, 90)}”")
    lines.append(f"- **检索前 5**：{'；'.join(r.retrieved) or '无'}")
    lines.append("")
    return lines


def _gate_line(report: EvalReport) -> str:
    if not report.gate.checks:
        return "不设闸门（没有阈值）"
    return "**通过**" if report.gate.passed else "**未通过**：" + "；".join(c.line() for c in report.gate.failures)


def to_markdown(report: EvalReport) -> str:
    names = [s.name for s in report.systems]
    md = [
        f"# 评测报告 {report.created}",
        "",
        f"- 金标：`{report.gold}`，{report.n_questions} 个问题"
        f"（可回答 {report.project.scores.n_answerable}，不可回答 {report.project.scores.n_unanswerable}）",
        f"- 语料：{'、'.join(report.corpus)}",
        f"- 配置：{'，'.join(f'{k}={v}' for k, v in report.config.items())}",
        f"- 阈值文件：{f'`{report.thresholds_file}`' if report.thresholds_file else '无'}；用时 {report.seconds:.1f} 秒",
        f"- 质量闸门：{_gate_line(report)}",
        "",
        "## 总览",
        "",
    ]
    md += _md_table(["metric", *names, "gate"],
                    [[label, *values, f"{threshold} {status}".strip()] for label, values, threshold, status in summary_rows(report)])
    md += ["", "检索与答案指标只统计可回答的问题，拒答率只统计不可回答的问题，延迟统计全部问题。", ""]
    md += ["## 系统说明", ""] + [f"- **{s.name}**（{s.seconds:.1f} 秒）：{s.description}" for s in report.systems]
    md += [f"- 注：{n}" for n in report.notes] + [""]

    md += ["## 分类得分（本项目）", ""]
    md += _md_table(["category", "n", *(_label(k) for k in CATEGORY_METRICS)],
                    [[name, str(s.n), *(fmt(k, s.values.get(k)) for k in CATEGORY_METRICS)]
                     for name, s in sorted(report.project.per_category.items())])
    if len(report.systems) > 1:
        for key in ("hit_at_5", "fact_recall", "refusal_rate"):
            md += ["", f"### {_label(key)} 分类对比", ""]
            cats = sorted(report.project.per_category)
            md += _md_table(["category", *names],
                            [[c, *(fmt(key, _cat(s.per_category, c).values.get(key) if _cat(s.per_category, c) else None)
                                   for s in report.systems)] for c in cats])
    md += ["", "## 最差的 10 个问题（本项目）", ""]
    failures = worst(report.project.rows, 10)
    if not failures:
        md.append("没有失败的问题。")
    for r in failures:
        md += _failure(r)
    return "\n".join(md) + "\n"


def _cat(per: dict[str, Scores], name: str) -> Scores | None:
    return per.get(name)


def write_report_files(created: str, as_json: str, as_markdown: str, out_dir: Path | None = None,
                       suffix: str = "") -> tuple[Path, Path]:
    """``<stamp><suffix>.json`` and ``.md`` in the reports dir, the stamp from the report's creation time."""
    out_dir = out_dir or DEFAULT_REPORTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(created).strftime("%Y%m%d-%H%M%S")
    json_path, md_path = out_dir / f"{stamp}{suffix}.json", out_dir / f"{stamp}{suffix}.md"
    json_path.write_text(as_json, encoding="utf-8")
    md_path.write_text(as_markdown, encoding="utf-8")
    return json_path, md_path


def write_reports(report: EvalReport, out_dir: Path | None = None) -> tuple[Path, Path]:
    return write_report_files(report.created, report.model_dump_json(indent=1), to_markdown(report), out_dir)
