"""The default answerer: no LLM. It quotes the sentences of the top passages that answer the question.

- Sentences are scored by the weighted share of the question's salient terms they contain.
- "哪些/哪几/有几" questions get the whole enumeration (一是…二是…, or the list sentence).
- "第二项…" follow-ups pick that item of the enumeration.
- Questions about the document itself (文号, 签发人, 日期, 联系电话 …) are answered from the metadata lines.
Every quote is a verbatim slice of the source document; ``citations.verify`` checks it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answer.citations import verify
from assistant.answer.text import Span, content_spans, sentences
from assistant.index.lexical import LexicalIndex
from assistant.index.snapshot import Snapshot
from assistant.ingest.chunking import PATH_SEP
from assistant.ingest.headings import DATE_LINE, visual_len
from assistant.ingest.metadata import DOC_NUMBER, normalize_doc_number
from assistant.prompts import render
from assistant.question import QuestionAnalysis, TermWeights, analyse, cn_to_int, weigh
from assistant.retrieve import Retrieval
from assistant.settings import Settings
from assistant.types import Answer, Chunk, Citation, Context, Document, Hit

_CN_NUM = "一二三四五六七八九十"
_ITEM = re.compile(rf"([{_CN_NUM}]{{1,2}})是")

def _own_doc_number(doc: Document) -> re.Match[str] | None:
    """Where the document's own 文号 (as ingest extracted it) stands in its text, not a 文号 it cites."""
    return next((m for m in DOC_NUMBER.finditer(doc.text) if normalize_doc_number(m) == doc.meta.doc_number), None)


def _signing_date(doc: Document) -> re.Match[str] | None:
    """The last date standing alone on its line: the 成文日期 ingest took as the document's date."""
    last = None
    for line in re.finditer(r"[^\n]+", doc.text):
        if DATE_LINE.match(line.group(0)):
            last = line
    return last


def _line(pattern: str, flags: int = 0) -> Callable[[Document], re.Match[str] | None]:
    compiled = re.compile(pattern, flags)
    return lambda doc: compiled.search(doc.text)


# (label shown in the answer, question pattern, where the evidence line stands in the document)
METADATA_FIELDS: list[tuple[str, re.Pattern[str], Callable[[Document], re.Match[str] | None]]] = [
    ("的文号为", re.compile(r"文号|发文字号|字号"), _own_doc_number),
    ("的签发人", re.compile(r"签发"), _line(r"签发人\s*[:：]\s*\S+")),
    ("的联系人及电话", re.compile(r"联系人|联系电话|电话|联系方式"), _line(r"[^\n]*(?:联系人|联系电话|电话)[^\n]*")),
    ("的通讯地址", re.compile(r"地址|邮编|邮政编码"), _line(r"[^\n]*(?:地址|邮政编码)[^\n]*")),
    ("的成文日期", re.compile(r"日期|哪天|何时|什么时候|哪一天|时间"), _signing_date),
    ("的发文机关", re.compile(r"发文机关|发文单位|哪个(?:部门|单位|机关)(?:发|印发|制定|发布)"),
     _line(r"^.{2,30}(?:委员会|人民政府|办公室|局|委)$", re.M)),
]


@dataclass
class _Scored:
    hit_rank: int
    hit: Hit
    span: Span
    score: float


