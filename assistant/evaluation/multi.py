"""Several splits in one run (``assistant eval --split … / --all-splits / --ncpqa``): one ``SplitsReport`` with
every split's ``EvalReport`` and the ncpqa table, printed and written side by side."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from assistant.evaluation.ncpqa import NCPQA_METRICS, NcpqaReport
from assistant.evaluation.runner import EvalReport
from assistant.evaluation.splits import Split, split_settings
from assistant.evaluation.thresholds import Thresholds, load_thresholds
from assistant.settings import Settings

# rows of the side-by-side table: (metric key, label)
SIDE_BY_SIDE = [
    ("hit_at_5", "hit@5"),
    ("fact_recall", "fact recall"),
    ("near_miss_refusal_rate", "near-miss refusal"),
    ("refusal_rate", "refusal"),
    ("false_refusal_rate", "false refusal"),
    ("citation_precision", "citation precision"),
    ("right_doc_cited", "right doc cited"),
    ("latency_total_p95", "latency p95"),
]


class SplitsReport(BaseModel):
    kind: Literal["splits"] = "splits"
    created: str
    splits: dict[str, EvalReport] = Field(default_factory=dict)
    descriptions: dict[str, str] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(default_factory=dict)  # split → why it did not run
    ncpqa: NcpqaReport | None = None
    ncpqa_skipped: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(r.gate.passed for r in self.splits.values())

    def failures(self) -> list[str]:
        return [f"{name}: {c.line()}" for name, r in self.splits.items() for c in r.gate.failures]


def run_split(split: Split, base: Settings, embeddings: object, *, baselines: bool, judge: bool, progress: bool,
              on_progress: Callable[[str], None] | None = None) -> EvalReport:
    """Ingest the split's corpus into its index (incremental, shared embedding cache) and score its gold."""
    from assistant.evaluation.runner import run_eval
    from assistant.ingest.pipeline import run_ingest
    from assistant.service import Assistant

    say = on_progress or (lambda _msg: None)
    settings = split_settings(split, base)
    ingest = run_ingest(settings, embeddings=embeddings, progress=progress)  # type: ignore[arg-type]
    if ingest.changed:
        say(f"{split.name}：已导入 {ingest.documents} 个文件，{ingest.chunks} 个片段（{ingest.seconds:.1f} 秒）")
    bot = Assistant(settings, embeddings=embeddings)  # type: ignore[arg-type]
    path = split.thresholds_path()
    thresholds = load_thresholds(path) if path else Thresholds()
    report = run_eval(
        settings, assistant=bot, gold_path=split.gold_files(), baselines=baselines, judge=judge,
        thresholds_path=path, thresholds=thresholds, match=split.match,
        on_progress=None if on_progress is None else (lambda msg: say(f"{split.name}：{msg}")),
    )
    return report


def run_splits(names: list[str], splits: dict[str, Split], base: Settings, *, baselines: bool = False,
               judge: bool = False, progress: bool = False, skip_missing: bool = False,
               on_progress: Callable[[str], None] | None = None, embeddings: object | None = None) -> SplitsReport:
    """Run the named splits in order. A split whose files are missing, or whose run stops on a data error (a
    malformed gold row, a source not in its corpus), is skipped with its reason when ``skip_missing``
    (``--all-splits``); otherwise that is an error."""
    from assistant.errors import AssistantError, ConfigError
    from assistant.ingest.pipeline import make_embeddings

    started = time.perf_counter()
    out = SplitsReport(created=datetime.now().astimezone().isoformat(timespec="seconds"))
    unknown = [n for n in names if n not in splits]
    if unknown:
        raise ConfigError(f"没有这个评测划分：{'、'.join(unknown)}", f"可用的划分：{'、'.join(splits)}（见 eval/splits.toml）。")
    emb = embeddings
    for name in names:
        split = splits[name]
        reason = split.missing()
        if reason:
            if not skip_missing:
                raise ConfigError(f"评测划分 {name} 无法运行：{reason}", "用 --all-splits 可跳过缺文件的划分。")
            out.skipped[name] = reason
            continue
        emb = emb or make_embeddings(base)  # one model, one cache file for every split
        try:
            out.splits[name] = run_split(split, base, emb, baselines=baselines, judge=judge, progress=progress,
                                         on_progress=on_progress)
        except AssistantError as exc:  # e.g. a gold row naming a document not (yet) in the split's corpus
            if not skip_missing:
                raise
            out.skipped[name] = f"出错：{exc.message}"
            continue
        out.descriptions[name] = split.description
    out.seconds = round(time.perf_counter() - started, 2)
    return out


# ---- presentation -------------------------------------------------------------------------------------
def _fmt(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} ms" if key.startswith("latency") else f"{value:.3f}"


