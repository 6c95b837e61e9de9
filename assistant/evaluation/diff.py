"""``assistant eval --diff OLD.json [--against NEW.json]``: which questions' outcomes changed between two reports.

Reports are read as plain JSON (older reports lack newer fields; nothing here needs them): an ``EvalReport``
(the default run; its one split is called ``gold``) or a ``SplitsReport`` (``kind: "splits"``, per split, plus
the ncpqa table as split ``ncpqa``). Questions are matched by split name and id, on the project system.

Outcomes compared, each good or bad:
- answerable rows: answered (good) vs refused; all key facts found (good) vs not; citations correct — at least
  one citation and every one correct — (good) vs not, compared only when the row was answered in both;
- unanswerable rows: refused (good) vs answered;
- ncpqa rows: answered, gold document in the top 5, gold span in the top-5 contexts.

A question is *fixed* when some outcome went bad → good and none good → bad, *broken* the other way round, and
*changed* when both happened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from rich.console import Console
from rich.markup import escape

from assistant.errors import InputError

HEAD = 60
Outcomes = dict[str, bool | None]
# outcome key → (label, text when good, text when bad)
LABELS = {
    "answered": ("作答", "作答", "拒答"),
    "refused": ("拒答", "拒答", "作答"),
    "all_facts": ("要点", "全", "缺"),
    "citations_ok": ("引用", "对", "错"),
    "doc_hit_at_5": ("文件前5", "命中", "未中"),
    "span_in_top5": ("答案片段前5", "在", "不在"),
}


class QuestionRow(BaseModel):
    id: str
    question: str
    answer: str
    grounded: bool
    outcomes: Outcomes


class DiffEntry(BaseModel):
    split: str
    id: str
    question: str
    group: Literal["fixed", "broken", "changed"]
    changes: list[str]
    old_head: str
    new_head: str


class DiffResult(BaseModel):
    old: str
    new: str
    entries: list[DiffEntry] = Field(default_factory=list)
    compared: dict[str, int] = Field(default_factory=dict)  # split → questions in both
    only_old: list[str] = Field(default_factory=list)  # splits in one report only
    only_new: list[str] = Field(default_factory=list)
    missing_ids: dict[str, int] = Field(default_factory=dict)  # split → ids in one report only

    def count(self, group: str) -> int:
        return sum(e.group == group for e in self.entries)

    def summary(self) -> str:
        n = sum(self.compared.values())
        return (f"比较了 {n} 个问题（{len(self.compared)} 个划分）：修好 {self.count('fixed')}，变坏 {self.count('broken')}，"
                f"有好有坏 {self.count('changed')}")


def _eval_rows(report: dict[str, Any]) -> dict[str, QuestionRow]:
    systems = report.get("systems") or []
    if not systems:
        return {}
    project = next((s for s in systems if s.get("name") == "project"), systems[0])
    out = {}
    for r in project.get("rows", []):
        grounded = bool(r.get("grounded"))
        if r.get("answerable", True):
            cites = r.get("citations") or []
            facts = r.get("all_facts")
            if facts is None:
                facts = r.get("facts_found", 0) == len(r.get("expected_facts") or [])
            outcomes: Outcomes = {
                "answered": grounded,
                "all_facts": bool(facts) and grounded,
                "citations_ok": (bool(cites) and all(c.get("correct", False) for c in cites)) if grounded else None,
            }
        else:
            outcomes = {"refused": not grounded}
        out[r["id"]] = QuestionRow(id=r["id"], question=r.get("question", ""), answer=r.get("answer", ""),
                                   grounded=grounded, outcomes=outcomes)
    return out


def _ncpqa_rows(ncpqa: dict[str, Any]) -> dict[str, QuestionRow]:
    systems = ncpqa.get("systems") or []
    if not systems:
        return {}
    out = {}
    for r in systems[0].get("rows", []):
        outcomes: Outcomes = {"answered": bool(r.get("grounded")), "doc_hit_at_5": bool(r.get("doc_hit_at_5")),
                              "span_in_top5": bool(r.get("span_in_top5"))}
        out[r["id"]] = QuestionRow(id=r["id"], question=r.get("question", ""), answer=r.get("answer", ""),
                                   grounded=bool(r.get("grounded")), outcomes=outcomes)
    return out


def report_rows(data: dict[str, Any]) -> dict[str, dict[str, QuestionRow]]:
    """split → id → row, from a report's JSON."""
    if data.get("kind") == "splits":
        out = {name: _eval_rows(r) for name, r in (data.get("splits") or {}).items()}
        if data.get("ncpqa"):
            out["ncpqa"] = _ncpqa_rows(data["ncpqa"])
        return out
    if "systems" in data:
        return {"gold": _eval_rows(data)}
    raise InputError("不是 assistant eval 的报告（既没有 systems 也没有 splits）", "请给出 eval/reports/ 下的 .json 报告。")


