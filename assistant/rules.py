"""The answering rules: one YAML data file (``assistant/data/rules.yaml``) of the word lists, patterns and numbers
that drive question analysis, the relevance gate and the extractive answerer, validated with pydantic.

``load_rules(path)`` reads and validates a file once per path (``None`` = the packaged file); regexes are
compiled at load. A file that is not YAML, has an unknown key, a bad regex or a value out of range fails with
a ``RulesError`` naming the file and line, and a hint. Code takes a ``Rules`` object as an argument; nothing is
read at import. ``settings.rules_path`` (``ASSISTANT_RULES_PATH``) picks the file for the service.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.answer.qualifiers import QualifierRules as _QualifierRules
from assistant.errors import ConfigError
from assistant.yamlfile import compose, describe_error, syntax_error

PACKAGED = Path(__file__).resolve().parent / "data" / "rules.yaml"
ENV_PATH = "ASSISTANT_RULES_PATH"


class RulesError(ConfigError):
    """The rules file is missing, not YAML, or does not fit the schema."""


def _regex(value: Any) -> Any:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise ValueError("应为正则表达式文字（用单引号括起）")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"正则表达式无效：{exc}") from exc


def _words(value: Any) -> Any:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple | set | frozenset):
        out = set()
        for v in value:
            if not isinstance(v, str) or not v.strip():
                raise ValueError("词表中的每一项应为非空文字")
            out.add(v.strip())
        return frozenset(out)
    raise ValueError("应为以空白分隔的一段词，或词的列表")


Regex = Annotated[re.Pattern[str], BeforeValidator(_regex)]
Words = Annotated[frozenset[str], BeforeValidator(_words)]
Factor = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- lexical ----------------------------------------------------------------------------------------------
class LexicalRules(_Strict):
    stopwords: Words
    phrasing_tags: Words


# ---- question ---------------------------------------------------------------------------------------------
class AnswerType(_Strict):
    name: str = Field(min_length=1)
    question: Regex
    passage: Regex
    type_words: Regex
    # the kind may stand this many sentences either side of a sentence about the topic (a contact line sits
    # next to the sentence about the application and never names the topic itself)
    window: int = Field(default=0, ge=0, le=3)
    # the question pattern does not count where this matches (多少比例 asks for a rate, not an amount)
    unless: Regex | None = None


def _needs_group(pattern: re.Pattern[str]) -> re.Pattern[str]:
    if pattern.groups < 1:
        raise ValueError("正则表达式需要一个捕获组 (…)，用来取出序数")
    return pattern


class QuestionRules(_Strict):
    frame_words: Words
    enumeration: Regex
    ordinal: Regex
    ordinal_term: Regex
    number: Regex
    meta_field: Regex
    doc_words: Regex
    doc_level_field: Regex
    cited_document: Regex | None = None  # the question is about a document this one cites (依据/转发…)
    answer_types: list[AnswerType]
    light_verbs: Words
    phrasing_weight: Factor
    split_min_chars: int = Field(ge=2)

    @field_validator("ordinal")
    @classmethod
    def _ordinal_group(cls, v: re.Pattern[str]) -> re.Pattern[str]:
        return _needs_group(v)

    @field_validator("answer_types")
    @classmethod
    def _unique_types(cls, v: list[AnswerType]) -> list[AnswerType]:
        names = [t.name for t in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"答案类型重名：{', '.join(dup)}")
        return v

    def answer_type(self, name: str | None) -> AnswerType | None:
        return next((t for t in self.answer_types if t.name == name), None)


# ---- gate -------------------------------------------------------------------------------------------------
class GateRules(_Strict):
    top_passages: int = Field(ge=1)
    missing_terms_max: int = Field(ge=0)
    answer_passage_factor: Factor
    topic_sentence_factor: Factor
    place: Regex
    dense_skip_passages: int = Field(ge=1)
    dense_skip_min_hits: int = Field(ge=0)
    dense_skip_min_terms: int = Field(ge=0)
    instruction: Regex | None = None  # instruction-like sentences (prompt injection): never evidence


# ---- answer -----------------------------------------------------------------------------------------------
class QualifierRules(_QualifierRules):
    """Qualifier slots (``assistant.answer.qualifiers``), validated like the rest of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, v: dict[str, str]) -> dict[str, str]:
        for slot, pattern in v.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{slot}: 无效的正则（{exc}）") from exc
        return v


class SentenceRules(_Strict):
    top_passages: int = Field(ge=1)
    own_weight: float = Field(ge=0.0)
    rank_bonus: float = Field(ge=0.0)
    short_sentence_chars: int = Field(ge=0)
    short_sentence_penalty: float = Field(ge=0.0)
    lead_chars: int = Field(ge=0)
    lead_endings: tuple[str, ...]
    neighbour_factor: Factor
    enumeration_budget_factor: int = Field(ge=1)
    second_passage_factor: Factor
    second_passage_gain: Factor


