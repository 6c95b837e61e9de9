"""Optional LLM-assisted extraction against a fake OpenAI-compatible server on loopback: only verified parts
(taxonomy names, verbatim conditions) are merged, answers are cached, failures leave measures rule-based."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI

from assistant.match.catalogue import build_catalogue
from assistant.match.taxonomy import load_taxonomy
from tests.api.conftest import make_server

IP_TASK = "14、健全知识产权服务体系"


def fake_llm(calls: list[str]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    def completions(body: dict) -> dict:
        prompt = body["messages"][0]["content"]
        calls.append(prompt)
        if f"措施标题：{IP_TASK}" in prompt:
            content = (
                "```json\n"
                + json.dumps(
                    {
                        "kinds": ["知识产权", "资金", "不存在的类型"],
                        "industries": ["软件/信息技术", "火星经济"],
                        "qualifications": [],
                        "groups": [],
                        "conditions": ["协助企业开展知识产权海外布局", "年营收超过一亿元的企业"],
                    },
                    ensure_ascii=False,
                )
                + "\n```"
            )
        else:
            content = "抱歉，我无法回答。"  # not JSON: that measure stays rule-based
        return {"choices": [{"message": {"role": "assistant", "content": content}}]}

    return app


def test_llm_extraction_is_verified_merged_and_cached(bot, tmp_path: Path) -> None:
    snap = bot.snapshot()
    taxonomy = load_taxonomy(bot.settings)
    chunks = list(snap.chunks.values())
    rules = build_catalogue(snap.documents, chunks, taxonomy, snap.generation)
    calls: list[str] = []
    with make_server(fake_llm(calls)) as base:
        settings = bot.settings.model_copy(
            update={"llm_base_url": f"{base}/v1", "llm_model": "fake", "data_dir": tmp_path}
        )
        first = build_catalogue(snap.documents, chunks, taxonomy, snap.generation, settings)
        assert len(calls) == len(rules.measures), "one question per measure"
        again = build_catalogue(snap.documents, chunks, taxonomy, snap.generation, settings)
        assert len(calls) == 2 * len(rules.measures) - 1, (
            "the answered measure is cached; failed ones are retried"
        )

    assert first.llm == f"{base}/v1|fake" and rules.llm == ""
    before = {m.heading: m for m in rules.measures}
    for m in first.measures:
        if m.heading != IP_TASK:
            assert m.model_dump() == before[m.heading].model_dump(), "unanswered measures stay rule-based"
    ip = next(m for m in first.measures if m.heading == IP_TASK)
    assert ip.extracted_by == "rules+llm"
    assert ip.kinds[0] == "知识产权" and "资金" in ip.kinds and ip.kind_strength["资金"] == 0.5
    assert "不存在的类型" not in ip.kinds
    assert ip.targets.industries == ["软件/信息技术"]
    assert ip.conditions == ["协助企业开展知识产权海外布局"], "an invented condition is dropped"
    assert ip.conditions[0] in ip.text
    assert [m.model_dump() for m in again.measures] == [m.model_dump() for m in first.measures]
    cache = json.loads((tmp_path / "cache" / "measures_llm.json").read_text(encoding="utf-8"))
    assert len(cache) == 1


def test_unreachable_llm_leaves_the_rule_based_catalogue(bot, tmp_path: Path) -> None:
    snap = bot.snapshot()
    taxonomy = load_taxonomy(bot.settings)
    chunks = list(snap.chunks.values())
    rules = build_catalogue(snap.documents, chunks, taxonomy, snap.generation)
    settings = bot.settings.model_copy(
        update={
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_model": "fake",
            "llm_timeout_s": 2.0,
            "data_dir": tmp_path,
        }
    )
    built = build_catalogue(snap.documents, chunks, taxonomy, snap.generation, settings)
    assert [m.model_dump() for m in built.measures] == [m.model_dump() for m in rules.measures]
