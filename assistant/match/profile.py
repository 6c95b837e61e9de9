"""Enterprise profile: what the user sends (``ProfileInput``) and what the matcher understood (``Profile``).

Missing fields are inferred from the free-text description with the taxonomy's words, e.g.
"做工业软件的成长期企业，想申请贷款，也担心海外专利纠纷" → industry 软件/信息技术, stage 成长,
needs 融资/信贷 + 知识产权 + 国际化/出海. What was inferred (and from which words) is reported back.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from assistant.errors import InputError
from assistant.match.lexicon import lexicon
from assistant.match.taxonomy import Taxonomy

_SPLIT = re.compile(r"[,，、;；\s]+")
_HEADCOUNT = re.compile(r"(\d{1,6})\s*(?:余|多)?\s*(?:人|名|位)")
_PLAN = re.compile(r"想|打算|计划|希望|准备|拟|考虑|申报|申请|争取|入驻|成为|认定为|评上|评为")
_CLAUSE_END = re.compile(r"[，,。；;！？!?]")
MAX_DESCRIPTION = 2000


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p for p in _SPLIT.split(value) if p]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ValueError("应为字符串列表")


# What the list fields accept (the validator splits a string), as the OpenAPI schema should say.
_LIST_OR_TEXT = {"anyOf": [{"type": "array", "items": {"type": "string"}, "maxItems": 20}, {"type": "string"}]}


class ProfileInput(BaseModel):
    """A company profile as given (all optional; at least one of description / needs / industry)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=100, description="企业名称（可选）")
    industry: str | None = Field(
        default=None, max_length=200, description="行业（自由填写或分类名，如 软件/信息技术）"
    )
    stage: str | None = Field(default=None, max_length=20, description="发展阶段：初创 / 成长 / 成熟")
    size: str | int | None = Field(
        default=None, description="规模：人数（如 50 或 “50人”）或 微型/小型/中型/大型"
    )
    location: str | None = Field(default=None, max_length=200, description="所在地（区、街镇、园区）")
    qualifications: Annotated[list[str], WithJsonSchema(_LIST_OR_TEXT)] = Field(
        default_factory=list, max_length=20, description="资质，如 高新技术企业、专精特新（列表，或以、，,;；或空格分隔的文字）"
    )
    needs: Annotated[list[str], WithJsonSchema(_LIST_OR_TEXT)] = Field(
        default_factory=list, max_length=20, description="需求（支持类型），如 融资/信贷、人才引进（列表，或以、，,;；或空格分隔的文字）"
    )
    description: str | None = Field(
        default=None, max_length=MAX_DESCRIPTION, description="企业情况与诉求的自由描述"
    )

    @field_validator("qualifications", "needs", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _as_list(v)

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v: Any) -> Any:
        if isinstance(v, bool):  # JSON true/false would pass as 1/0 people
            raise ValueError("规模应为人数（如 50）或 微型/小型/中型/大型")
        if isinstance(v, str):
            v = v.strip()
            return v or None
        return v

    def has_subject(self) -> bool:
        return bool((self.description or "").strip() or self.needs or (self.industry or "").strip())


class Profile(BaseModel):
    """The profile as understood: categories from the taxonomy, plus what was inferred and from which words."""

    name: str | None = None
    description: str | None = None
    industry: str | None = None  # as given (free text)
    industries: list[str] = Field(default_factory=list)
    stage: str | None = None
    size: str | None = None  # as given
    size_class: str | None = None  # 微型 / 小型 / 中型 / 大型
    employees: int | None = None
    location: str | None = None
    in_district: bool | None = None  # inside the district named by the taxonomy's locations
    qualifications: list[str] = Field(default_factory=list)
    entity_types: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)
    explicit_needs: list[str] = Field(default_factory=list)  # needs the user stated (the rest were inferred)
    other_needs: list[str] = Field(default_factory=list)  # stated needs no kind matched; used as search words
    inferred: dict[str, list[str]] = Field(
        default_factory=dict
    )  # field → values inferred from the description
    evidence: dict[str, dict[str, list[str]]] = Field(default_factory=dict)  # field → value → words found

    def facts(self, taxonomy: Taxonomy) -> dict[str, list[str] | None]:
        """Facet values for condition checks; None where the profile does not say."""
        if self.in_district is None:
            location = None
        else:
            district = taxonomy.names("locations")
            location = district[:1] if self.in_district else [self.location or "其他地区"]
        return {
            "size": [self.size_class] if self.size_class else None,
            "industries": self.industries or None,
            "location": location,
            "qualifications": self.qualifications or None,
            "groups": self.groups or None,
            "stage": [self.stage] if self.stage else None,
            "entity_types": self.entity_types or None,
        }

    def search_text(self) -> str:
        """What hybrid retrieval searches for: the description plus the named needs and categories."""
        parts = [self.description or ""]
        parts += [n.replace("/", " ") for n in self.needs]
        parts += self.other_needs
        if self.industry:
            parts.append(self.industry)
        parts += [i.replace("/", " ") for i in self.industries if not self.industry or i not in self.industry]
        parts += self.qualifications
        return " ".join(p for p in parts if p).strip()


