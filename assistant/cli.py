"""``assistant`` command line: a thin layer over the same library calls the API uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.errors import AssistantError
from assistant.settings import Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="政策问答助手：导入政策文件，带引用地回答问题。")
console = Console()
# Errors are never folded mid-phrase (a hard wrap at 80 columns split messages in logs and tests).
err = Console(stderr=True, soft_wrap=True)

CorpusOpt = Annotated[Path | None, typer.Option("--corpus", help="语料目录（默认 corpus/ 或 ASSISTANT_CORPUS_DIR）")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="索引与状态目录（默认 .data/ 或 ASSISTANT_DATA_DIR）")]


def load_settings(corpus: Path | None = None, data_dir: Path | None = None) -> Settings:
    settings = get_settings()
    update = {}
    if corpus is not None:
        update["corpus_dir"] = corpus
    if data_dir is not None:
        update["data_dir"] = data_dir
    return settings.model_copy(update=update).resolved() if update else settings


def fail(exc: AssistantError) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{exc.message}")
    if exc.hint:
        err.print(f"[yellow]{exc.hint}[/]")
    return typer.Exit(code=2)


@app.command()
def ingest(
    corpus: CorpusOpt = None,
    data_dir: DataOpt = None,
    force: Annotated[bool, typer.Option("--force", help="忽略清单，全部重建（向量仍走缓存）")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出导入报告")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help="另一个导入正在进行时最多等待的秒数（默认不等，直接退出）")] = 0,
) -> None:
    """导入（或增量更新）语料目录中的 .txt .md .pdf .docx .html 文件。"""
    from assistant.ingest.pipeline import run_ingest

    settings = load_settings(corpus, data_dir)
    try:
        report = run_ingest(settings, progress=not as_json and sys.stderr.isatty(), force=force, wait_s=wait)
    except AssistantError as exc:
        raise fail(exc) from exc
    if report.measures_error:
        err.print(f"[yellow]政策措施目录未生成：{escape(report.measures_error)}[/]")
    if as_json:
        print(report.model_dump_json())
    else:
        state = "已更新" if report.changed else "无变化"
        console.print(
            f"[bold green]导入完成[/]（{state}）：{report.documents} 个文件，{report.chunks} 个片段，"
            f"新向量化 {report.embedded} 个，用时 {report.seconds:.1f} 秒；政策措施 {report.measures or 0} 条"
        )
        for label, items in (("新增", report.added), ("更新", report.updated), ("删除", report.removed)):
            if items:
                console.print(f"  {label}：{'、'.join(items)}")
    if report.skipped:
        err.print(f"[yellow]未导入 {len(report.skipped)} 个文件[/]（其余文件照常导入，索引中没有它们的半成品）：")
    for s in report.skipped:
        kept = "（索引保留上一版本）" if s.kept_previous else ""
        reason = s.reason.replace("\n", "；")
        err.print(f"[yellow]跳过[/] {escape(s.source)}{kept}：{escape(reason)}")


@app.command()
def ask(
    questions: Annotated[list[str], typer.Argument(help="一个或多个问题")],
    as_json: Annotated[bool, typer.Option("--json", help="每个问题输出一行 JSON")] = False,
    data_dir: DataOpt = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50)] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="只在这些文件中检索（相对语料目录的路径）")] = None,
) -> None:
    """回答问题并给出可核对的引用（原文、文号、日期、章节）。"""
    from assistant.prompts import book_title
    from assistant.service import Assistant

    settings = load_settings(data_dir=data_dir)
    bot = Assistant(settings)
    filters = {"source": source} if source else None
    code = 0
    for q in questions:
        try:
            answer = bot.ask(q, top_k=top_k, filters=filters)
        except AssistantError as exc:
            if as_json:
                print(json.dumps({"question": q, "error": exc.message, "hint": exc.hint}, ensure_ascii=False))
                code = 2
                continue
            raise fail(exc) from exc
        if as_json:
            print(answer.model_dump_json(exclude_none=True))
            continue
        console.rule(f"[bold]{q}")
        console.print(answer.answer)
        for c in answer.citations:
            meta = " · ".join(x for x in (c.doc_number, c.date, c.section) if x)
            console.print(f"[cyan][{c.n}][/] {book_title(c.title)} {meta}\n    [dim]“{c.quote}”[/]")
        if not answer.grounded:
            console.print("[yellow](未找到依据，未作回答)[/]")
    raise typer.Exit(code)


@app.command()
def documents(data_dir: DataOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出已导入的文件（标题、文号、日期、片段数）。"""
    from assistant.service import Assistant

    try:
        bot = Assistant(load_settings(data_dir=data_dir))
        docs = bot.documents()
    except AssistantError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps([d.model_dump() for d in docs], ensure_ascii=False))
        return
    table = Table("文件", "标题", "文号", "日期", "片段")
    for d in docs:
        table.add_row(d.source, d.title, d.doc_number, d.date, str(d.chunks))
    console.print(table)
    for s in bot.skipped():  # what the last ingest could not read, and why
        kept = "（索引保留上一版本）" if s.kept_previous else ""
        err.print(f"[yellow]未导入[/] {escape(s.source)}{kept}：{escape(s.reason.replace(chr(10), '；'))}")


