"""Questions keep being answered while documents are added and removed through the admin API.

A real uvicorn server on 127.0.0.1; two threads ask /v1/ask in a loop (a question of the shipped corpus) while the
main thread uploads documents, asks about them, and deletes them again. Every answer must be a 200 with the same
grounded answer; each added document must be answerable as soon as its upload returns, and gone once deleted.
"""

from __future__ import annotations

import shutil
import threading
import time

import httpx
import pytest

from api.main import create_app
from assistant.service import Assistant
from tests.api.conftest import settings_for
from tests.api.test_documents_feedback import KEY, NEW_DOC, NEW_TEXT, upload
from tests.conftest import CORPUS, PLAN

pytestmark = pytest.mark.slow

STEADY = "长宁园管理专班由哪个部门牵头组建？"
NEW_QUESTION = "低空飞行器测试场试点每家企业每年最高补贴多少？"
ROUNDS = 3


def test_queries_succeed_while_documents_are_added_and_removed(tmp_path, shared_embeddings, corpus_settings, live_server):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = settings_for(corpus_settings, tmp_path / "data", corpus_dir=corpus, admin_key=KEY)
    assistant = Assistant(settings, embeddings=shared_embeddings)
    assistant.ingest()
    base = live_server(create_app(settings=settings, assistant=assistant))
    expected = httpx.post(f"{base}/v1/ask", json={"question": STEADY}, timeout=60).json()
    assert expected["grounded"] and expected["citations"][0]["source"] == PLAN

    stop = threading.Event()
    served: list[float] = []
    errors: list[str] = []
    generations: set[str] = set()

    def asker() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    r = client.post("/v1/ask", json={"question": STEADY})
                    body = r.json()
                    if r.status_code != 200 or body["answer"] != expected["answer"] or not body["grounded"]:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                    ready = client.get("/readyz").json()
                    generations.add(ready.get("generation", ""))
                except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                    errors.append(f"{type(exc).__name__}: {exc}")
                served.append(time.monotonic() - t0)

    threads = [threading.Thread(target=asker, name=f"asker-{i}") for i in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(ROUNDS):
            amount = f"{88 + i}万元"
            r = upload(base, NEW_DOC, NEW_TEXT.replace("88万元", amount).encode())
            assert r.status_code == 201, r.text
            new = httpx.post(f"{base}/v1/ask", json={"question": NEW_QUESTION}, timeout=60).json()
            assert new["grounded"] and amount in new["answer"] and new["citations"][0]["source"] == NEW_DOC, new
            gone = httpx.delete(f"{base}/v1/documents/{r.json()['document']['id']}", headers={"X-Admin-Key": KEY},
                                timeout=120)
            assert gone.status_code == 200, gone.text
            after = httpx.post(f"{base}/v1/ask", json={"question": NEW_QUESTION}, timeout=60).json()
            assert not any(c["source"] == NEW_DOC for c in after["citations"] + after["contexts"]), after
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    served_ms = sorted(1000 * s for s in served)
    print(f"\n{len(served)} questions served during {2 * ROUNDS} ingests, {len(errors)} errors, "
          f"p50 {served_ms[len(served_ms) // 2]:.0f} ms, max {served_ms[-1]:.0f} ms, {len(generations)} generations seen")
    assert errors == []
    assert len(served) >= 20 and len(generations) >= 3  # the askers really ran across the swaps
    assert httpx.get(f"{base}/v1/documents").json()["count"] == 2
