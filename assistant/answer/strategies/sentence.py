"""Sentence strategy: the sentences of the top passages that best answer the question (the default).

A sentence scores the weighted share of the question's salient terms in its title + section + itself, plus
``own_weight`` × its own share, plus a small bonus for the passage's rank; very short sentences lose points.
The best sentence is widened: a short lead or a "…如下：" sentence takes the next one, an enumeration
question takes the whole 一是/二是 run, and neighbours that score nearly as well join (contiguous, within the
length budget). A second passage is added only when it answers a part of the question the first does not.
"""

from __future__ import annotations

import re

from assistant.answer.scoring import bigram_overlaps, sentence_features, sigmoid
from assistant.answer.strategies.base import AnswerContext, Draft, Scored, quotes_draft, span_text
from assistant.answer.text import Span, content_spans, sentences
from assistant.ingest.headings import numbering, visual_len
from assistant.ingest.script import readable
from assistant.question import cn_to_int
from assistant.rules import EnumerationRules
from assistant.types import Document, Hit

_ENDS = "。！？!?；;"
_CLOSE = "”’」』）)】》"


def answer_spans(hit: Hit, documents: dict[str, Document]) -> list[Span]:
    """The sentences of a chunk that may stand as an answer: whole sentences only (chunks of a long section
    overlap and may start or end mid-sentence: that fragment is whole in the neighbouring chunk). Header lines
    stay candidates (a reply's header holds its 提案 number and 办理结果); the sentence model weighs them down
    when the question is about the body."""
    chunk = hit.chunk
    spans = content_spans(chunk.text, chunk.section)
    doc = documents.get(chunk.source)
    if doc is not None and spans:
        text = doc.text
        if chunk.start > 0 and spans[0].start == 0 and text[chunk.start - 1] not in _ENDS + "\n" + _CLOSE:
            spans = spans[1:]  # begins mid-sentence
        if spans and spans[-1].end == len(chunk.text) and chunk.end < len(text) and text[chunk.end] != "\n" \
                and spans[-1].text.rstrip(_CLOSE)[-1:] not in _ENDS:
            spans = spans[:-1]  # ends mid-sentence
    return spans


def score_sentences(ctx: AnswerContext) -> list[Scored]:
    """Every content sentence of the top passages, scored: by the fitted sentence model when there is one,
    else by the rules' hand weights (share of the question in title + section + sentence, own share, rank)."""
    if ctx.fitted is not None:
        return _fitted_scores(ctx)
    r = ctx.rules.answer.sentence
    tw = ctx.weights
    top = r.top_passages
    scored: list[Scored] = []
    for rank, hit in enumerate(ctx.hits[:top]):
        context = f"{hit.chunk.title}\n{hit.chunk.section}\n"
        for span in answer_spans(hit, ctx.documents):
            # The heading and title answer part of the question for every sentence below them;
            # the sentence's own coverage decides between them.
            score = tw.cover(context + span.text) + r.own_weight * tw.cover(span.text) + r.rank_bonus * (1 - rank / top)
            if visual_len(span.text) < r.short_sentence_chars:
                score -= r.short_sentence_penalty
            scored.append(Scored(rank, hit, span, score, p=score))
    return scored


