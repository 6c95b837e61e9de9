"""``assistant eval``: score the gold set (or named splits, or the ncpqa table), print the table, write the
reports, enforce the quality gate; ``--diff`` compares with an older report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def eval_command(
    baselines: Annotated[bool, typer.Option("--baselines", help="同时评测基线：朴素 LangChain、仅 BM25、仅向量（ncpqa 只跑朴素 LangChain）")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="索引目录（默认 .data/ 或 ASSISTANT_DATA_DIR）")] = None,
    gold: Annotated[Path | None, typer.Option("--gold", help="金标文件，或目录中的 questions*.jsonl（默认 eval/gold/）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="把完整报告以 JSON 输出到标准输出")] = False,
    no_gate: Annotated[bool, typer.Option("--no-gate", help="指标低于阈值时也以 0 退出")] = False,
    thresholds: Annotated[Path | None, typer.Option("--thresholds", help="阈值文件（默认 eval/thresholds.toml）")] = None,
    reports_dir: Annotated[Path | None, typer.Option("--reports-dir", help="报告输出目录（默认 eval/reports/）")] = None,
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="配置了 LLM 时运行 LLM 评审（不参与闸门）")] = True,
    split: Annotated[list[str] | None, typer.Option("--split", help="运行 eval/splits.toml 中的这个划分（可重复）")] = None,
    all_splits: Annotated[bool, typer.Option("--all-splits", help="运行文件齐全的所有划分（报告跳过了哪些、为什么）")] = False,
    splits_file: Annotated[Path | None, typer.Option("--splits-file", help="划分文件（默认 eval/splits.toml）")] = None,
    ncpqa: Annotated[bool, typer.Option("--ncpqa", help="另跑 ncpqa 表（真实政务文件与问题，数据在仓库外）")] = False,
    ncpqa_dir: Annotated[Path | None, typer.Option("--ncpqa-dir", help="ncpqa 数据目录（默认 ASSISTANT_NCPQA_DIR，否则 ../shared/external/ncpqa_dev）")] = None,
    ncpqa_limit: Annotated[int | None, typer.Option("--ncpqa-limit", min=1, help="只问前 N 个 ncpqa 问题（文件仍全部导入）")] = None,
    diff: Annotated[Path | None, typer.Option("--diff", help="与这份旧的 JSON 报告比较：哪些问题的结果变了")] = None,
    against: Annotated[Path | None, typer.Option("--against", help="与 --diff 同用：比较两份已有报告，不运行评测")] = None,
    fit: Annotated[bool, typer.Option("--fit", help="在调优划分（dev-tune、gold）上拟合句子评分与作答判定模型，写出数据文件")] = False,
    fit_out: Annotated[Path | None, typer.Option("--fit-out", help="拟合结果写到这里（默认 assistant/data/fitted.json）")] = None,
) -> None:
    """评测：用金标问题给检索、答案与延迟打分，写出报告；指标低于阈值时以非 0 退出。"""
    from rich.console import Console

    from assistant.cli import fail, load_settings
    from assistant.errors import AssistantError

    err = Console(stderr=True, soft_wrap=True)  # errors are never folded mid-phrase
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # piped to a file or CI log: do not fold the table at 80 columns
    say = None if as_json else (lambda msg: err.print(f"[dim]评测 {msg} …[/]"))
    try:
        if fit:
            from assistant.evaluation.fit import FIT_SPLITS, fit_splits, write_fitted

            base = load_settings(data_dir=data_dir)
            fitted = fit_splits(base, split or FIT_SPLITS, splits_file=splits_file, say=say or (lambda _m: None))
            target = fit_out or Path(__file__).resolve().parent.parent / "data" / "fitted.json"
            write_fitted(fitted, target)
            out.print(f"已拟合（{'；'.join(fitted.fitted_on)}）：作答阈值 {fitted.threshold}，{fitted.metrics}")
            out.print(f"写出：{target}")
            if any(f.startswith("ncpqa") for f in fitted.fitted_on):
                from assistant.evaluation.fit import NCPQA_REPORT_PATH

                report_model = fit_splits(base, split or FIT_SPLITS, splits_file=splits_file,
                                          say=say or (lambda _m: None), ncpqa_half="tune")
                report_target = target.with_name(NCPQA_REPORT_PATH.name)
                write_fitted(report_model, report_target)
                out.print(f"写出：{report_target}（ncpqa 表“test half”一栏所用：未在 ncpqa 测试半上拟合）")
            return
        if against is not None:
            if diff is None:
                raise typer.BadParameter("--against 需要与 --diff OLD.json 同用")
            _print_diff(diff, against, None, out)
            return
        ncpqa = ncpqa or ncpqa_dir is not None or ncpqa_limit is not None
        if split or all_splits or ncpqa:
            if gold is not None or thresholds is not None:
                raise typer.BadParameter("--gold / --thresholds 不能与 --split / --all-splits / --ncpqa 同用（划分的金标与阈值写在 eval/splits.toml）")
            report, passed, failures, paths = _run_multi(
                load_settings(data_dir=data_dir), split or [], all_splits, splits_file, ncpqa, ncpqa_dir,
                ncpqa_limit, baselines, judge, as_json, reports_dir, say, err,
            )
            if as_json:
                print(report.model_dump_json())
            else:
                from assistant.evaluation.multi import print_splits

                print_splits(report, out)
                out.print(f"报告：{paths[0]}  {paths[1]}")
        else:
            report, passed, failures, paths = _run_default(
                load_settings(data_dir=data_dir), gold, baselines, judge, thresholds, reports_dir, as_json, say, err, out,
            )
        if diff is not None:
            _print_diff(diff, paths[0], report.model_dump(mode="json"), err if as_json else out)
    except AssistantError as exc:
        raise fail(exc) from exc
    if not passed and not no_gate:
        err.print("[bold red]质量闸门未通过：[/]" + "；".join(failures))
        raise typer.Exit(code=1)


def _run_default(settings, gold, baselines, judge, thresholds, reports_dir, as_json, say, err, out):  # noqa: ANN001, ANN202
    """The run as it always was: gold (or ``--gold``) on the configured corpus."""
    from assistant.evaluation.report import print_report, write_reports
    from assistant.evaluation.runner import run_eval
    from assistant.service import Assistant

    bot = Assistant(settings)
    ingest = bot.ingest(progress=not as_json and sys.stderr.isatty())
    if ingest.changed:
        err.print(f"[dim]已导入语料：{ingest.documents} 个文件，{ingest.chunks} 个片段（{ingest.seconds:.1f} 秒）[/]")
    report = run_eval(settings, assistant=bot, gold_path=gold, baselines=baselines, judge=judge,
                      thresholds_path=thresholds, on_progress=say)
    paths = write_reports(report, reports_dir)
    if as_json:
        print(report.model_dump_json())
    else:
        print_report(report, out)
        out.print(f"报告：{paths[0]}  {paths[1]}")
    return report, report.gate.passed, [c.line() for c in report.gate.failures], paths


def _run_multi(settings, names, all_splits, splits_file, ncpqa, ncpqa_dir, ncpqa_limit, baselines, judge, as_json,  # noqa: ANN001, ANN202, PLR0913
               reports_dir, say, err):
    from assistant.evaluation.multi import SplitsReport, run_splits, write_splits_reports
    from assistant.evaluation.ncpqa import ENV_DIR, present, resolve_dir
    from assistant.evaluation.splits import load_splits
    from assistant.ingest.pipeline import make_embeddings

    folder, how = resolve_dir(ncpqa_dir)
    has_ncpqa = ncpqa and present(folder)
    # one model and one cache file (<data_dir>/cache/embeddings.sqlite) for every split and ncpqa
    embeddings = make_embeddings(settings) if (names or all_splits or has_ncpqa) else None
    if names or all_splits:
        splits = load_splits(splits_file)
        chosen = list(splits) if all_splits else list(dict.fromkeys(names))
        report = run_splits(chosen, splits, settings, baselines=baselines, judge=judge,
                            progress=not as_json and sys.stderr.isatty(), skip_missing=all_splits,
                            on_progress=say, embeddings=embeddings)
        if as_json:  # otherwise the printed report says it
            for name, reason in report.skipped.items():
                err.print(f"[yellow]跳过划分 {name}：{reason}[/]")
    else:
        from datetime import datetime

        report = SplitsReport(created=datetime.now().astimezone().isoformat(timespec="seconds"))
    if ncpqa:
        from assistant.evaluation.ncpqa import ENV_DIR, present, resolve_dir, run_ncpqa

        folder, how = resolve_dir(ncpqa_dir)
        if present(folder):
            report.ncpqa = run_ncpqa(settings, folder, embeddings=embeddings, limit=ncpqa_limit, baselines=baselines,
                                     progress=True, on_progress=say)
        else:
            report.ncpqa_skipped = (f"没有 ncpqa 数据（按{how}查找 {folder}：需要 corpus.jsonl 与 qa.jsonl；"
                                    f"用 --ncpqa-dir 或 {ENV_DIR} 指定）")
            if as_json:
                err.print(f"[yellow]ncpqa 跳过：{report.ncpqa_skipped}[/]")
    paths = write_splits_reports(report, reports_dir)
    return report, report.passed, report.failures(), paths


def _print_diff(old_path: Path, new_path: Path, new_data: dict | None, console) -> None:  # noqa: ANN001
    from assistant.evaluation.diff import diff_reports, load_report, print_diff

    new = new_data if new_data is not None else load_report(new_path)
    print_diff(diff_reports(load_report(old_path), new, str(old_path), str(new_path)), console)
