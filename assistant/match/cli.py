"""``assistant match`` and ``assistant measures``: thin commands over the same calls ``/v1/match`` and
``/v1/measures`` use. Registered by ``assistant/cli.py``; nothing heavy is imported at module import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()

DataOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="索引与状态目录（默认 .data/ 或 ASSISTANT_DATA_DIR）")
]
STATUS_STYLE = {"满足": "green", "不满足": "red", "需确认": "yellow"}
FIELD_LABELS = {
    "industries": "行业",
    "needs": "需求",
    "stage": "阶段",
    "size": "规模",
    "location": "所在地",
    "qualifications": "资质",
    "entity_types": "主体类型",
    "groups": "人才类型",
}


def _profile_input(
    profile: Path | None, description: str | None, needs: list[str] | None, industry: str | None
):
    from pydantic import ValidationError

    from assistant.errors import InputError
    from assistant.match.profile import ProfileInput

    data: dict = {}
    if profile is not None:
        try:
            data = json.loads(profile.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"无法读取画像文件 {profile}：{exc.strerror or exc}", "请检查路径。") from exc
        except json.JSONDecodeError as exc:
            raise InputError(
                f"画像文件 {profile} 不是有效的 JSON（第 {exc.lineno} 行：{exc.msg}）",
                '示例：{"description": "做工业软件的成长期企业，想申请贷款", "needs": ["融资/信贷"]}',
            ) from exc
        if not isinstance(data, dict):
            raise InputError(f"画像文件 {profile} 的顶层必须是 JSON 对象")
    if description:
        data["description"] = description
    if needs:
        data["needs"] = (
            [*data.get("needs", []), *needs] if isinstance(data.get("needs"), list) else list(needs)
        )
    if industry:
        data["industry"] = industry
    try:
        return ProfileInput.model_validate(data)
    except ValidationError as exc:
        problems = "；".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InputError(
            f"画像字段有误：{problems}",
            "可用字段：name industry stage size location qualifications needs description。",
        ) from exc


def _print_profile(profile) -> None:
    parts = []
    for label, value in (
        ("行业", "、".join(profile.industries) or profile.industry),
        ("阶段", profile.stage),
        ("规模", profile.size_class and f"{profile.size_class}（{profile.size or ''}）".replace("（）", "")),
        ("所在地", profile.location),
        ("资质", "、".join(profile.qualifications)),
        ("需求", "、".join(profile.needs + profile.other_needs)),
        ("人才", "、".join(profile.groups)),
    ):
        if value:
            parts.append(f"{label}：{value}")
    console.print(f"[bold]画像[/]  {'；'.join(parts) or '（仅描述）'}")
    if profile.inferred:
        inferred = "、".join(FIELD_LABELS.get(f, f) for f in profile.inferred)
        console.print(f"[dim]（由描述推断：{inferred}）[/]")


def match_command(
    description: Annotated[
        str | None, typer.Argument(help="企业情况与诉求，如“做工业软件的成长期企业，想申请贷款”")
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="画像 JSON 文件（字段同 POST /v1/match）")
    ] = None,
    need: Annotated[
        list[str] | None, typer.Option("--need", help="需求（支持类型），可重复，如 --need 人才引进")
    ] = None,
    industry: Annotated[str | None, typer.Option("--industry", help="行业")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=20, help="最多返回几条")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="输出与 POST /v1/match 相同的 JSON")] = False,
    data_dir: DataOpt = None,
) -> None:
    """按企业画像匹配适用的支持措施：给出理由、条件核对（满足/不满足/需确认）和原文引用。"""
    from assistant.cli import fail, load_settings
    from assistant.errors import AssistantError
    from assistant.match.matcher import match
    from assistant.service import Assistant

    try:
        inp = _profile_input(profile, description, need, industry)
        response = match(Assistant(load_settings(data_dir=data_dir)), inp, top_k=top_k)
    except AssistantError as exc:
        raise fail(exc) from exc
    if as_json:
        print(response.model_dump_json())
        return
    _print_profile(response.profile)
    if not response.results:
        console.print("[yellow]没有找到与该画像相符的支持措施。[/]可以补充行业、需求，或换一种说法描述。")
        return
    for i, r in enumerate(response.results, 1):
        console.rule(f"[bold]{i}. {r.title}[/]  [dim]{r.score:.2f}[/]", align="left")
        if r.kinds:
            console.print(f"  [dim]{' · '.join(r.kinds)}[/]")
        for reason in r.reasons:
            console.print(f"  • {reason}")
        for c in r.conditions:
            style = STATUS_STYLE.get(c.status, "white")
            console.print(f"  [{style}]【{c.status}】[/]{c.text}  [dim]{c.reason}[/]")
        for c in r.citations:
            meta = " · ".join(x for x in (c.doc_number, c.date, c.section) if x)
            console.print(f"  [cyan]《{c.title}》[/] {meta}\n    [dim]“{c.quote}”[/]")


def measures_command(
    kind: Annotated[str | None, typer.Option("--kind", help="支持类型，如 知识产权、融资/信贷")] = None,
    source: Annotated[str | None, typer.Option("--source", help="只列出该文件（相对语料目录的路径）")] = None,
    q: Annotated[str | None, typer.Option("--q", help="标题或正文包含的词（空格分隔，需全部包含）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 列表")] = False,
    data_dir: DataOpt = None,
) -> None:
    """列出支持措施目录（由语料中的编号条目/章节提取）。"""
    from assistant.cli import fail, load_settings
    from assistant.errors import AssistantError
    from assistant.match.catalogue import list_measures
    from assistant.service import Assistant

    try:
        measures = list_measures(Assistant(load_settings(data_dir=data_dir)), kind=kind, source=source, q=q)
    except AssistantError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps([m.model_dump() for m in measures], ensure_ascii=False))
        return
    table = Table("ID", "措施", "支持类型", "文号", "章节")
    for m in measures:
        table.add_row(m.id, m.title, "、".join(m.kinds), m.doc_number, m.heading)
    console.print(table)
    console.print(f"[dim]共 {len(measures)} 条[/]")