def candidate_features(ctx: AnswerContext, top: int) -> list[tuple[int, Hit, Span, dict[str, float]]]:
    """Every content sentence of the top passages with its features (``scoring.SENTENCE_FEATURES``)."""
    hits = ctx.hits[:top]
    vector = ctx.question_vector()
    index = ctx.sentence_index
    sims: list[dict[tuple[int, int], float]] = [
        index.similarities(vector, h.chunk.id) if index is not None and vector is not None else {} for h in hits
    ]
    best_dense = max((v for d in sims for v in d.values()), default=None)
    top_score = hits[0].score if hits else 0.0
    qrules = ctx.rules.answer.qualifiers
    out = []
    for rank, (hit, dense) in enumerate(zip(hits, sims, strict=True)):
        for position, span in enumerate(answer_spans(hit, ctx.documents)):
            doc = ctx.documents.get(hit.chunk.source)
            f = sentence_features(ctx.analysis, ctx.weights, ctx.qualifiers, qrules, hit, rank, top, top_score, span,
                                  position, dense.get((span.start, span.end)), best_dense,
                                  doc.text if doc else "", ctx.rules.answer.decision.document_slots)
            out.append((rank, hit, span, f))
    # character-bigram overlap with the question, weighed among these candidates (``scoring.bigram_overlaps``)
    texts = [readable(s.text) if h.chunk.simplified else s.text for _, h, s, _ in out]
    titles = list(dict.fromkeys(readable(h.chunk.title) if h.chunk.simplified else h.chunk.title for h in hits))
    overlaps = bigram_overlaps(ctx.question, texts, titles)
    best = max(overlaps, default=0.0)
    for (_, _, _, f), v in zip(out, overlaps, strict=True):
        f["bigram"], f["bigram_gap"] = v, v - best
    return out


def _fitted_scores(ctx: AnswerContext) -> list[Scored]:
    fitted = ctx.fitted
    assert fitted is not None
    scored = []
    for rank, hit, span, f in candidate_features(ctx, fitted.top_passages):
        logit = fitted.sentence.logit(f)
        scored.append(Scored(rank, hit, span, logit, p=sigmoid(logit), features=f))
    return scored


def item_number(text: str, rules: EnumerationRules) -> int:
    """The number of a 一是 / （一） list item starting ``text``, or 0."""
    m = rules.item.search(text[: rules.item_head_chars]) or rules.paren_item.match(text)
    return cn_to_int(m.group(1)) if m else 0


def enumeration_span(sents: list[Scored], idx: int, rules: EnumerationRules) -> tuple[int, int]:
    """Widen to the run of 一是/二是… items (or the （一）（二） items) around the best sentence."""

    def item_no(s: Scored) -> int:
        return item_number(s.span.text, rules)

    lo = hi = idx
    if any(item_no(s) for s in sents):
        first_items = [i for i, s in enumerate(sents) if item_no(s) == 1]
        if first_items:
            start = max([i for i in first_items if i <= idx] or [first_items[0]])
            lo = min(lo, start)
            hi = max(hi, start)
            expected = 2
            for i in range(start + 1, len(sents)):
                n = item_no(sents[i])
                if n == expected:
                    hi, expected = i, expected + 1
                elif n:
                    break
            # the sentence introducing the list, if it is right before the first item
            if lo > 0 and sents[lo - 1].span.text.endswith(rules.intro_endings) and lo == start and item_no(sents[lo]) == 1 \
                    and rules.intro_word in sents[lo - 1].span.text:
                lo -= 1
    return lo, hi


_ANNOUNCE = re.compile(r"(?:下列|以下|如下)[^，,。；]{0,12}(?:[：:]|$|[，,。])|[：:]$")


def announces_list(text: str) -> bool:
    """'…符合下列条件之一的单位，均可申报。', '申报材料如下：' — the items follow."""
    return bool(_ANNOUNCE.search(text))


def item_run(sents: list[Scored], idx: int) -> tuple[int, int]:
    """The whole numbered list around sentence ``idx`` ('1. …；2. …；', '（一）…；（二）…'), with the line that
    introduces it ("…如下：") — so a list question gets every item, not the one that matched best."""
    def marker(i: int) -> str | None:
        m = numbering(sents[i].span.text)
        return m.kind if m else None

    at = idx
    if marker(at) is None and sents[at].span.text.endswith(("：", ":")) and at + 1 < len(sents):
        at += 1  # the lead-in matched: the list follows it
    kind = marker(at)
    if kind is None:
        return idx, idx
    lo = at
    while lo > 0 and marker(lo - 1) in (kind, None) and not sents[lo - 1].span.text.endswith(("：", ":")):
        if marker(lo - 1) is None and (lo - 2 < 0 or marker(lo - 2) != kind):
            break  # an unnumbered sentence belongs to the list only between two of its items
        lo -= 1
    while lo < at and marker(lo) != kind:
        lo += 1
    hi = at
    while hi + 1 < len(sents) and marker(hi + 1) in (kind, None):
        if marker(hi + 1) is None and (hi + 2 >= len(sents) or marker(hi + 2) != kind):
            break
        hi += 1
    if lo > 0 and sents[lo - 1].span.text.endswith(("：", ":")):
        lo -= 1
    return min(lo, idx), max(hi, idx)


