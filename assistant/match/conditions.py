"""Conditions stated in a measure's text, and their status for one profile: 满足 / 不满足 / 需确认.

Extraction is by the taxonomy's regexes (each condition is a verbatim phrase of the measure text, e.g.
"符合重点产业发展方向的中小微企业"). A condition is checked by the taxonomy's checks whose words it contains
(e.g. "中小微企业" → the profile's size class). Unknown facts, or words no profile can settle ("紧缺急需"),
leave it at 需确认; the matcher never claims more than the profile says.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from assistant.match.taxonomy import ConditionCheck, Status, Taxonomy

FACET_LABELS = {
    "size": "企业规模",
    "industries": "行业",
    "location": "所在地",
    "qualifications": "资质",
    "groups": "人才类型",
    "stage": "发展阶段",
    "entity_types": "主体类型",
}

# facet → the profile's values, or None when the profile does not say
Facts = dict[str, list[str] | None]


class CheckOutcome(BaseModel):
    check: str
    status: Status
    reason: str


class ConditionStatus(BaseModel):
    text: str
    status: Status
    reason: str = ""
    checks: list[CheckOutcome] = []


def extract_conditions(text: str, taxonomy: Taxonomy) -> list[str]:
    """Verbatim condition phrases, in order, without duplicates or phrases contained in another."""
    found: list[tuple[int, str]] = []
    for pattern in taxonomy.conditions.patterns:
        for m in re.finditer(pattern, text):
            phrase = m.group("cond").strip()
            if phrase:
                found.append((m.start("cond"), phrase))
    found.sort()
    out: list[str] = []
    for _, phrase in found:
        if phrase in out or any(phrase in other for other in out):
            continue
        out = [o for o in out if o not in phrase] + [phrase]
    return out


def _check(check: ConditionCheck, facts: Facts) -> CheckOutcome:
    label = FACET_LABELS[check.facet]
    values = facts.get(check.facet)
    if not values:
        return CheckOutcome(
            check=check.name, status="需确认", reason=f"画像未说明{label}，需核实是否属于“{check.name}”"
        )
    shown = "、".join(values)
    if any(v in check.satisfied_by for v in values):
        return CheckOutcome(check=check.name, status="满足", reason=f"{label}「{shown}」符合“{check.name}”")
    if any(v in check.violated_by for v in values):
        return CheckOutcome(
            check=check.name, status="不满足", reason=f"{label}「{shown}」不属于“{check.name}”"
        )
    if check.otherwise == "不满足":
        return CheckOutcome(
            check=check.name, status="不满足", reason=f"{label}「{shown}」不属于“{check.name}”"
        )
    return CheckOutcome(
        check=check.name, status="需确认", reason=f"{label}「{shown}」是否属于“{check.name}”需核实"
    )


def evaluate_condition(condition: str, facts: Facts, taxonomy: Taxonomy) -> ConditionStatus:
    checks = [c for c in taxonomy.conditions.checks if any(w in condition for w in c.words)]
    outcomes = [_check(c, facts) for c in checks]
    vague = [w for w in taxonomy.conditions.unverifiable if w in condition]
    if any(o.status == "不满足" for o in outcomes):
        status: Status = "不满足"
        reason = "；".join(o.reason for o in outcomes if o.status == "不满足")
    elif outcomes and all(o.status == "满足" for o in outcomes) and not vague:
        status = "满足"
        reason = "；".join(o.reason for o in outcomes)
    else:
        status = "需确认"
        parts = [o.reason for o in outcomes if o.status != "满足"]
        if vague:
            parts.append(f"“{'、'.join(vague)}”需由主管部门认定")
        if not outcomes and not vague:
            parts.append("该条件无法根据画像自动判断")
        reason = "；".join(parts)
    return ConditionStatus(text=condition, status=status, reason=reason, checks=outcomes)
