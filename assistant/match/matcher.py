"""Profile → the measures that fit, best first, each with reasons, condition statuses and a verbatim citation.

Score of a measure = structured matches (the profile's needs against the measure's support kinds, weighted by
how strongly the measure is about that kind; industry, qualification, target group, entity type and stage
against the measure's targets) + hybrid retrieval of the profile's text (chunk hits mapped back to measures by
position). A measure whose stated condition the profile fails is demoted. Results below an absolute and a
relative threshold are dropped, so a narrow profile gets fewer than ``top_k`` results rather than padding.
Nothing is generated: titles, texts and quotes all come from the catalogue, i.e. from the corpus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from assistant.answer.text import sentences
from assistant.errors import InputError
from assistant.index.lexical import salient_terms
from assistant.match.catalogue import Catalogue, Measure, get_catalogue
from assistant.match.conditions import ConditionStatus, evaluate_condition
from assistant.match.profile import Profile, ProfileInput, understand
from assistant.match.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from assistant.service import Assistant

MAX_TOP_K = 20
QUOTE_MAX = 150  # longer sentences are cut to the clauses around the matched words
RETRIEVAL_DECAY = 0.35  # measure at retrieval rank r (0-based) gets weight 1 / (1 + decay * r)
INFERRED_NEED_WEIGHT = 0.6  # needs read from the description when the user also stated needs explicitly
GENERIC = frozenset(
    "企业 公司 我们 一家 希望 想要 申请 需要 发展 服务 支持 政策 相关 方面 问题 目前 现在 已经 主要 还有 以及 有关 可以 能够 帮助 获得 提供 打算 计划".split()
)


class Reason(BaseModel):
    facet: str  # 需求 / 行业 / 资质 / 人群 / 主体 / 阶段 / 描述 / 检索 / 条件
    value: str
    words: list[str] = Field(
        default_factory=list
    )  # words of the measure text (or the description) that matched
    weight: float = 0.0
    text: str


class MatchCitation(BaseModel):
    source: str
    title: str
    doc_number: str = ""
    date: str = ""
    section: str
    quote: str  # verbatim substring of the document text


class MatchResult(BaseModel):
    measure_id: str
    title: str
    section: str
    source: str
    score: float
    kinds: list[str]
    reasons: list[str]
    reason_details: list[Reason]
    conditions: list[ConditionStatus]
    citations: list[MatchCitation]
    bodies: list[str] = Field(default_factory=list)


class MatchResponse(BaseModel):
    profile: Profile
    results: list[MatchResult]


def _quoted(words: list[str]) -> str:
    return "".join(f"「{w}」" for w in words)


def _description_terms(profile: Profile, assistant: Assistant) -> list[str]:
    """Content words of the description that are specific enough to point at a measure."""
    text = " ".join(x for x in (profile.description, profile.industry, *profile.other_needs) if x)
    if not text:
        return []
    snap = assistant.snapshot()
    n = max(1, len(snap.chunks))
    out = []
    for t in salient_terms(text):
        if len(t) < 2 or t in GENERIC or t.isdigit():
            continue
        if snap.lexical.doc_freq(t) > n * 0.5:
            continue
        out.append(t)
    return out


def _retrieval_ranks(
    assistant: Assistant, profile: Profile, catalogue: Catalogue, depth: int
) -> dict[str, int]:
    """measure id → 0-based rank of its best chunk among the retrieved ones (measures, not chunks, ranked)."""
    query = profile.search_text()[: assistant.settings.max_question_chars].strip()
    if not query:
        return {}
    # Company descriptions are paraphrase-heavy: always use the dense side too.
    retrieval = assistant.retrieve(query, top_k=min(depth, 50), dense_mode="always")
    by_chunk = catalogue.by_chunk()
    ranks: dict[str, int] = {}
    for hit in retrieval.hits:
        for mid in by_chunk.get(hit.chunk.id, []):
            if mid not in ranks:
                ranks[mid] = len(ranks)
    return ranks


def _evidence_reason(
    facet: str, label: str, values: list[str], evidence: dict[str, list[str]], weight: float, shown: int = 4
) -> Reason:
    """A reason backed by the words the source uses for ``values`` (``evidence``: value → words found)."""
    words = [x for v in values for x in evidence.get(v, [])]
    value = "、".join(values)
    return Reason(
        facet=facet, value=value, words=words, weight=weight, text=f"{label}「{value}」：原文提到{_quoted(words[:shown])}"
    )


def _score(
    m: Measure, profile: Profile, taxonomy: Taxonomy, rank: int | None, desc_terms: list[str]
) -> tuple[float, list[Reason]]:
    w = taxonomy.scoring
    reasons: list[Reason] = []
    explicit = set(profile.explicit_needs)
    for need in profile.needs:
        strength = m.kind_strength.get(need, 0.0)
        if not strength:
            continue
        factor = 1.0 if not explicit or need in explicit else INFERRED_NEED_WEIGHT
        reasons.append(_evidence_reason("需求", "需求", [need], m.evidence.get("kinds", {}), w.need * strength * factor))
    industries = set(m.targets.industries)
    exact = [i for i in profile.industries if i in industries]
    related: list[str] = []
    if exact:
        focus = max(m.industry_strength.get(i, 0.0) for i in exact)
        weight = w.industry_mention + (w.industry - w.industry_mention) * focus
        reasons.append(_evidence_reason("行业", "行业", exact, m.evidence.get("industries", {}), weight))
    else:
        for i in profile.industries:
            term = taxonomy.term("industries", i)
            related += [r for r in (term.related if term else []) if r in industries and r not in related]
        if related:
            reasons.append(
                _evidence_reason("行业", "相关行业", related, m.evidence.get("industries", {}), w.industry_related)
            )
    for facet, field, weight in (
        ("资质", "qualifications", w.qualification),
        ("人群", "groups", w.group),
        ("主体", "entity_types", w.entity),
    ):
        mine = getattr(profile, field)
        theirs = getattr(m.targets, field)
        common = [x for x in mine if x in theirs]
        if common:
            reasons.append(_evidence_reason(facet, facet, common, m.evidence.get(field, {}), weight))
    if profile.stage and profile.stage in m.targets.stages:
        reasons.append(_evidence_reason("阶段", "阶段", [profile.stage], m.evidence.get("stages", {}), w.stage, shown=3))
    shared = [t for t in desc_terms if t in m.text or t in m.heading]
    if shared:
        reasons.append(
            Reason(
                facet="描述",
                value="描述",
                words=shared,
                weight=0.0,
                text=f"描述中的{_quoted(shared[:5])}见于原文",
            )
        )
    if rank is not None:
        reasons.append(
            Reason(
                facet="检索",
                value=str(rank + 1),
                weight=w.retrieval / (1 + RETRIEVAL_DECAY * rank),
                text=f"与描述语义/字面相近（混合检索第 {rank + 1} 位）",
            )
        )
    score = sum(r.weight for r in reasons)
    focus = max((m.industry_strength.get(i, 0.0) for i in exact), default=0.0)
    targeted = focus >= 1.0 or any(r.facet == "资质" for r in reasons)  # the measure names who the company is
    if profile.needs and not any(r.facet == "需求" for r in reasons):
        score *= w.targeted_miss_factor if targeted else w.need_miss_factor
        reasons.append(
            Reason(
                facet="需求",
                value="未对应",
                weight=0.0,
                text=f"未直接对应所提需求（{'、'.join(profile.needs)}），排序已降低",
            )
        )
    focused = [i for i, v in m.industry_strength.items() if v >= 1.0]
    if profile.industries and focused and not exact and not related:
        score *= w.industry_mismatch_factor
        reasons.append(
            Reason(
                facet="行业",
                value="不同",
                weight=0.0,
                text=f"措施聚焦「{'、'.join(focused)}」，与企业所在行业不同，排序已降低",
            )
        )
    if profile.groups and m.targets.groups and not set(profile.groups) & set(m.targets.groups):
        score *= w.group_mismatch_factor
        reasons.append(
            Reason(
                facet="人群",
                value="不同",
                weight=0.0,
                text=f"措施面向「{'、'.join(m.targets.groups)}」，与所需人才类型不同，排序已降低",
            )
        )
    return score, reasons


def _quote_spans(m: Measure, doc_text: str, highlights: list[str]) -> list[tuple[int, int]]:
    """Up to two verbatim spans of the measure text: the sentences holding most of the matched words."""
    spans = sentences(m.text)
    if not spans:
        return [(m.start, m.end)]
    scored = []
    for i, s in enumerate(spans):
        hits = [h for h in highlights if h and h in s.text]
        scored.append((len(set(hits)), -i, s, hits))
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    chosen: list[tuple[int, int]] = []
    covered: set[str] = set()
    for n, _, s, hits in scored:
        if chosen and (n == 0 or set(hits) <= covered):
            continue
        start, end = m.start + s.start, m.start + s.end
        if end - start > QUOTE_MAX:
            start, end = _clip(doc_text, start, end, hits)
        chosen.append((start, end))
        covered |= set(hits)
        if len(chosen) == 2:
            break
    return sorted(chosen)


def _clip(text: str, start: int, end: int, hits: list[str]) -> tuple[int, int]:
    """Cut a long sentence to whole clauses around the first matched word (still a verbatim slice)."""
    sentence = text[start:end]
    anchor = min((sentence.find(h) for h in hits if h in sentence), default=0)
    cuts = [0] + [i + 1 for i, ch in enumerate(sentence) if ch in "，,、："] + [len(sentence)]
    lo = max(c for c in cuts if c <= anchor)
    hi = min(c for c in cuts if c > anchor)
    while hi - lo < QUOTE_MAX // 2:
        nxt = [c for c in cuts if c > hi]
        prv = [c for c in cuts if c < lo]
        if nxt:
            hi = nxt[0]
        elif prv:
            lo = prv[-1]
        else:
            break
    if hi - lo > QUOTE_MAX:
        hi = lo + QUOTE_MAX
    return start + lo, start + hi


def _result(
    m: Measure,
    score: float,
    reasons: list[Reason],
    conditions: list[ConditionStatus],
    doc_text: str,
) -> MatchResult:
    highlights = [w for r in reasons for w in r.words]
    citations = []
    for start, end in _quote_spans(m, doc_text, highlights):
        quote = doc_text[start:end].strip()
        if not quote or quote not in doc_text:
            continue
        citations.append(
            MatchCitation(
                source=m.source,
                title=m.doc_title,
                doc_number=m.doc_number,
                date=m.date,
                section=m.section,
                quote=quote,
            )
        )
    return MatchResult(
        measure_id=m.id,
        title=m.title,
        section=m.section,
        source=m.source,
        score=round(score, 4),
        kinds=m.kinds,
        reasons=[r.text for r in reasons],
        reason_details=reasons,
        conditions=conditions,
        citations=citations,
        bodies=m.bodies,
    )


def match(
    assistant: Assistant,
    profile_input: ProfileInput,
    top_k: int = 5,
    taxonomy: Taxonomy | None = None,
) -> MatchResponse:
    if not 1 <= top_k <= MAX_TOP_K:
        raise InputError(f"top_k 必须在 1 到 {MAX_TOP_K} 之间（收到 {top_k}）")
    taxonomy = taxonomy or load_taxonomy(assistant.settings)
    profile = understand(profile_input, taxonomy)
    catalogue = get_catalogue(assistant, taxonomy)
    w = taxonomy.scoring
    ranks = _retrieval_ranks(assistant, profile, catalogue, w.retrieval_depth)
    desc_terms = _description_terms(profile, assistant)
    facts = profile.facts(taxonomy)

    scored: list[tuple[float, int, Measure, list[Reason], list[ConditionStatus]]] = []
    for order, m in enumerate(catalogue.measures):
        score, reasons = _score(m, profile, taxonomy, ranks.get(m.id), desc_terms)
        structured = any(
            r.facet in ("需求", "行业", "资质", "人群", "主体") and r.weight > 0 for r in reasons
        )
        if not structured and ranks.get(m.id, 99) >= 3:
            continue  # neither a stated fit nor a top retrieval hit
        conditions = [evaluate_condition(c, facts, taxonomy) for c in m.conditions]
        failed = [c for c in conditions if c.status == "不满足"]
        if failed:
            score *= w.violated_factor
            reasons.append(
                Reason(
                    facet="条件",
                    value="不满足",
                    words=[],
                    text=f"条件「{failed[0].text}」不满足（{failed[0].reason}），排序已降低",
                )
            )
        scored.append((score, order, m, reasons, conditions))
    scored.sort(key=lambda x: (-x[0], x[1]))
    # relative to the mean of the top two, so one result matching every facet does not hide the others
    lead = [x[0] for x in scored[:2]]
    cutoff = max(w.min_score, w.relative_min * (sum(lead) / len(lead) if lead else 0.0))
    snap = assistant.snapshot()
    results = []
    for score, _, m, reasons, conditions in scored:
        if score < cutoff or len(results) >= top_k:
            break
        results.append(_result(m, score, reasons, conditions, snap.documents[m.source].text))
    return MatchResponse(profile=profile, results=results)