def count_items(quote: str, rules: EnumerationRules) -> int:
    """Items of one numbering in a quoted list ('1. …；2. …；3. …' → 3; '一是…二是…' → 2)."""
    kinds: dict[str, int] = {}
    for sp in sentences(quote):
        m = numbering(sp.text)
        key = m.kind if m else ("item" if item_number(sp.text, rules) else "")
        if key:
            kinds[key] = kinds.get(key, 0) + 1
    return max(kinds.values(), default=0)


def best_sentence(scored: list[Scored]) -> Scored:
    return max(scored, key=lambda s: s.score)


def holding_asked_contact(ctx: AnswerContext, scored: list[Scored]) -> list[Scored]:
    """The sentences holding contact details the question asks for: a kind of answer a quote must hold
    (``decision.required_types``) that may stand beside the sentence about the topic (``window`` > 0: a phone
    number, an address, an e-mail, a web address). Empty when the question asks for none.

    Not amounts or dates: the sentence about the topic that lacks one means the documents do not give it, and a
    figure from another sentence is another item's (the near miss that must be refused)."""
    required = ctx.rules.answer.decision.required_types
    kinds = {k.name for k in ctx.rules.question.answer_types if k.window > 0 and k.name in required}
    asked = [pattern for kind, pattern in ctx.analysis.answer_kinds if kind in kinds]
    if not asked:
        return []
    return [s for s in scored if not s.span.heading and any(p.search(s.span.text) for p in asked)]


def runners_up(scored: list[Scored], best: Scored, groups: list[tuple[Hit, str]], ratio: float, most: int,
               limit: int) -> list[tuple[Hit, str]]:
    """Sentences of the best one's document that the fitted model rates nearly as likely to answer (p ≥
    ratio·p_best), best first, at most ``most``, none already quoted, within the answer's length budget: when
    the model cannot tell which of two sentences answers, the answer quotes both, each with its citation.
    Another document's sentence never joins: that would cite a second policy for one question."""
    quoted = [text for _, text in groups]
    used = sum(len(t) for t in quoted)
    out: list[tuple[Hit, str]] = []
    for s in sorted(scored, key=lambda s: -s.p):
        if len(out) >= most or s.p < ratio * best.p:
            break
        if s is best or s.hit.chunk.source != best.hit.chunk.source or any(s.span.text in t for t in quoted) \
                or s.span.heading:
            continue
        if used + len(s.span.text) > limit:
            continue
        out.append((s.hit, s.span.text))
        quoted.append(s.span.text)
        used += len(s.span.text)
    return out