def load_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"找不到报告 {path}", "请给出 eval/reports/ 下的 .json 报告。") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"报告 {path} 不是合法的 JSON（{exc.msg}）", "请给出 assistant eval 写出的 .json 报告。") from exc
    if not isinstance(data, dict):
        raise InputError(f"报告 {path} 应为 JSON 对象", "请给出 assistant eval 写出的 .json 报告。")
    return data


def head(row: QuestionRow, n: int = HEAD) -> str:
    text = " ".join(row.answer.split())
    text = text if len(text) <= n else text[: n - 1] + "…"
    return text if row.grounded else f"（拒答）{text}"


def compare_rows(split: str, old: QuestionRow, new: QuestionRow) -> DiffEntry | None:
    ups, downs, changes = 0, 0, []
    for key in dict.fromkeys([*old.outcomes, *new.outcomes]):
        a, b = old.outcomes.get(key), new.outcomes.get(key)
        if a is None or b is None or a == b:
            continue
        label, good, bad = LABELS.get(key, (key, "yes", "no"))
        changes.append(f"{label}：{good if a else bad}→{good if b else bad}")
        if b:
            ups += 1
        else:
            downs += 1
    if not changes:
        return None
    group: Literal["fixed", "broken", "changed"] = "changed" if ups and downs else ("fixed" if ups else "broken")
    return DiffEntry(split=split, id=new.id, question=new.question or old.question, group=group, changes=changes,
                     old_head=head(old), new_head=head(new))


def diff_reports(old: dict[str, Any], new: dict[str, Any], old_name: str = "old", new_name: str = "new") -> DiffResult:
    a, b = report_rows(old), report_rows(new)
    result = DiffResult(old=old_name, new=new_name, only_old=sorted(set(a) - set(b)), only_new=sorted(set(b) - set(a)))
    for split in [s for s in b if s in a]:
        common = [i for i in b[split] if i in a[split]]
        result.compared[split] = len(common)
        missing = len(set(a[split]) ^ set(b[split]))
        if missing:
            result.missing_ids[split] = missing
        for qid in common:
            entry = compare_rows(split, a[split][qid], b[split][qid])
            if entry:
                result.entries.append(entry)
    return result


GROUP_TITLES = {"fixed": ("修好了（fixed）", "green"), "broken": ("变坏了（broken）", "red"),
                "changed": ("有好有坏（changed）", "yellow")}


def print_diff(result: DiffResult, console: Console | None = None) -> None:
    console = console or Console()
    console.rule(f"对比 {escape(result.old)} → {escape(result.new)}")
    for group, (title, colour) in GROUP_TITLES.items():
        entries = [e for e in result.entries if e.group == group]
        if not entries:
            continue
        console.print(f"[bold {colour}]{title}：{len(entries)}[/]")
        for e in entries:
            console.print(f"  [bold]{escape(e.split)}/{escape(e.id)}[/] {escape(e.question)}  [{colour}]{'；'.join(e.changes)}[/]")
            console.print(f"      旧：{escape(e.old_head)}")
            console.print(f"      新：{escape(e.new_head)}")
    for split in result.only_old:
        console.print(f"[dim]只在旧报告中的划分：{escape(split)}[/]")
    for split in result.only_new:
        console.print(f"[dim]只在新报告中的划分：{escape(split)}[/]")
    for split, n in result.missing_ids.items():
        console.print(f"[dim]{escape(split)}：{n} 个问题 id 只在一份报告中，未比较[/]")
    console.print(f"[bold]{result.summary()}[/]")
