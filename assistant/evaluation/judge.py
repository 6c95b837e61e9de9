"""Optional LLM judge (RAGAS-style faithfulness and answer relevancy) over the project's grounded answers.

Runs only when ``ASSISTANT_LLM_BASE_URL`` and ``ASSISTANT_LLM_MODEL`` are set (any OpenAI-compatible
``/chat/completions``). Informational: the deterministic metrics are the gate, this never is.
"""

from __future__ import annotations

import json
import re

import httpx
from pydantic import BaseModel

from assistant.evaluation.gold import GoldRow
from assistant.prompts import render
from assistant.settings import Settings
from assistant.types import Answer, Context

_JSON = re.compile(r"\{.*\}", re.S)


class JudgeReport(BaseModel):
    model: str
    n: int  # answers judged
    faithfulness: float | None
    answer_relevancy: float | None
    errors: int = 0  # calls that failed or returned no readable verdict


def judge_configured(settings: Settings) -> bool:
    return bool(settings.llm_base_url and settings.llm_model)


def parse_verdict(text: str) -> tuple[float, float] | None:
    """(faithfulness, answer_relevancy) from the judge's reply, clamped to [0, 1]; None if unreadable."""
    m = _JSON.search(text or "")
    if not m:
        return None
    try:
        data = json.loads(m.group(0))
        f, r = float(data["faithfulness"]), float(data["answer_relevancy"])
    except (ValueError, KeyError, TypeError):
        return None
    return min(max(f, 0.0), 1.0), min(max(r, 0.0), 1.0)


def run_judge(settings: Settings, runs: list[tuple[GoldRow, Answer, list[Context]]]) -> JudgeReport:
    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    faith: list[float] = []
    rel: list[float] = []
    errors = 0
    with httpx.Client(timeout=settings.llm_timeout_s, headers=headers) as client:
        for row, answer, contexts in runs:
            if not row.answerable or not answer.grounded:
                continue
            evidence = [c.quote for c in answer.citations] or [c.text for c in contexts[:3]]
            prompt = render(settings.prompts_dir, "judge", question=row.question, answer=answer.answer, contexts=evidence)
            try:
                resp = client.post(url, json={"model": settings.llm_model, "temperature": 0,
                                              "messages": [{"role": "user", "content": prompt}]})
                resp.raise_for_status()
                verdict = parse_verdict(resp.json()["choices"][0]["message"]["content"])
            except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError):
                verdict = None
            if verdict is None:
                errors += 1
                continue
            faith.append(verdict[0])
            rel.append(verdict[1])
    return JudgeReport(
        model=settings.llm_model,
        n=len(faith),
        faithfulness=round(sum(faith) / len(faith), 4) if faith else None,
        answer_relevancy=round(sum(rel) / len(rel), 4) if rel else None,
        errors=errors,
    )