@app.command()
def chunks(
    source: Annotated[str | None, typer.Option("--source", help="只看这个文件（相对语料目录的路径）")] = None,
    data_dir: DataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="每个片段输出一行 JSON")] = False,
) -> None:
    """查看文件被切成了哪些片段（章节路径、原文、在清洗后文本中的位置），以及有没有内容未进入索引。"""
    from assistant.service import Assistant

    try:
        docs = Assistant(load_settings(data_dir=data_dir)).document_chunks(source)
    except AssistantError as exc:
        raise fail(exc) from exc
    lost = sum(len(d.uncovered) for d in docs)
    if as_json:
        for d in docs:
            for c in d.chunks:
                print(c.model_dump_json())
    else:
        for d in docs:
            console.rule(f"[bold]{d.document.source}[/] · {d.document.title} · {d.count} 个片段")
            for c in d.chunks:
                console.print(f"[cyan]#{c.ordinal}[/] [bold]{c.section}[/] [dim]{c.start}–{c.end}，{c.chars} 字[/]")
                console.print(c.text, markup=False, highlight=False)
            for g in d.uncovered:
                err.print(f"[bold red]未进入任何片段[/] {d.document.source} {g.start}–{g.end}：{g.text[:60]}")
        if not lost:
            console.print("[green]全部内容都已进入索引。[/]")
    if lost:
        raise typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: DataOpt = None,
    corpus: CorpusOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 1,
) -> None:
    """启动 HTTP 服务（问答 API、聊天页面、微信回调）。上传的文件保存到语料目录（或 ASSISTANT_UPLOAD_DIR）。"""
    import os

    import uvicorn

    for path, env in ((data_dir, "ASSISTANT_DATA_DIR"), (corpus, "ASSISTANT_CORPUS_DIR")):
        if path is not None:  # through the environment, so that every worker process sees it
            os.environ[env] = str(path.expanduser().resolve())
            get_settings.cache_clear()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@app.command()
def bench(
    data_dir: DataOpt = None,
    corpus: CorpusOpt = None,
    questions: Annotated[int, typer.Option("--questions", min=10)] = 60,
) -> None:
    """基准测试：导入耗时、查询延迟 p50/p95、峰值内存。"""
    from assistant.bench import run_bench

    run_bench(load_settings(corpus, data_dir), n_questions=questions)


def _register_feature_commands() -> None:
    """Feature packages add their commands here (their modules import nothing heavy at import time)."""
    import importlib

    for module_name, commands in (
        ("assistant.evaluation.cli", {"eval": "eval_command"}),
        ("assistant.match.cli", {"match": "match_command", "measures": "measures_command"}),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # feature not built yet
            raise
        for name, attr in commands.items():
            app.command(name)(getattr(module, attr))


_register_feature_commands()


def main() -> None:
    """The ``assistant`` command. When stderr is not a terminal (CI, logs, a pipe), usage errors are printed as
    plain text: Typer's rich panel folds them at the console width, splitting a message mid-phrase."""
    if not sys.stderr.isatty():
        app.rich_markup_mode = None
    app()


if __name__ == "__main__":
    main()