class EnumerationRules(_Strict):
    item: Regex
    paren_item: Regex
    item_head_chars: int = Field(ge=1)
    intro_endings: tuple[str, ...]
    intro_word: str

    @field_validator("item", "paren_item")
    @classmethod
    def _group(cls, v: re.Pattern[str]) -> re.Pattern[str]:
        return _needs_group(v)


class StructureRules(_Strict):
    top_passages: int = Field(ge=1)
    heading_min_cover: Factor
    min_cover: float = Field(ge=0.0, le=2.0)
    min_children: int = Field(ge=1)
    item_question_suffix: str


class MetadataField(_Strict):
    label: str = Field(min_length=1)
    question: Regex
    evidence: Literal["own_doc_number", "signing_date", "own_issuer", "line"]
    pattern: Regex | None = None
    multiline: bool = False
    content: Regex | None = None  # with ``document``: a content question ("哪年发布实施"), not metadata
    document: Regex | None = None

    @model_validator(mode="after")
    def _line_pattern(self) -> MetadataField:
        if self.evidence == "line" and self.pattern is None:
            raise ValueError("evidence: line 需要 pattern（证据行的正则）")
        if self.multiline and self.pattern is not None and not self.pattern.flags & re.M:
            object.__setattr__(self, "pattern", re.compile(self.pattern.pattern, self.pattern.flags | re.M))
        return self


class MetadataRules(_Strict):
    fields: list[MetadataField]
    value_prefix: Regex


class TableRules(_Strict):
    separator: str = Field(min_length=1)
    row_factor: Factor
    max_rows: int = Field(ge=1)


class RefusalRules(_Strict):
    missing_terms: int = Field(ge=0)
    closest_documents: int = Field(ge=0)


class DecisionRules(_Strict):
    question_words: Words
    document_slots: tuple[str, ...] = ()
    required_types: tuple[str, ...] = ()


class PolicyRules(_Strict):
    effective: Regex
    validity: Regex
    status: Regex


class AnswerRules(_Strict):
    qualifiers: QualifierRules
    policy: PolicyRules
    decision: DecisionRules
    sentence: SentenceRules
    enumeration: EnumerationRules
    structure: StructureRules
    metadata: MetadataRules
    refusal: RefusalRules
    table: TableRules


class Rules(_Strict):
    version: Literal[1] = 1
    lexical: LexicalRules
    question: QuestionRules
    gate: GateRules
    answer: AnswerRules


# ---- reading the file with line numbers -------------------------------------------------------------------
_MESSAGES = {
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "missing": "缺少必填字段",
    "list_type": "应为列表，如 [a, b]",
    "tuple_type": "应为列表，如 [a, b]",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "model_type": "应为键值映射",
    "literal_error": "取值不在允许范围内",
    "string_too_short": "不能为空",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
}


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", ""))
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    zh = _MESSAGES.get(str(error.get("type")))
    return f"{zh}（{msg}）" if zh else msg


def parse_rules(text: str, path: Path | str = "<rules>") -> Rules:
    """Validate rules YAML text; ``path`` only names the file in errors."""
    hint = f"请对照内置的 {PACKAGED.name}（assistant/data/）修正该条目。"
    try:
        data, root = compose(text)
    except yaml.YAMLError as exc:
        where, problem = syntax_error(exc)
        raise RulesError(f"规则文件 {path} {where}不是有效的 YAML：{problem}", "请修正 YAML 语法（缩进、冒号、引号）。") from exc
    if not isinstance(data, dict):
        raise RulesError(f"规则文件 {path} 的顶层必须是键值映射（lexical: …, question: …）", hint)
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"规则文件 {path} {describe_error(root, exc, _message)}", hint) from exc


_cache: dict[Path, Rules] = {}
_lock = threading.Lock()


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules in ``path`` (``None`` or empty: the packaged file), read and validated once per path."""
    resolved = Path(path).expanduser().resolve() if path else PACKAGED
    with _lock:
        cached = _cache.get(resolved)
        if cached is not None:
            return cached
        try:
            text = resolved.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise RulesError(f"找不到规则文件 {resolved}", f"请检查 {ENV_PATH}，不设则使用内置的规则文件。") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(f"无法读取规则文件 {resolved}：{exc}", "请确认文件存在且为 UTF-8 编码。") from exc
        rules = parse_rules(text, resolved)
        _cache[resolved] = rules
        return rules


def default_rules() -> Rules:
    """The rules for code that has no ``Settings`` at hand (BM25 tokenisation at ingest and query time):
    ``ASSISTANT_RULES_PATH`` when set, else the packaged file, so the index and the questions agree."""
    return load_rules(os.environ.get(ENV_PATH) or None)
