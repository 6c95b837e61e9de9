"""Qualifiers: the parts of a question that narrow what it asks — a level (国家级/市级/区级), a year, a district,
a category or kind of enterprise (首次/新认定, 小型/中型). An answer must carry them.

The near miss this guards against: asked for the national-level item when only the municipal one is written, an
answer that quotes the municipal figure with a citation. Here a qualifier of the question that the evidence does
not carry, while the evidence carries a *sibling* of it (same slot, another value: 市级 for 国家级, 2023年 for
2024年, 闵行区 for 浦东新区), is a mismatch: the assistant then says what the documents do say instead.

Slots are data (``QualifierRules``: patterns and sibling groups, in the rules file). One structural rule needs no
list: two words that share a head character that marks a category (级 年 区 类 型 批 …) but differ before it are
siblings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, Field


class QualifierRules(BaseModel):
    """What counts as a qualifier. Every entry says why it is there (see the rules file)."""

    # slot → pattern whose matches in a question are qualifiers of that slot (named group ``v`` = the value)
    patterns: dict[str, str] = Field(default_factory=dict)
    # groups of words that exclude each other (首次 vs 再次), beyond what the patterns find
    sibling_groups: list[list[str]] = Field(default_factory=list)
    # head characters that mark a category: 国家级/市级, 示范性/基础性, 小型/中型
    heads: str = ""
    # question words whose head rule would misfire (they name the kind of answer, not a qualifier)
    head_exceptions: list[str] = Field(default_factory=list)
    # prefixes that negate the word after them (非重点): evidence about the word itself is about the other kind
    negations: str = ""

    def compiled(self) -> dict[str, re.Pattern[str]]:
        return _compile(tuple(self.patterns.items()))


# A term starting with one of these is a count or a question (哪一级, 几类, 各类), not a category name.
_NOT_A_MODIFIER = "一二三四五六七八九十几哪某本该各每同此"


@lru_cache(maxsize=32)
def _compile(patterns: tuple[tuple[str, str], ...]) -> dict[str, re.Pattern[str]]:
    return {slot: re.compile(p) for slot, p in patterns}


@dataclass(frozen=True)
class Qualifier:
    slot: str
    value: str


@dataclass
class Mismatch:
    """The question asks for ``asked``; the evidence only has ``found`` (same slot)."""

    slot: str
    asked: str
    found: list[str] = field(default_factory=list)


def question_qualifiers(question: str, terms: list[str], rules: QualifierRules) -> list[Qualifier]:
    """Qualifiers of a question: slot-pattern matches, words of a sibling group, and head-marked terms."""
    out: dict[tuple[str, str], Qualifier] = {}
    for slot, pattern in rules.compiled().items():
        for m in pattern.finditer(question):
            value = m.groupdict().get("v") or m.group(0)
            out.setdefault((slot, value), Qualifier(slot, value))
    for i, group in enumerate(rules.sibling_groups):
        for word in group:
            if word in question:
                out.setdefault((f"group{i}", word), Qualifier(f"group{i}", word))
    for neg in rules.negations:
        for m in re.finditer(rf"{re.escape(neg)}(?P<v>[\u4e00-\u9fa5]{{2}})", question):
            word = m.group("v")
            if any(word in t for t in terms) or any(m.group(0) in t for t in terms):  # a word of the question, not 非常重要
                out.setdefault(("negated", m.group(0)), Qualifier("negated", m.group(0)))
    covered = "".join(q.value for q in out.values())
    for t in terms:
        # three characters at least: two-character words on a head (一级, 提级, 模型, 转型) are not category names
        if len(t) >= 3 and t[-1] in rules.heads and t not in rules.head_exceptions and t not in covered \
                and t[0] not in _NOT_A_MODIFIER:
            out.setdefault((f"head:{t[-1]}", t), Qualifier(f"head:{t[-1]}", t))
    return list(out.values())


def _siblings(q: Qualifier, evidence: str, rules: QualifierRules) -> list[str]:
    if q.slot == "negated":  # asked about 非重点: evidence that names 重点 (and never 非重点) is about 重点
        word = q.value[1:]
        return [word] if word in evidence else []
    if q.slot in rules.patterns:
        pattern = rules.compiled()[q.slot]
        found = [m.groupdict().get("v") or m.group(0) for m in pattern.finditer(evidence)]
        return sorted({f for f in found if f != q.value and q.value not in f and f not in q.value})
    if q.slot.startswith("group"):
        group = rules.sibling_groups[int(q.slot[5:])]
        return [w for w in group if w != q.value and w in evidence and q.value not in w]
    head = q.slot.split(":", 1)[1]
    n = len(q.value)
    found = {m.group(0) for m in re.finditer(rf"[\u4e00-\u9fa5]{{{n - 1}}}{re.escape(head)}", evidence)}
    # a sibling shares the head and is not the question's word itself or a part of it
    return sorted(f for f in found if f != q.value and f[:-1] != q.value[:-1] and q.value not in f)


def mismatches(qualifiers: list[Qualifier], evidence: str, rules: QualifierRules) -> list[Mismatch]:
    """Qualifiers the evidence lacks while it carries a sibling of them (what the document says instead)."""
    out = []
    for q in qualifiers:
        if q.value in evidence:
            continue
        found = _siblings(q, evidence, rules)
        if found:
            out.append(Mismatch(q.slot, q.value, found))
    return out
