"""Two API replicas as on two machines: two `assistant serve` processes with different data dirs, sharing one real
Chroma server (the index: vectors, published generation files, the live pointer) and one real Redis (sessions,
feedback, rate limits). A document uploaded through one replica is answered by the other without a restart."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from assistant.bench import free_port, stop, wait_ready
from assistant.index.publish import SharedIndex
from assistant.index.vector import make_client
from assistant.ingest.pipeline import run_ingest
from tests.api.test_documents_feedback import KEY, NEW_DOC, NEW_TEXT
from tests.conftest import CORPUS, PLAN, REPO, make_settings
from tests.fixtures.contract import subprocess_env

pytestmark = pytest.mark.slow

NEW_QUESTION = "虹桥低空飞行器测试场每家企业每年最高补贴多少？"
WAIT_S = 60.0


@contextmanager
def serve(*replicas: tuple[dict[str, str], Path]) -> Iterator[list[str]]:
    """Start every replica at once (`assistant serve` on a free port), yield their base URLs once all are ready."""
    with ExitStack() as stack:
        started = []
        for env, data_dir in replicas:
            port = free_port()
            log_path = data_dir.parent / f"{data_dir.name}-serve.log"
            log = stack.enter_context(open(log_path, "w"))
            proc = subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--data-dir", str(data_dir)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            stack.callback(stop, proc)
            started.append((f"http://127.0.0.1:{port}", proc, log_path))
        for base, proc, log_path in started:
            wait_ready(base, proc, timeout_s=180, log=log_path)
        yield [base for base, _, _ in started]


def copy_cache(shared_embeddings, data_dir: Path) -> None:
    """The session's embedding cache, so the replicas' model embeds only what is new (a fast test, same vectors)."""
    (data_dir / "cache").mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(shared_embeddings._path) as src, sqlite3.connect(data_dir / "cache" / "embeddings.sqlite") as dst:
        src.backup(dst)


def ask(base: str, question: str, **extra: object) -> dict:
    r = httpx.post(f"{base}/v1/ask", json={"question": question, **extra}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_ingest_on_one_replica_is_served_by_the_other(tmp_path, chroma_server, redis_url, shared_embeddings) -> None:
    host, port = chroma_server
    shared = {
        "ASSISTANT_CHROMA_HOST": host, "ASSISTANT_CHROMA_PORT": str(port), "ASSISTANT_COLLECTION": "replicas",
        "ASSISTANT_REDIS_URL": redis_url, "ASSISTANT_REDIS_PREFIX": "replicas", "ASSISTANT_INDEX_POLL_S": "0.5",
        "ASSISTANT_ADMIN_KEY": KEY, "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
    }
    corpus_a, data_a, data_b = tmp_path / "corpus-a", tmp_path / "a", tmp_path / "b"
    shutil.copytree(CORPUS, corpus_a)
    # the first ingest, on replica A's machine (its corpus, its data dir)
    settings_a = make_settings(
        data_a, corpus_a, chroma_host=host, chroma_port=port, collection="replicas", redis_url=redis_url
    )
    first = run_ingest(settings_a, embeddings=shared_embeddings).generation
    assert first and (data_a / "generations" / first).is_dir() and not (data_b / "generations").exists()
    for d in (data_a, data_b):
        copy_cache(shared_embeddings, d)

    env_a = {**subprocess_env(), **shared, "ASSISTANT_CORPUS_DIR": str(corpus_a)}
    env_b = {**subprocess_env(), **shared, "ASSISTANT_CORPUS_DIR": str(tmp_path / "corpus-b-never-ingested")}
    with serve((env_a, data_a), (env_b, data_b)) as (a, b):

        # B serves A's generation, fetched from the Chroma server into its own data dir
        assert (data_b / "generations" / first / "chunks.jsonl").is_file()
        assert (data_b / "generations" / first / "measures.jsonl").is_file(), "the catalogue travels with it"
        before = ask(b, NEW_QUESTION)
        assert not any(c["source"] == NEW_DOC for c in before["citations"])

        # shared state: a session begun on A goes on on B; feedback on B for A's answer is listed on A
        turn1 = ask(a, "“虹桥人才荟”是做什么的？")
        turn2 = ask(b, "它由哪个部门负责？", session_id=turn1["session_id"])
        assert turn2["session_id"] == turn1["session_id"]
        r = httpx.post(f"{b}/v1/feedback", json={"answer_id": turn1["answer_id"], "rating": "up"}, timeout=30)
        assert r.status_code == 201, r.text
        listed = httpx.get(f"{a}/v1/feedback", headers={"X-Admin-Key": KEY}, timeout=30).json()["items"]
        assert [(i["answer_id"], i["rating"], i["sources"]) for i in listed] == [(turn1["answer_id"], "up", [PLAN])]

        # a new document uploaded through A ...
        up = httpx.post(f"{a}/v1/documents", files={"file": (NEW_DOC, NEW_TEXT.encode(), "text/markdown")},
                        headers={"X-Admin-Key": KEY}, timeout=180)
        assert up.status_code in (200, 201), up.text
        # ... is answered by B without a restart (B polls the shared pointer)
        deadline, answer = time.monotonic() + WAIT_S, before
        while time.monotonic() < deadline:
            answer = ask(b, NEW_QUESTION)
            if any(c["source"] == NEW_DOC for c in answer["citations"]):
                break
            time.sleep(0.3)
        assert answer["grounded"] and "88万元" in answer["answer"], answer
        assert any(c["source"] == NEW_DOC for c in answer["citations"])
        docs_b = httpx.get(f"{b}/v1/documents", timeout=30).json()
        assert NEW_DOC in {d["source"] for d in docs_b["documents"]}

    # one pointer for both; the server and each data dir keep two generations at most
    client = make_client(settings_a)
    pointer = SharedIndex(client, "replicas").read_pointer()
    assert pointer is not None and pointer["generation"] != first
    assert (data_b / "generations" / pointer["generation"]).is_dir()
    for data_dir in (data_a, data_b):
        assert {p.name for p in (data_dir / "generations").iterdir()} <= {first, pointer["generation"]}
    names = {c.name for c in client.list_collections() if c.name.startswith("replicas-")}
    assert f"replicas-{pointer['generation']}" in names and "replicas-current" in names
    assert os.environ.get("ASSISTANT_CHROMA_HOST") is None  # the test process itself stays embedded