def _names_in(taxonomy: Taxonomy, field: str, text: str, skip_negated: bool = True) -> dict[str, list[str]]:
    return lexicon(taxonomy, field, "profile").names(text, skip_negated=skip_negated) if text else {}


def _resolve(taxonomy: Taxonomy, field: str, value: str) -> list[str]:
    """A user-given value → category names: exact name, a part of a 'a/b' name, or the words it contains."""
    value = value.strip()
    names = taxonomy.names(field)
    if value in names:
        return [value]
    parts = [n for n in names if value in n.split("/")]
    if parts:
        return parts
    return list(_names_in(taxonomy, field, value, skip_negated=False))


def _ordered(taxonomy: Taxonomy, field: str, values: list[str]) -> list[str]:
    return [n for n in taxonomy.names(field) if n in values]


def _size_class(taxonomy: Taxonomy, employees: int) -> str | None:
    ranked = sorted(
        (t for t in taxonomy.sizes if t.max_employees is not None), key=lambda t: t.max_employees or 0
    )
    for t in ranked:
        if employees <= (t.max_employees or 0):
            return t.name
    unbounded = [t.name for t in taxonomy.sizes if t.max_employees is None]
    return unbounded[0] if unbounded else None


def _self_mentions(
    taxonomy: Taxonomy, field: str, text: str
) -> tuple[dict[str, list[str]], list[tuple[int, int]]]:
    """Words that say what the company is or where it is, not what it plans ("计划申报高新技术企业" is a wish)."""
    found: dict[str, list[str]] = {}
    spans: list[tuple[int, int]] = []
    for f in lexicon(taxonomy, field, "profile").find(text, skip_negated=True):
        window = text[max(0, f.start - 20) : f.start]
        if _PLAN.search(_CLAUSE_END.split(window)[-1]):  # a wish within the same clause
            continue
        words = found.setdefault(f.name, [])
        if f.word not in words:
            words.append(f.word)
        spans.append((f.start, f.end))
    return found, spans


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def understand(inp: ProfileInput, taxonomy: Taxonomy) -> Profile:
    if not inp.has_subject():
        raise InputError(
            "请至少填写企业描述（description）、需求（needs）或行业（industry）中的一项",
            '例如：{"description": "我们是一家做工业软件的成长期企业，想申请贷款"}，或 {"needs": ["人才引进"]}。',
        )
    desc = (inp.description or "").strip()
    p = Profile(name=inp.name, description=desc or None, industry=inp.industry, location=inp.location)
    inferred: dict[str, list[str]] = {}
    evidence: dict[str, dict[str, list[str]]] = {}

    def note(field: str, found: dict[str, list[str]]) -> None:
        for name, words in found.items():
            evidence.setdefault(field, {}).setdefault(name, [])
            evidence[field][name] += [w for w in words if w not in evidence[field][name]]

    # industries: the stated industry (and name) first, the description second
    stated: list[str] = []
    if inp.industry:
        stated = _resolve(taxonomy, "industries", inp.industry)
        note("industries", {n: [inp.industry] for n in stated})
    if inp.name:
        from_name = _names_in(taxonomy, "industries", inp.name)
        note("industries", from_name)
        stated += [n for n in from_name if n not in stated]
    from_desc = _names_in(taxonomy, "industries", desc)
    note("industries", from_desc)
    extra = [n for n in from_desc if n not in stated]
    p.industries = _ordered(taxonomy, "industries", stated + extra)
    if extra and not stated:
        inferred["industries"] = _ordered(taxonomy, "industries", extra)

    # qualifications the company holds (stated, or described as held; words naming them are not needs)
    quals: list[str] = []
    for q in inp.qualifications:
        names = _resolve(taxonomy, "qualifications", q)
        if not names:
            raise InputError(
                f"无法识别资质“{q}”",
                f"可选：{'、'.join(taxonomy.names('qualifications'))}。",
            )
        quals += [n for n in names if n not in quals]
    desc_quals, held_spans = _self_mentions(taxonomy, "qualifications", desc)
    note("qualifications", desc_quals)
    p.qualifications = _ordered(taxonomy, "qualifications", quals + list(desc_quals))
    if [q for q in desc_quals if q not in quals]:
        inferred["qualifications"] = [q for q in p.qualifications if q not in quals]

    # needs: stated ones resolved to kinds; the description's add to them
    explicit: list[str] = []
    for need in inp.needs:
        kinds = _resolve(taxonomy, "kinds", need)
        if kinds:
            explicit += [k for k in kinds if k not in explicit]
            note("needs", {k: [need] for k in kinds})
        elif need not in p.other_needs:
            p.other_needs.append(need)
    desc_needs = _names_in(taxonomy, "kinds", _mask(desc, held_spans))
    note("needs", desc_needs)
    p.explicit_needs = _ordered(taxonomy, "kinds", explicit)
    p.needs = _ordered(taxonomy, "kinds", explicit + list(desc_needs))
    if [k for k in desc_needs if k not in explicit]:
        inferred["needs"] = _ordered(taxonomy, "kinds", [k for k in desc_needs if k not in explicit])

    # stage
    if inp.stage:
        stages = _resolve(taxonomy, "stages", inp.stage) or [
            s for s in taxonomy.names("stages") if s in inp.stage
        ]
        if not stages:
            raise InputError(
                f"无法识别发展阶段“{inp.stage}”",
                f"请填写 {' / '.join(taxonomy.names('stages'))} 之一，或留空由描述推断。",
            )
        p.stage = stages[0]
    else:
        found = _names_in(taxonomy, "stages", desc)
        note("stage", found)
        if found:
            p.stage = next(iter(found))
            inferred["stage"] = [p.stage]

    # size
    if isinstance(inp.size, int) and not isinstance(inp.size, bool):
        if inp.size < 0:
            raise InputError("企业规模（人数）不能为负数")
        p.employees, p.size = inp.size, f"{inp.size}人"
    elif inp.size:
        p.size = str(inp.size)
        m = _HEADCOUNT.search(p.size) or (re.fullmatch(r"\s*(\d{1,6})\s*", p.size))
        if m:
            p.employees = int(m.group(1))
        else:
            classes = _resolve(taxonomy, "sizes", p.size)
            if not classes:
                raise InputError(
                    f"无法识别企业规模“{p.size}”",
                    f"请填写人数（如 50）或 {' / '.join(taxonomy.names('sizes'))}。",
                )
            p.size_class = classes[0]
    else:
        m = _HEADCOUNT.search(desc)
        if m:
            p.employees = int(m.group(1))
            inferred["size"] = [m.group(0)]
        else:
            found = _names_in(taxonomy, "sizes", desc)
            if found:
                p.size_class = next(iter(found))
                inferred["size"] = [p.size_class]
    if p.employees is not None and p.size_class is None:
        p.size_class = _size_class(taxonomy, p.employees)

    # location
    if inp.location:
        p.in_district = bool(lexicon(taxonomy, "locations", "profile").find(inp.location))
    else:
        found_at, _ = _self_mentions(taxonomy, "locations", desc)
        words = [w for ws in found_at.values() for w in ws]
        if words:
            p.location, p.in_district = words[0], True
            inferred["location"] = [words[0]]

    # entity types, target groups
    for field in ("entity_types", "groups"):
        found = _names_in(
            taxonomy, field, " ".join(x for x in (inp.name or "", inp.industry or "", desc) if x)
        )
        note(field, found)
        setattr(p, field, _ordered(taxonomy, field, list(found)))
        if found:
            inferred[field] = getattr(p, field)

    p.inferred = inferred
    p.evidence = evidence
    return p