SHORT_SYSTEMS = {"naive_langchain": "naive", "bm25_only": "bm25", "dense_only": "dense"}


def side_by_side(report: SplitsReport, sep: str = "/", short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header (metric, then split/system per column) and rows (one per metric, then n and gate)."""
    columns = [(name, s) for name, r in report.splits.items() for s in r.systems]
    header = ["metric", *(f"{name}{sep}{SHORT_SYSTEMS.get(s.name, s.name) if short else s.name}" for name, s in columns)]
    rows = [[label, *(_fmt(key, s.scores.values.get(key)) for _, s in columns)] for key, label in SIDE_BY_SIDE]
    rows.append(["n (ans/unans)",
                 *(f"{s.scores.n} ({s.scores.n_answerable}/{s.scores.n_unanswerable})" for _, s in columns)])
    gate = []
    for name, s in columns:
        r = report.splits[name]
        if s is not r.project:
            gate.append("—")
        elif not r.gate.checks:
            gate.append("no gate")
        else:
            gate.append("pass" if r.gate.passed else f"FAIL ({len(r.gate.failures)})")
    rows.append(["gate", *gate])
    return header, rows


def ncpqa_table(report: NcpqaReport) -> tuple[list[str], list[list[str]]]:
    """Per system: the test half (documents the sentence model was never fitted on) and all questions."""
    header = ["metric", *(f"{s.name} ({part})" for s in report.systems for part in ("test half", "all"))]
    rows = [[label, *(_fmt(key, v.get(key)) for s in report.systems for v in (s.values_test, s.values))]
            for key, label in NCPQA_METRICS]
    return header, rows


def print_splits(report: SplitsReport, console: Console | None = None) -> None:
    console = console or Console()
    if report.splits:
        header, rows = side_by_side(report, sep="\n", short=True)
        table = Table(title="评测划分并排对比（split / system）")
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for r in rows:
            table.add_row(*r)
        console.print(table)
    for name, reason in report.skipped.items():
        console.print(f"[yellow]跳过划分 {name}：{reason}[/]")
    if report.ncpqa:
        n = report.ncpqa
        header, rows = ncpqa_table(n)
        limit = f"，前 {n.limit} 题" if n.limit else ""
        table = Table(title=f"ncpqa：{n.n_questions} 个问题{limit}，{n.n_documents} 个文件")
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for r in rows:
            table.add_row(*r)
        console.print(table)
    elif report.ncpqa_skipped:
        console.print(f"[yellow]ncpqa 跳过：{report.ncpqa_skipped}[/]")
    for name, r in report.splits.items():
        if r.gate.checks and not r.gate.passed:
            console.print(f"[bold red]{name} 质量闸门未通过：[/]" + "；".join(c.line() for c in r.gate.failures))
        elif r.gate.checks:
            console.print(f"[bold green]{name} 质量闸门：通过[/]")


def splits_markdown(report: SplitsReport) -> str:
    from assistant.evaluation.report import _md_table, to_markdown

    md = [f"# 评测报告（多个划分）{report.created}", ""]
    if report.splits:
        md += ["## 并排对比", ""]
        header, rows = side_by_side(report)
        md += _md_table(header, rows)
        md += ["", "hit@5、fact recall、citation precision、right doc cited、false refusal 只统计可回答的问题；refusal 统计不可回答的问题，"
               "near-miss refusal 只统计其中 near_miss=true 的；latency p95 是全部问题的 total。", ""]
        md += [f"- **{name}**：{report.descriptions.get(name, '')}（`{r.gold}`，{r.n_questions} 题，{len(r.corpus)} 个文件，"
               f"阈值 `{r.thresholds_file or '无'}`）" for name, r in report.splits.items()]
    md += [f"- 跳过 **{name}**：{reason}" for name, reason in report.skipped.items()]
    md.append("")
    if report.ncpqa:
        n = report.ncpqa
        md += [f"## ncpqa（{n.n_questions} 题，{n.n_documents} 个文件，数据 `{n.data_dir}`）", ""]
        header, rows = ncpqa_table(n)
        md += _md_table(header, rows) + [""] + [f"- 注：{x}" for x in n.notes] + [""]
    elif report.ncpqa_skipped:
        md += [f"ncpqa 跳过：{report.ncpqa_skipped}", ""]
    for name, r in report.splits.items():
        md += [f"## 划分 {name}", ""]
        md += ["#" + line if line.startswith("#") else line for line in to_markdown(r).splitlines()[1:]]
    return "\n".join(md) + "\n"


def write_splits_reports(report: SplitsReport, out_dir: Path | None = None) -> tuple[Path, Path]:
    from assistant.evaluation.report import write_report_files

    return write_report_files(report.created, report.model_dump_json(indent=1), splits_markdown(report), out_dir,
                              "-splits")
