"""Optional LLM answerer over an OpenAI-compatible ``/chat/completions`` endpoint.

The relevance gate still decides whether to answer. The model writes the answer with ``[n]`` markers that
must point at the passages it was given; each citation's quote is then taken verbatim from that passage
(the sentence that best supports the model's sentence), so a model cannot invent a quote. Any failure
(timeout, HTTP error, no valid marker) falls back to the extractive answer.
"""

from __future__ import annotations

import logging
import re

import httpx

from assistant.answer.citations import MARKER, verify
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.text import sentences
from assistant.prompts import render
from assistant.retrieve import Retrieval
from assistant.settings import Settings
from assistant.types import Answer, Citation, Context, Document

log = logging.getLogger(__name__)


def chat(settings: Settings, prompt: str, max_tokens: int = 800) -> str:
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    resp = httpx.post(
        settings.llm_base_url.rstrip("/") + "/chat/completions",
        json={
            "model": settings.llm_model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": max_tokens,
        },
        headers=headers,
        timeout=settings.llm_timeout_s,
    )
    resp.raise_for_status()
    return resp.json()["choices"][0]["message"]["content"].strip()


def _overlap(a: str, b: str) -> float:
    grams = lambda s: {s[i : i + 2] for i in range(len(s) - 1)}  # noqa: E731
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / (len(ga) or 1)


class LLMAnswerer:
    def __init__(self, settings: Settings, fallback: ExtractiveAnswerer) -> None:
        self.settings = settings
        self.fallback = fallback

    def answer(self, question: str, retrieval: Retrieval, documents: dict[str, Document]) -> Answer:
        if not retrieval.gate.passed or not retrieval.hits:
            return self.fallback.answer(question, retrieval, documents)
        hits = retrieval.hits[:5]
        passages = [
            {"n": i, "title": h.chunk.title, "doc_number": h.chunk.doc_number, "section": h.chunk.section, "text": h.chunk.text}
            for i, h in enumerate(hits, 1)
        ]
        prompt = render(self.settings.prompts_dir, "answer_llm", passages=passages, question=question,
                        max_chars=self.settings.max_answer_chars)
        try:
            text = chat(self.settings, prompt)
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            log.warning("LLM answer failed (%s); using the extractive answer", exc)
            return self.fallback.answer(question, retrieval, documents)

        citations: list[Citation] = []
        by_passage: dict[int, int] = {}
        # Each sentence of the model's answer, with the markers it carries.
        for piece in re.split(r"(?<=[。！？!?；;])", text):
            for m in MARKER.finditer(piece):
                n = int(m.group(1))
                if not 1 <= n <= len(hits) or n in by_passage:
                    continue
                chunk = hits[n - 1].chunk
                claim = MARKER.sub("", piece)
                quote = max(sentences(chunk.text), key=lambda sp: _overlap(claim, sp.text)).text
                by_passage[n] = len(citations) + 1
                citations.append(Citation(n=n, source=chunk.source, title=chunk.title, doc_number=chunk.doc_number,
                                          date=chunk.date, section=chunk.section, quote=quote, chunk_id=chunk.id))
        if not citations:
            return self.fallback.answer(question, retrieval, documents)
        answer_text, checked = verify(text, citations, documents)
        if not checked:
            return self.fallback.answer(question, retrieval, documents)
        contexts = [Context.of(h, i) for i, h in enumerate(retrieval.hits, 1)]
        return Answer(question=question, answer=answer_text, grounded=True, citations=checked, contexts=contexts)
