"""The optional LLM judge against a real OpenAI-compatible HTTP endpoint on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.evaluation.gold import GoldRow
from assistant.evaluation.judge import judge_configured, parse_verdict, run_judge
from assistant.types import Answer, Citation, Context
from tests.conftest import make_settings


class _Judge(BaseHTTPRequestHandler):
    requests: list[dict] = []
    replies: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        reply = type(self).replies.pop(0)
        if reply == "500":
            self.send_response(500)
            self.end_headers()
            return
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def judge_server() -> Iterator[str]:
    _Judge.requests, _Judge.replies = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _run(id: str, answerable: bool, grounded: bool) -> tuple[GoldRow, Answer, list[Context]]:
    row = GoldRow(id=id, question=f"问题{id}", category="factual" if answerable else "unanswerable", answerable=answerable,
                  expected_sources=["a.md"] if answerable else [], key_facts=[["x"]] if answerable else [])
    ans = Answer(question=row.question, answer=f"回答{id}[1]", grounded=grounded,
                 citations=[Citation(n=1, source="a.md", title="A", quote=f"原文{id}", chunk_id="c")] if grounded else [])
    return row, ans, [Context(rank=1, chunk_id="c", source="a.md", section="s", text="片段", score=1.0)]


def test_parse_verdict_clamps_and_rejects_garbage() -> None:
    assert parse_verdict('好的：{"faithfulness": 1.4, "answer_relevancy": -0.2}') == (1.0, 0.0)
    assert parse_verdict("无法评价") is None
    assert parse_verdict('{"faithfulness": "high"}') is None


def test_judge_runs_only_when_configured(tmp_path: Path) -> None:
    assert not judge_configured(make_settings(tmp_path))
    assert not judge_configured(make_settings(tmp_path, llm_base_url="http://127.0.0.1:1/v1"))
    assert judge_configured(make_settings(tmp_path, llm_base_url="http://127.0.0.1:1/v1", llm_model="m"))


def test_judge_scores_grounded_answers_over_http(tmp_path: Path, judge_server: str) -> None:
    _Judge.replies = [
        '{"faithfulness": 1.0, "answer_relevancy": 0.5}',
        '```json\n{"faithfulness": 0.5, "answer_relevancy": 1.0}\n```',
        "不是 JSON",
        "500",
    ]
    settings = make_settings(tmp_path, llm_base_url=judge_server, llm_model="judge-model", llm_api_key="k")
    runs = [_run("a", True, True), _run("b", True, True), _run("c", True, True), _run("d", True, True),
            _run("refused", True, False), _run("u", False, True)]
    report = run_judge(settings, runs)
    assert (report.model, report.n, report.errors) == ("judge-model", 2, 2)
    assert (report.faithfulness, report.answer_relevancy) == (0.75, 0.75)
    assert len(_Judge.requests) == 4  # refusals and unanswerable rows are not judged
    first = _Judge.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer k"
    assert first["body"]["model"] == "judge-model"
    prompt = first["body"]["messages"][0]["content"]
    assert "问题a" in prompt and "回答a[1]" in prompt and "原文a" in prompt and "faithfulness" in prompt
