"""Metadata strategy: questions about a document itself (文号, 签发人, 联系人/电话, 通讯地址, 成文日期, 发文机关)
are answered from the line of the top document that holds it (header, signature block), not from body text.

The fields, in order, are ``answer.metadata.fields`` in the rules file; each says where its evidence stands:
``own_doc_number`` (the 文号 ingest extracted, not one the text cites), ``signing_date`` (the last date alone
on its line, the 成文日期 ingest took), ``own_issuer`` (the 发文机关 ingest took, from the signature block or
the head of the title; else the line its pattern matches) or ``line`` (the first line matching its pattern).
"""

from __future__ import annotations

import re

from assistant.answer.strategies.base import AnswerContext, Draft, citation
from assistant.ingest.headings import DATE_LINE
from assistant.ingest.metadata import DOC_NUMBER, normalize_doc_number
from assistant.prompts import render
from assistant.rules import MetadataField
from assistant.types import Document


def own_doc_number(doc: Document) -> re.Match[str] | None:
    """Where the document's own 文号 (as ingest extracted it) stands in its text, not a 文号 it cites."""
    return next((m for m in DOC_NUMBER.finditer(doc.text) if normalize_doc_number(m) == doc.meta.doc_number), None)


def signing_date(doc: Document) -> re.Match[str] | None:
    """The last date standing alone on its line: the 成文日期 ingest took as the document's date."""
    last = None
    for line in re.finditer(r"[^\n]+", doc.text):
        if DATE_LINE.match(line.group(0)):
            last = line
    return last


def own_issuer(doc: Document) -> re.Match[str] | None:
    """Where the issuer ingest extracted stands: its own line (the signature block; the last one), else its
    first mention (the head of a title '闵行区人民政府办公室关于印发…'). Only the name is quoted."""
    issuer = doc.meta.issuer
    if not issuer:
        return None
    alone = None
    for m in re.finditer(rf"^[ \t]*({re.escape(issuer)})[ \t]*$", doc.text, re.M):
        alone = m
    if alone is not None:
        return re.compile(re.escape(issuer)).search(doc.text, alone.start(1))
    return re.search(re.escape(issuer), doc.text)


def evidence(field: MetadataField, doc: Document) -> re.Match[str] | None:
    """Where ``field``'s evidence stands in ``doc``'s text."""
    if field.evidence == "own_doc_number":
        return own_doc_number(doc)
    if field.evidence == "signing_date":
        return signing_date(doc)
    if field.evidence == "own_issuer":
        found = own_issuer(doc)
        if found is not None or field.pattern is None:
            return found
    assert field.pattern is not None  # validated at load
    return field.pattern.search(doc.text)


class MetadataStrategy:
    name = "metadata"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        if not ctx.analysis.metadata_field:
            return None
        rules = ctx.rules.answer.metadata
        query = ctx.analysis.text
        top = ctx.hits[0]
        doc = ctx.documents.get(top.chunk.source)
        if doc is None:
            return None
        lines: list[str] = []
        citations = []
        for field in rules.fields:
            if not field.question.search(query):
                continue
            # A date question about a passage ("哪年发布实施") is a content question, not metadata.
            if field.content is not None and field.content.search(query) and not (
                field.document is not None and field.document.search(query)
            ):
                continue
            m = evidence(field, doc)
            if not m:
                continue
            # Cite the chunk that holds the line (usually the header or the signature block).
            holder = next(
                (c for c in ctx.chunks_of(doc.meta.source) if c.start <= m.start() < c.start + len(c.text)),
                top.chunk,
            )
            quote = m.group(0).strip()
            value = rules.value_prefix.sub("", quote)
            n = len(citations) + 1
            lines.append(render(ctx.settings.prompts_dir, "metadata_answer", title=holder.title, label=field.label,
                                evidence=value, n=n))
            citations.append(citation(holder, n, quote))
        # Every field the question asks for is answered ("哪个单位发的？落款日期是？": issuer and date), each
        # with its own citation; a content question about a date is left to the sentence strategy.
        if not lines:
            return None
        return Draft("\n".join(lines), citations)
