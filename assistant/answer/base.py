"""The seam every answerer plugs into: extractive now, LLM by config; both return the same ``Answer``."""

from __future__ import annotations

from typing import Protocol

from assistant.retrieve import Retrieval
from assistant.types import Answer, Document


class Answerer(Protocol):
    def answer(self, question: str, retrieval: Retrieval, documents: dict[str, Document]) -> Answer: ...
