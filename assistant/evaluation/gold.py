"""The gold question set: a typed loader for ``eval/gold/*.jsonl`` that rejects malformed rows by line number."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import AssistantError
from assistant.settings import REPO_ROOT

DEFAULT_GOLD = REPO_ROOT / "eval" / "gold"

Category = Literal[
    "factual", "enumeration", "number_date", "metadata", "paraphrase", "enterprise", "multi_turn", "unanswerable",
    # the development corpus (eval/corpus_dev/) adds these
    "amount", "condition", "deadline", "contact", "table", "multi_part",
]


class GoldError(AssistantError):
    """The gold file is missing or a row is malformed; the message names the file and line."""

    status_code = 422


class GoldRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    category: Category
    answerable: bool
    expected_sources: list[str] = Field(default_factory=list)
    expected_sections: list[str] = Field(default_factory=list)
    key_facts: list[list[str]] = Field(default_factory=list)  # each inner list: accepted variants of one fact
    history: list[str] = Field(default_factory=list)
    notes: str = ""
    near_miss: bool = Field(default=False, strict=True)  # only on unanswerable rows: the corpus nearly answers it (same topic, detail not given)
    # where the row came from (set by the loader, not part of the file)
    file: str = Field(default="", exclude=True)
    line: int = Field(default=0, exclude=True)

    @field_validator("key_facts")
    @classmethod
    def _facts_have_variants(cls, facts: list[list[str]]) -> list[list[str]]:
        for i, variants in enumerate(facts, 1):
            if not variants or not all(v.strip() for v in variants):
                raise ValueError(f"key_facts 第 {i} 项必须是非空字符串的非空列表")
        return facts

    @model_validator(mode="after")
    def _consistent(self) -> GoldRow:
        if self.answerable:
            if not self.expected_sources:
                raise ValueError("answerable=true 的行必须给出 expected_sources")
            if not self.key_facts:
                raise ValueError("answerable=true 的行必须给出 key_facts")
            if self.category == "unanswerable":
                raise ValueError("category=unanswerable 的行必须 answerable=false")
        else:
            if self.expected_sources or self.expected_sections or self.key_facts:
                raise ValueError("answerable=false 的行不能有 expected_sources / expected_sections / key_facts")
        if self.near_miss and self.answerable:
            raise ValueError("near_miss=true 只能用于 answerable=false 的行")
        if self.category == "multi_turn" and not self.history:
            raise ValueError("category=multi_turn 的行必须给出 history（之前的提问）")
        return self


QUESTION_FILES = "questions*.jsonl"  # other files in eval/gold/ (e.g. profiles.jsonl for matching) have other schemas


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob(QUESTION_FILES))
        if not files:
            raise GoldError(
                f"目录 {path} 下没有 {QUESTION_FILES} 金标文件", "请用 --gold 指定文件，或在 eval/gold/ 下放置 questions*.jsonl。"
            )
        return files
    if not path.exists():
        raise GoldError(f"找不到金标文件 {path}", "请检查 --gold 参数（默认 eval/gold/ 下的 *.jsonl）。")
    return [path]


def _explain(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "；".join(parts)


def load_gold(
    path: Path | str | Sequence[Path | str] | None = None, corpus_sources: set[str] | None = None
) -> list[GoldRow]:
    """Rows of one ``.jsonl`` file, or of every ``questions*.jsonl`` in a folder (default ``eval/gold/``), or of
    several such files/folders (a split's gold; ids must be unique across all of them).

    Raises ``GoldError`` naming the file and line of the first malformed row (bad JSON, missing/extra field,
    wrong type, inconsistent answerable/sources/facts, duplicate id, or — when ``corpus_sources`` is given —
    an expected source that is not in the corpus).
    """
    rows: list[GoldRow] = []
    seen: dict[str, str] = {}
    if path is None:
        paths = [DEFAULT_GOLD]
    elif isinstance(path, (str, Path)):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
    for file in [f for p in paths for f in _files(p)]:
        with open(file, encoding="utf-8") as fh:
            for n, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                where = f"{file.name} 第 {n} 行"
                try:
                    data = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise GoldError(f"{where}：不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）", "每行一个 JSON 对象。") from exc
                if not isinstance(data, dict):
                    raise GoldError(f"{where}：应为 JSON 对象", "每行一个 JSON 对象，字段见 eval/gold/README.md。")
                try:
                    row = GoldRow.model_validate({**data, "file": file.name, "line": n})
                except ValidationError as exc:
                    raise GoldError(f"{where}：{_explain(exc)}", "字段说明见 eval/gold/README.md。") from exc
                if row.id in seen:
                    raise GoldError(f"{where}：id {row.id!r} 重复（已在 {seen[row.id]} 出现）", "每个问题的 id 必须唯一。")
                if corpus_sources is not None:
                    unknown = [s for s in row.expected_sources if s not in corpus_sources]
                    if unknown:
                        raise GoldError(
                            f"{where}：expected_sources 中的 {'、'.join(unknown)} 不在语料中",
                            f"语料中的文件：{'、'.join(sorted(corpus_sources))}。",
                        )
                seen[row.id] = where
                rows.append(row)
    if not rows:
        raise GoldError(f"金标文件 {'、'.join(str(p) for p in paths)} 中没有问题", "每行一个 JSON 对象。")
    return rows
