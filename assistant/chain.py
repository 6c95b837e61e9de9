"""The question → Answer chain as LangChain runnables: condense → retrieve → answer, each step timed."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answer.base import Answerer
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.conversation import condense
from assistant.index.snapshot import Snapshot
from assistant.retrieve import HybridRetriever
from assistant.settings import Settings
from assistant.types import Answer
from embeddings.base import PolicyEmbeddings


class PolicyRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain ``BaseRetriever`` (for LCEL users and other chains)."""

    hybrid: Any
    top_k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        result = self.hybrid.search(query, self.top_k)
        return [
            LCDocument(
                page_content=h.chunk.text,
                id=h.chunk.id,
                metadata={**h.chunk.chroma_metadata(), "score": h.score, "gate_passed": result.gate.passed},
            )
            for h in result.hits
        ]


def make_answerer(settings: Settings, retriever: HybridRetriever) -> Answerer:
    embed = retriever.embeddings.embed_query if settings.sentence_similarity == "always" else None
    extractive = ExtractiveAnswerer(settings, retriever.snapshot, retriever.synonyms(), retriever.rules, embed=embed)
    if settings.answerer == "llm":
        from assistant.answer.llm import LLMAnswerer

        return LLMAnswerer(settings, extractive)
    return extractive


def build_chain(settings: Settings, snapshot: Snapshot, embeddings: PolicyEmbeddings) -> Runnable[dict, Answer]:
    retriever = HybridRetriever(snapshot, embeddings, settings)
    answerer = make_answerer(settings, retriever)

    def rewrite(inp: dict) -> dict:
        return {**inp, "query": condense(inp["question"], inp.get("history"))}

    def retrieve(inp: dict) -> dict:
        t0 = time.perf_counter()
        retrieval = retriever.search(inp["query"], inp.get("top_k"), inp.get("filters"))
        return {**inp, "retrieval": retrieval, "t_retrieve": (time.perf_counter() - t0) * 1000}

    def answer(inp: dict) -> Answer:
        t0 = time.perf_counter()
        result = answerer.answer(inp["question"], inp["retrieval"], snapshot.documents)
        result.timings_ms = {"retrieve": round(inp["t_retrieve"], 2), "answer": round((time.perf_counter() - t0) * 1000, 2)}
        if inp["query"] != inp["question"]:
            result.standalone_question = inp["query"]
        return result

    return (RunnableLambda(rewrite) | RunnableLambda(retrieve) | RunnableLambda(answer)).with_config(run_name="policy_qa")
