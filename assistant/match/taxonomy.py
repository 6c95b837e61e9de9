"""The matching taxonomy: a YAML data file (kinds, industries, qualifications, stages, groups, condition checks,
scoring weights), validated with pydantic. Errors name the file and line.

Sources, later ones extending earlier ones: the packaged ``taxonomy.yaml`` (or ``settings.taxonomy_path`` when
set, which replaces it), then ``<corpus_dir>/taxonomy.yaml`` if present (an office's own words). Entries with
the same name are merged (word lists united); new entries are appended.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.yamlfile import compose, describe_error, syntax_error

PACKAGED = Path(__file__).with_name("taxonomy.yaml")
EXTENSION_NAMES = ("taxonomy.yaml", "taxonomy.yml")  # in corpus_dir: an office's additions

Status = Literal["满足", "不满足", "需确认"]
Facet = Literal["size", "industries", "location", "qualifications", "groups", "stage", "entity_types"]

# Facet of a condition check → the taxonomy list its names come from.
FACET_LISTS: dict[str, str] = {
    "size": "sizes",
    "industries": "industries",
    "location": "locations",
    "qualifications": "qualifications",
    "groups": "groups",
    "stage": "stages",
    "entity_types": "entity_types",
}
TERM_LISTS = (
    "kinds",
    "industries",
    "qualifications",
    "entity_types",
    "stages",
    "groups",
    "locations",
    "sizes",
)


class TaxonomyError(ConfigError):
    """A taxonomy file is missing, not YAML, or does not fit the schema."""


def _words(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        v = str(v).strip()
        if not v:
            raise ValueError("词不能为空")
        if v not in out:
            out.append(v)
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Term(_Strict):
    """A named category and the words that signal it."""

    name: str = Field(min_length=1)
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    profile_words: list[str] = Field(default_factory=list)
    measure_words: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    max_employees: int | None = Field(default=None, ge=0)  # sizes only

    @field_validator("keywords", "profile_words", "measure_words", "related")
    @classmethod
    def _clean(cls, v: list[str]) -> list[str]:
        return _words(v)

    def words_for(self, side: Literal["profile", "measure"]) -> list[str]:
        extra = self.profile_words if side == "profile" else self.measure_words
        return [*self.keywords, *extra]


def _compile(pattern: str, group: str) -> str:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"正则表达式无效：{exc}") from exc
    if group not in compiled.groupindex:
        raise ValueError(f"正则表达式缺少命名分组 (?P<{group}>…)")
    return pattern


class MeasureRules(_Strict):
    triggers: list[str] = Field(default_factory=list)
    task_headings: list[str] = Field(default_factory=list)
    exclude_headings: list[str] = Field(default_factory=list)
    sub_items: list[str] = Field(default_factory=list)
    min_kind_strength: float = Field(default=0.25, ge=0, le=1)
    min_intro_chars: int = Field(default=160, ge=0)
    body_patterns: list[str] = Field(default_factory=list)

    @field_validator("sub_items")
    @classmethod
    def _sub_items(cls, v: list[str]) -> list[str]:
        return [_compile(p, "name") for p in v]

    @field_validator("body_patterns")
    @classmethod
    def _body_patterns(cls, v: list[str]) -> list[str]:
        return [_compile(p, "body") for p in v]


class ConditionCheck(_Strict):
    name: str = Field(min_length=1)
    words: list[str] = Field(min_length=1)
    facet: Facet
    satisfied_by: list[str] = Field(min_length=1)
    violated_by: list[str] = Field(default_factory=list)
    otherwise: Literal["需确认", "不满足"] = "需确认"


class Conditions(_Strict):
    patterns: list[str] = Field(default_factory=list)
    unverifiable: list[str] = Field(default_factory=list)
    checks: list[ConditionCheck] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return [_compile(p, "cond") for p in v]


class Scoring(_Strict):
    need: float = 1.0
    industry: float = 1.0
    industry_mention: float = 0.4
    industry_related: float = 0.2
    qualification: float = 0.8
    group: float = 0.35
    entity: float = 0.3
    stage: float = 0.2
    retrieval: float = 0.8
    retrieval_depth: int = Field(default=12, ge=1, le=50)
    violated_factor: float = Field(default=0.5, ge=0, le=1)
    industry_mismatch_factor: float = Field(default=0.6, ge=0, le=1)
    group_mismatch_factor: float = Field(default=0.75, ge=0, le=1)
    need_miss_factor: float = Field(default=0.6, ge=0, le=1)
    targeted_miss_factor: float = Field(default=0.8, ge=0, le=1)
    min_score: float = 0.6
    relative_min: float = Field(default=0.4, ge=0, le=1)


class TaxonomyFile(_Strict):
    """One file as written: every part optional, so an extension file can add just a few words."""

    version: int = 1
    measure_rules: MeasureRules | None = None
    kinds: list[Term] = Field(default_factory=list)
    industries: list[Term] = Field(default_factory=list)
    qualifications: list[Term] = Field(default_factory=list)
    entity_types: list[Term] = Field(default_factory=list)
    stages: list[Term] = Field(default_factory=list)
    groups: list[Term] = Field(default_factory=list)
    locations: list[Term] = Field(default_factory=list)
    sizes: list[Term] = Field(default_factory=list)
    conditions: Conditions | None = None
    scoring: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> TaxonomyFile:
        for field in TERM_LISTS:
            seen: set[str] = set()
            for term in getattr(self, field):
                if term.name in seen:
                    raise ValueError(f"{field} 中名称重复：{term.name}")
                seen.add(term.name)
        return self


class Taxonomy(_Strict):
    """The merged, cross-checked taxonomy the catalogue and the matcher use."""

    measure_rules: MeasureRules
    kinds: list[Term]
    industries: list[Term]
    qualifications: list[Term]
    entity_types: list[Term]
    stages: list[Term]
    groups: list[Term]
    locations: list[Term]
    sizes: list[Term]
    conditions: Conditions
    scoring: Scoring
    sources: list[str] = Field(default_factory=list)
    fingerprint: str = ""

    def terms(self, field: str) -> list[Term]:
        return getattr(self, field)

    def names(self, field: str) -> list[str]:
        return [t.name for t in getattr(self, field)]

    def term(self, field: str, name: str) -> Term | None:
        return next((t for t in getattr(self, field) if t.name == name), None)

    def cross_check(self) -> list[tuple[str, str]]:
        """(offending value, message) for references to names that do not exist."""
        problems: list[tuple[str, str]] = []
        if not self.kinds:
            problems.append(("kinds", "kinds 不能为空：至少需要一种支持类型"))
        industries = set(self.names("industries"))
        for term in self.industries:
            for rel in term.related:
                if rel not in industries:
                    problems.append((rel, f"行业 {term.name} 的 related 引用了不存在的行业：{rel}"))
        for check in self.conditions.checks:
            pool = set(self.names(FACET_LISTS[check.facet]))
            for value in (*check.satisfied_by, *check.violated_by):
                if value not in pool:
                    problems.append(
                        (
                            value,
                            f"条件核对 {check.name} 引用了 {FACET_LISTS[check.facet]} 中不存在的名称：{value}",
                        )
                    )
        return problems


# ---- reading files with line numbers ------------------------------------------------------------------
def _read(path: Path) -> tuple[dict[str, Any], yaml.Node | None, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TaxonomyError(
            f"找不到分类词表文件 {path}", "请检查 ASSISTANT_TAXONOMY_PATH，留空则使用内置词表。"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"无法读取分类词表 {path}：{exc}", "请确认文件存在且为 UTF-8 编码。") from exc
    try:
        data, root = compose(text)
    except yaml.YAMLError as exc:
        where, problem = syntax_error(exc)
        raise TaxonomyError(
            f"分类词表 {path} {where}不是有效的 YAML：{problem}",
            "请修正该文件的 YAML 语法（缩进、冒号、引号）。",
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TaxonomyError(
            f"分类词表 {path} 的顶层必须是键值映射（kinds: …, industries: …）", "参见内置的 taxonomy.yaml。"
        )
    return data, root, text


# pydantic error types → what an office editing the file needs to read
_MESSAGES = {
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "missing": "缺少必填字段",
    "list_type": "应为列表，如 [词1, 词2]",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "dict_type": "应为键值映射",
    "model_type": "应为键值映射",
    "literal_error": "取值不在允许范围内",
    "string_too_short": "不能为空",
    "too_short": "至少需要一项",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
}


def _message(error: dict[str, Any]) -> str:
    zh = _MESSAGES.get(str(error.get("type")))
    msg = str(error.get("msg", ""))
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return f"{zh}（{msg}）" if zh else msg


def _parse(path: Path) -> tuple[TaxonomyFile, str]:
    data, root, text = _read(path)
    try:
        return TaxonomyFile.model_validate(data), text
    except ValidationError as exc:
        raise TaxonomyError(
            f"分类词表 {path} {describe_error(root, exc, _message)}",
            "请对照内置的 assistant/match/taxonomy.yaml 修正该条目。",
        ) from exc


def _merge_terms(base: list[Term], extra: list[Term]) -> list[Term]:
    out = [t.model_copy(deep=True) for t in base]
    by_name = {t.name: t for t in out}
    for term in extra:
        have = by_name.get(term.name)
        if have is None:
            out.append(term.model_copy(deep=True))
            by_name[term.name] = out[-1]
            continue
        for attr in ("keywords", "profile_words", "measure_words", "related"):
            merged = list(getattr(have, attr))
            merged += [w for w in getattr(term, attr) if w not in merged]
            setattr(have, attr, merged)
        if term.description:
            have.description = term.description
        if term.max_employees is not None:
            have.max_employees = term.max_employees
    return out


def merge(files: list[TaxonomyFile]) -> dict[str, Any]:
    rules = MeasureRules()
    conditions = Conditions()
    scoring: dict[str, Any] = {}
    lists: dict[str, list[Term]] = {name: [] for name in TERM_LISTS}
    for f in files:
        for name in TERM_LISTS:
            lists[name] = _merge_terms(lists[name], getattr(f, name))
        if f.measure_rules is not None:
            r = f.measure_rules
            given = r.model_fields_set
            for attr in ("triggers", "task_headings", "exclude_headings", "sub_items", "body_patterns"):
                setattr(
                    rules,
                    attr,
                    [*getattr(rules, attr), *(x for x in getattr(r, attr) if x not in getattr(rules, attr))],
                )
            for attr in ("min_kind_strength", "min_intro_chars"):
                if attr in given:
                    setattr(rules, attr, getattr(r, attr))
        if f.conditions is not None:
            c = f.conditions
            conditions.patterns += [p for p in c.patterns if p not in conditions.patterns]
            conditions.unverifiable += [w for w in c.unverifiable if w not in conditions.unverifiable]
            names = {ch.name: i for i, ch in enumerate(conditions.checks)}
            for ch in c.checks:
                if ch.name in names:
                    conditions.checks[names[ch.name]] = ch
                else:
                    conditions.checks.append(ch)
        if f.scoring:
            scoring.update(f.scoring)
    return {"measure_rules": rules, "conditions": conditions, "scoring": scoring, **lists}


def _line_of(texts: list[tuple[Path, str]], value: str) -> str:
    for path, text in reversed(texts):
        for i, line in enumerate(text.splitlines(), 1):
            if value and value in line:
                return f"{path} 第 {i} 行"
    return str(texts[-1][0]) if texts else ""


def build(paths: list[Path]) -> Taxonomy:
    parsed = [(p, *_parse(p)) for p in paths]
    merged = merge([f for _, f, _ in parsed])
    texts = [(p, t) for p, _, t in parsed]
    try:
        scoring = Scoring.model_validate(merged.pop("scoring"))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first.get("loc", ()))
        raise TaxonomyError(
            f"分类词表 {_line_of(texts, key)}：scoring.{key} 有误：{_message(first)}",
            "scoring 只接受内置词表中列出的权重名与数值。",
        ) from exc
    digest = hashlib.sha256("\x00".join(t for _, t in texts).encode()).hexdigest()[:16]
    taxonomy = Taxonomy(**merged, scoring=scoring, sources=[str(p) for p in paths], fingerprint=digest)
    problems = taxonomy.cross_check()
    if problems:
        value, message = problems[0]
        raise TaxonomyError(
            f"分类词表 {_line_of(texts, value)}：{message}", "请修正名称拼写，或先在对应列表中添加该条目。"
        )
    return taxonomy


# ---- loading with a per-process cache keyed by file identity ----------------------------------------------
_cache: dict[tuple, Taxonomy] = {}
_cache_lock = threading.Lock()


def taxonomy_paths(settings: Settings) -> list[Path]:
    configured = str(getattr(settings, "taxonomy_path", "") or "").strip()
    base = Path(configured).expanduser() if configured else PACKAGED
    paths = [base]
    for name in EXTENSION_NAMES:
        extension = Path(settings.corpus_dir) / name
        if extension.is_file() and extension.resolve() != base.resolve():
            paths.append(extension)
    return paths


def _identity(paths: list[Path]) -> tuple:
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


def load_taxonomy(settings: Settings) -> Taxonomy:
    """The taxonomy for these settings; re-read when a file changes (cheap to call on every request)."""
    paths = taxonomy_paths(settings)
    key = _identity(paths)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    taxonomy = build(paths)
    with _cache_lock:
        if len(_cache) > 16:
            _cache.clear()
        _cache[key] = taxonomy
    return taxonomy


def taxonomy_summary(taxonomy: Taxonomy) -> dict[str, Any]:
    """Names and descriptions for forms (the page's needs/industry pickers)."""

    def listing(field: str) -> list[dict[str, str]]:
        return [{"name": t.name, "description": t.description} for t in taxonomy.terms(field)]

    return {
        "kinds": listing("kinds"),
        "industries": listing("industries"),
        "qualifications": listing("qualifications"),
        "stages": listing("stages"),
        "groups": listing("groups"),
        "sizes": listing("sizes"),
        "fingerprint": taxonomy.fingerprint,
    }
