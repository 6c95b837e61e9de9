"""``assistant eval``: score the gold set, print the table, write the reports, enforce the quality gate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def eval_command(
    baselines: Annotated[bool, typer.Option("--baselines", help="同时评测三个基线：朴素 LangChain、仅 BM25、仅向量")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="索引目录（默认 .data/ 或 ASSISTANT_DATA_DIR）")] = None,
    gold: Annotated[Path | None, typer.Option("--gold", help="金标文件，或目录中的 questions*.jsonl（默认 eval/gold/）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="把完整报告以 JSON 输出到标准输出")] = False,
    no_gate: Annotated[bool, typer.Option("--no-gate", help="指标低于阈值时也以 0 退出")] = False,
    thresholds: Annotated[Path | None, typer.Option("--thresholds", help="阈值文件（默认 eval/thresholds.toml）")] = None,
    reports_dir: Annotated[Path | None, typer.Option("--reports-dir", help="报告输出目录（默认 eval/reports/）")] = None,
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="配置了 LLM 时运行 LLM 评审（不参与闸门）")] = True,
) -> None:
    """评测：用金标问题给检索、答案与延迟打分，写出报告；指标低于阈值时以非 0 退出。"""
    from rich.console import Console

    from assistant.cli import fail, load_settings
    from assistant.errors import AssistantError
    from assistant.evaluation.report import print_report, write_reports
    from assistant.evaluation.runner import run_eval
    from assistant.service import Assistant

    err = Console(stderr=True, soft_wrap=True)
    settings = load_settings(data_dir=data_dir)
    try:
        bot = Assistant(settings)
        ingest = bot.ingest(progress=not as_json and sys.stderr.isatty())
        if ingest.changed:
            err.print(f"[dim]已导入语料：{ingest.documents} 个文件，{ingest.chunks} 个片段（{ingest.seconds:.1f} 秒）[/]")
        report = run_eval(
            settings, assistant=bot, gold_path=gold, baselines=baselines, judge=judge, thresholds_path=thresholds,
            on_progress=None if as_json else (lambda msg: err.print(f"[dim]评测 {msg} …[/]")),
        )
    except AssistantError as exc:
        raise fail(exc) from exc
    json_path, md_path = write_reports(report, reports_dir)
    if as_json:
        print(report.model_dump_json())
    else:
        out = Console()
        if not out.is_terminal:
            out = Console(width=160)  # piped to a file or CI log: do not fold the table at 80 columns
        print_report(report, out)
        out.print(f"报告：{json_path}  {md_path}")
    if not report.gate.passed and not no_gate:
        err.print("[bold red]质量闸门未通过：[/]" + "；".join(c.line() for c in report.gate.failures))
        raise typer.Exit(code=1)