class ExtractiveAnswerer:
    def __init__(self, settings: Settings, snapshot: Snapshot, synonyms: dict[str, frozenset[str]]) -> None:
        self.settings = settings
        self.snapshot = snapshot
        self.lexical: LexicalIndex = snapshot.lexical
        self.synonyms = synonyms

    # ---- public -------------------------------------------------------------------------------------
    def answer(self, question: str, retrieval: Retrieval, documents: dict[str, Document]) -> Answer:
        hits = retrieval.hits
        contexts = [
            Context(rank=i, chunk_id=h.chunk.id, source=h.chunk.source, section=h.chunk.section, text=h.chunk.text, score=round(h.score, 6))
            for i, h in enumerate(hits, 1)
        ]
        if not retrieval.gate.passed or not hits:
            return self._refuse(question, retrieval, contexts)

        qa, tw = retrieval.analysis, retrieval.weights
        structure = self._structure_answer(qa, tw, hits) if qa.enumeration or qa.ordinal else None
        if structure is not None:
            return self._finish(question, structure, documents, contexts, retrieval)
        groups = self._metadata_answer(qa, hits, documents)
        if groups is None:
            groups = self._extract(qa, tw, hits)
        if not groups:
            return self._refuse(question, retrieval, contexts)

        citations: list[Citation] = []
        parts: list[str] = []
        for hit, text, label in groups:
            n = len(citations) + 1
            c = hit.chunk
            citations.append(
                Citation(n=n, source=c.source, title=c.title, doc_number=c.doc_number, date=c.date,
                         section=c.section, quote=text, chunk_id=c.id)
            )
            if label:
                value = re.sub(r"^(?:签发人|联系人姓名|联系人)\s*[:：]\s*", "", text)
                parts.append(render(self.settings.prompts_dir, "metadata_answer", title=c.title, label=label, evidence=value, n=n))
            else:
                parts.append(f"{text}[{n}]")
        return self._finish(question, ("\n".join(parts), citations), documents, contexts, retrieval)

    def _finish(
        self,
        question: str,
        drafted: tuple[str, list[Citation]],
        documents: dict[str, Document],
        contexts: list[Context],
        retrieval: Retrieval,
    ) -> Answer:
        answer_text, citations = verify(drafted[0], drafted[1], documents)
        if not citations:
            return self._refuse(question, retrieval, contexts)
        return Answer(question=question, answer=answer_text, grounded=True, citations=citations, contexts=contexts)

    def _structure_item(
        self, n: int, source: str, prefix: tuple[str, ...], children: list[tuple[str, Chunk]], tw: TermWeights, hits: list[Hit]
    ) -> tuple[str, list[Citation]] | None:
        """"第二项…" after a list of sub-headings: that sub-section, as its own list or its opening sentences."""
        if not 1 <= n <= len(children):
            return None
        heading, chunk = children[n - 1]
        sub = self._structure_answer(analyse(heading + "有哪些"), weigh(analyse(heading), self.lexical, self.synonyms), hits,
                                     only=(source, prefix + (heading,)))
        if sub is not None:
            return sub
        sents = sentences(chunk.text)
        end = 0
        for sp in sents:
            if end and sp.end > self.settings.max_answer_chars:
                break
            end = sp.end
        quote = chunk.text[:end]
        citation = Citation(n=1, source=source, title=chunk.title, doc_number=chunk.doc_number, date=chunk.date,
                            section=chunk.section, quote=quote, chunk_id=chunk.id)
        return f"{heading}：{quote}[1]", [citation]

    # ---- "分成哪几大类？": the sub-headings of a section -------------------------------------------------
    def _structure_answer(
        self, qa: QuestionAnalysis, tw: TermWeights, hits: list[Hit], only: tuple[str, tuple[str, ...]] | None = None
    ) -> tuple[str, list[Citation]] | None:
        sources = [only[0]] if only else list(dict.fromkeys(h.chunk.source for h in hits[:3]))
        best: tuple[float, str, tuple[str, ...], list[tuple[str, Chunk]]] | None = None
        for source in sources:
            chunks = [c for c in self.snapshot.chunks.values() if c.source == source]
            paths = [(tuple(c.section.split(PATH_SEP)), c) for c in sorted(chunks, key=lambda c: c.ordinal)]
            prefixes = {p[:i] for p, _ in paths for i in range(1, len(p))}
            if only:
                prefixes = {only[1]} & prefixes
            for prefix in prefixes:
                children: dict[str, Chunk] = {}
                for p, c in paths:
                    if len(p) > len(prefix) and p[: len(prefix)] == prefix:
                        children.setdefault(p[len(prefix)], c)
                if len(children) < 2:
                    continue
                heading = prefix[-1]
                own = tw.cover(heading)
                score = tw.cover(chunks[0].title + "\n" + " ".join(prefix)) + own
                if own >= 0.3 and (best is None or score > best[0]):
                    best = (score, source, prefix, list(children.items()))
        # The title and heading together must cover nearly the whole question, the heading a real part of it.
        if best is None or (best[0] - tw.cover(best[2][-1]) < 0.85 and not only):
            return None
        _, source, prefix, children = best
        if qa.ordinal:
            return self._structure_item(qa.ordinal, source, prefix, children, tw, hits)
        citations = []
        items = []
        for text, chunk in children:
            n = len(citations) + 1
            citations.append(
                Citation(n=n, source=source, title=chunk.title, doc_number=chunk.doc_number, date=chunk.date,
                         section=PATH_SEP.join(prefix + (text,)), quote=text, chunk_id=chunk.id)
            )
            items.append({"text": text, "n": n})
        title = children[0][1].title
        return render(self.settings.prompts_dir, "structure_answer", title=title, heading=prefix[-1], items=items), citations

    # ---- refusal ------------------------------------------------------------------------------------
    def _refuse(self, question: str, retrieval: Retrieval, contexts: list[Context]) -> Answer:
        closest: list[dict[str, str]] = []
        for h in retrieval.hits:
            if all(d["source"] != h.chunk.source for d in closest):
                closest.append({"source": h.chunk.source, "title": h.chunk.title, "doc_number": h.chunk.doc_number})
        text = render(
            self.settings.prompts_dir, "refusal",
            question=question.strip().rstrip("？?"), missing=retrieval.gate.missing_terms[:3], closest=closest[:2],
        )
        reason = "no_passages" if not retrieval.hits else "relevance_gate"
        return Answer(question=question, answer=text, grounded=False, citations=[], contexts=contexts, refusal_reason=reason)

    # ---- metadata questions -------------------------------------------------------------------------
    def _metadata_answer(
        self, qa: QuestionAnalysis, hits: list[Hit], documents: dict[str, Document]
    ) -> list[tuple[Hit, str, str]] | None:
        if not qa.metadata_field:
            return None
        query = qa.text
        top = hits[0]
        doc = documents.get(top.chunk.source)
        if doc is None:
            return None
        for label, q_pat, find in METADATA_FIELDS:
            if not q_pat.search(query):
                continue
            # A date question about a passage ("哪年发布实施") is a content question, not metadata.
            if label == "的成文日期" and re.search(r"《|方案|政策|措施", query) and not re.search(r"印发|成文|发文|文件", query):
                return None
            m = find(doc)
            if m:
                # Cite the chunk that holds the line (usually the header or the signature block).
                holder = next(
                    (c for c in self.snapshot.chunks.values()
                     if c.source == doc.meta.source and c.start <= m.start() < c.start + len(c.text)),
                    top.chunk,
                )
                return [(Hit(chunk=holder, score=top.score), m.group(0).strip(), label)]
        return None

    # ---- sentence extraction ------------------------------------------------------------------------
    def _extract(self, qa: QuestionAnalysis, tw: TermWeights, hits: list[Hit]) -> list[tuple[Hit, str, str]]:
        enumeration = qa.enumeration

        scored: list[_Scored] = []
        for rank, hit in enumerate(hits[:3]):
            context = f"{hit.chunk.title}\n{hit.chunk.section}\n"
            for span in content_spans(hit.chunk.text, hit.chunk.section):
                # The heading and title answer part of the question for every sentence below them;
                # the sentence's own coverage decides between them.
                score = tw.cover(context + span.text) + 0.5 * tw.cover(span.text) + 0.12 * (1 - rank / 3)
                if visual_len(span.text) < 6:
                    score -= 0.3
                scored.append(_Scored(rank, hit, span, score))
        if not scored:
            return []

        if qa.ordinal:
            # "第三项…": that item of an enumeration, or nothing (never a different item).
            return self._ordinal(qa.ordinal, scored)

        best = max(scored, key=lambda s: s.score)
        chunk_sents = [s for s in scored if s.hit is best.hit]
        idx = chunk_sents.index(best)
        lo = hi = idx
        limit = self.settings.max_answer_chars * (2 if enumeration else 1)
        if enumeration:
            lo, hi = self._enumeration_span(chunk_sents, idx)
        # A short lead sentence, or one that announces a list ("…如下：") needs the next sentence.
        while hi + 1 < len(chunk_sents) and (
            visual_len(self._text(chunk_sents, lo, hi)) < 40 or chunk_sents[hi].span.text.endswith(("：", ":"))
        ):
            hi += 1
        # Neighbours that also answer the question join the quote (kept contiguous).
        while hi + 1 < len(chunk_sents) and chunk_sents[hi + 1].score >= 0.8 * best.score and \
                len(self._text(chunk_sents, lo, hi + 1)) <= limit:
            hi += 1
        groups = [(best.hit, self._text(chunk_sents, lo, hi), "")]

        # A second passage only when it answers a part of the question that the first does not.
        first = groups[0][1]
        covered = tw.found(f"{best.hit.chunk.title}\n{best.hit.chunk.section}\n{first}")
        others = []
        for s in scored:
            if s.hit is best.hit or s.score < 0.85 * best.score or s.span.text in first:
                continue
            new_terms = tw.found(s.span.text) - covered
            gain = sum(tw.weights[t] for t in new_terms) / (tw.total or 1.0)
            if gain >= 0.25:
                others.append((gain, s))
        if others:
            second = max(others, key=lambda g: (g[0], g[1].score))[1]
            groups.append((second.hit, second.span.text, ""))
        return groups

    @staticmethod
    def _text(sents: list[_Scored], lo: int, hi: int) -> str:
        chunk_text = sents[lo].hit.chunk.text
        return chunk_text[sents[lo].span.start : sents[hi].span.end]

    @staticmethod
    def _enumeration_span(sents: list[_Scored], idx: int) -> tuple[int, int]:
        """Widen to the run of 一是/二是… items (or the （一）（二） items) around the best sentence."""
        def item_no(s: _Scored) -> int:
            m = _ITEM.search(s.span.text[:8]) or re.match(rf"[（(]([{_CN_NUM}]+)[）)]", s.span.text)
            return cn_to_int(m.group(1)) if m else 0

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
                if lo > 0 and sents[lo - 1].span.text.endswith(("：", ":", "。")) and lo == start and item_no(sents[lo]) == 1 \
                        and "方面" in sents[lo - 1].span.text:
                    lo -= 1
        return lo, hi

    def _ordinal(self, n: int, scored: list[_Scored]) -> list[tuple[Hit, str, str]]:
        cn = _CN_NUM[n - 1] if 1 <= n <= 10 else str(n)
        starts = (f"{cn}是", f"（{cn}）", f"({cn})", f"{n}、", f"{n}.")
        nxt = _CN_NUM[n] if n < 10 else ""
        next_starts = (f"{nxt}是", f"（{nxt}）", f"{n + 1}、") if nxt else ()
        found: list[tuple[Hit, str]] = []
        for s in sorted(scored, key=lambda x: (x.hit_rank, -x.score)):
            head = s.span.text[:8]
            if not any(head.startswith(p) or (p.endswith("是") and p in head) for p in starts):
                continue
            sents = [x for x in scored if x.hit is s.hit]
            lo = hi = sents.index(s)
            while hi + 1 < len(sents) and not any(p in sents[hi + 1].span.text[:8] for p in next_starts) \
                    and len(self._text(sents, lo, hi + 1)) <= self.settings.max_answer_chars:
                hi += 1
            found.append((s.hit, self._text(sents, lo, hi)))
        # The same item may start near the end of one chunk and in full in the next (overlap): take the fullest.
        return [(*max(found, key=lambda f: len(f[1])), "")] if found else []
