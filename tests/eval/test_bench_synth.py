"""The synthetic library generator of eval/bench: deterministic, distinct titles and 文号, sizes hit, and what it
writes is read back by the real ingest code with the metadata it was given."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bench.synth import Generator, Pool, estimate_chunks, write_corpus
from eval.bench.workers import pool_paths
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def pool() -> Pool:
    return Pool.from_files(pool_paths() + sorted(CORPUS.iterdir()))


def test_same_seed_same_documents_other_seed_other_documents(pool: Pool) -> None:
    a, b, c = Generator(pool, seed=3), Generator(pool, seed=3), Generator(pool, seed=4)
    assert [a.doc(i) for i in range(20)] == [b.doc(i) for i in range(20)]
    assert [a.doc(i).text for i in range(20)] != [c.doc(i).text for i in range(20)]
    assert a.doc(7) == Generator(pool, seed=3).doc(7)  # document i does not depend on the ones before it


def test_titles_and_numbers_are_distinct_past_every_template_combination(pool: Pool) -> None:
    gen = Generator(pool)
    n = len(gen._combos) + 300  # into the second round (第2批)
    docs = [gen.doc(i) for i in range(n)]
    assert len({d.title for d in docs}) == n
    assert len({d.doc_number for d in docs}) == n
    assert len({d.name for d in docs}) == n
    assert len({d.issuer for d in docs}) > 50 and len({d.date for d in docs}) > 300


def test_reserved_titles_and_numbers_are_refused(pool: Pool) -> None:
    doc = Generator(pool).doc(5)
    with pytest.raises(ValueError, match="collides"):
        Generator(pool, reserved={doc.doc_number}).doc(5)


def test_text_is_recombined_real_sentences(pool: Pool) -> None:
    from assistant.answer.text import sentences

    gen = Generator(pool)
    pool_paragraphs = "\n".join(p for sec in pool.sections for p in sec.paragraphs)
    docs = [gen.doc(i) for i in range(30)]
    headings = {sec.heading for sec in pool.sections}
    body_lines = [line for d in docs for line in d.text.split("\n")[6:-3] if line and line.split("、", 1)[-1] not in headings]
    sents = [sp.text for line in body_lines for sp in sentences(line)]
    assert sents and all(s in pool_paragraphs for s in sents)  # every sentence a real one …
    assert sum(1 for line in body_lines if line not in pool_paragraphs) > 20  # … many paragraphs recombined
    sources = {sec.source for sec in pool.sections for d in docs if f"、{sec.heading}\n" in d.text}
    assert len(sources) > 10  # … drawn from many documents


@pytest.mark.parametrize("target", [150, 600])
def test_size_is_hit_and_ingest_reads_the_metadata(pool: Pool, tmp_path: Path, target: int) -> None:
    from assistant.ingest.pipeline import process_file
    from assistant.settings import Settings

    docs, chunks = write_corpus(Generator(pool), tmp_path, target)
    assert target <= chunks < target + 60  # stops at the first document past the target
    settings = Settings()
    real = 0
    for doc in docs[:12]:
        meta_doc, doc_chunks = process_file(tmp_path / doc.name, doc.name, "", settings)
        real += len(doc_chunks)
        assert len(doc_chunks) == estimate_chunks(doc.text, settings.chunk_size, settings.chunk_overlap)
        assert (meta_doc.meta.title, meta_doc.meta.doc_number, meta_doc.meta.issuer, meta_doc.meta.date) == (
            doc.title, doc.doc_number, doc.issuer, doc.date)
    assert real > 0