class SentenceStrategy:
    name = "sentence"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        groups = self.extract(ctx)
        if not groups:
            return Draft.nothing()
        draft = quotes_draft(groups)
        if ctx.analysis.enumeration:
            n = count_items(groups[0][1], ctx.rules.answer.enumeration)
            if n >= 2:  # a list question is told how many items the list has
                draft = Draft(f"共{n}项：\n{draft.text}", draft.citations)
        return draft

    def extract(self, ctx: AnswerContext) -> list[tuple[Hit, str]]:
        scored = ctx.scored
        if not scored:
            return []
        r = ctx.rules.answer.sentence
        tw = ctx.weights
        enumeration = ctx.analysis.enumeration

        best = best_sentence(scored)
        contact = holding_asked_contact(ctx, [s for s in scored if s.hit.chunk.source == best.hit.chunk.source])
        if contact and best not in contact:
            # Asked for a phone number, an address, an e-mail …: a sentence without one is no answer, however well
            # it matches the topic (the decision would refuse it), and the contact line names no topic. Quote the
            # best line of the same document that holds one (another document's contact is another office's);
            # the decision weighs it with that line's own confidence.
            best = best_sentence(contact)
        erules = ctx.rules.answer.enumeration
        if enumeration and not any(item_number(s.span.text, erules) == 1 for s in scored if s.hit is best.hit):
            # A list question whose best sentence sits in a later chunk of a section (chunks of one section
            # overlap): answer from the chunk of that section where the list starts.
            starts = [s for s in scored if s.hit is not best.hit and s.hit.chunk.source == best.hit.chunk.source
                      and s.hit.chunk.section == best.hit.chunk.section and item_number(s.span.text, erules) == 1]
            if starts:
                best = max(starts, key=lambda s: s.p)
        chunk_sents = [s for s in scored if s.hit is best.hit]
        idx = chunk_sents.index(best)
        lo = hi = idx
        limit = ctx.settings.max_answer_chars * (r.enumeration_budget_factor if enumeration else 1)
        neighbour = ctx.fitted.neighbour_ratio if ctx.fitted is not None else r.neighbour_factor
        if enumeration:
            lo, hi = enumeration_span(chunk_sents, idx, ctx.rules.answer.enumeration)
            if (lo, hi) == (idx, idx):
                lo, hi = item_run(chunk_sents, idx)
        # A sentence that announces a list ("符合下列条件之一的单位…", "…如下：") needs the whole list.
        if hi + 1 < len(chunk_sents) and announces_list(chunk_sents[hi].span.text) and \
                numbering(chunk_sents[hi + 1].span.text) is not None:
            hi = max(hi, item_run(chunk_sents, hi + 1)[1])
        own = numbering(best.span.text)

        def sibling(i: int) -> bool:
            """Sentence i is another item of the list the best sentence is an item of (not for list questions)."""
            m = numbering(chunk_sents[i].span.text)
            return not enumeration and own is not None and m is not None and m.kind == own.kind and i != idx

        # A short passage (a contact block, a deadline line) is quoted whole when the best sentence alone is short.
        whole = span_text(chunk_sents, 0, len(chunk_sents) - 1)
        if visual_len(span_text(chunk_sents, lo, hi)) < r.lead_chars and visual_len(whole) <= r.lead_chars * 3 \
                and not any(sibling(i) for i in range(len(chunk_sents))):
            lo, hi = 0, len(chunk_sents) - 1
        # A short lead sentence, or one that announces a list ("…如下：") needs the next sentence.
        while hi + 1 < len(chunk_sents) and not sibling(hi + 1) and (
            visual_len(span_text(chunk_sents, lo, hi)) < r.lead_chars or chunk_sents[hi].span.text.endswith(r.lead_endings)
        ):
            hi += 1
        # Neighbours that also answer the question join the quote (kept contiguous) — but not the next item of a
        # list, unless the question asks for the list: item 二's figure is no part of the answer about item 一.
        while hi + 1 < len(chunk_sents) and chunk_sents[hi + 1].p >= neighbour * best.p and \
                len(span_text(chunk_sents, lo, hi + 1)) <= limit and not sibling(hi + 1):
            hi += 1
        groups = [(best.hit, span_text(chunk_sents, lo, hi))]

        # A second passage only when it answers a part of the question that the first does not.
        first = groups[0][1]
        covered = tw.found(f"{best.hit.chunk.title}\n{best.hit.chunk.section}\n{first}")
        others = []
        for s in scored:
            if s.hit is best.hit or s.p < r.second_passage_factor * best.p or s.span.text in first:
                continue
            new_terms = tw.found(s.span.text) - covered
            gain = sum(tw.weights[t] for t in new_terms) / (tw.total or 1.0)
            if gain >= r.second_passage_gain:
                others.append((gain, s))
        if others:
            second = max(others, key=lambda g: (g[0], g[1].score))[1]
            groups.append((second.hit, second.span.text))
        if ctx.fitted is not None and not enumeration:
            groups += runners_up(scored, best, groups, ctx.fitted.runner_ratio, ctx.fitted.runner_max, limit)
        return groups


__all__ = ["SentenceStrategy", "best_sentence", "runners_up", "enumeration_span", "item_number", "item_run", "score_sentences"]
