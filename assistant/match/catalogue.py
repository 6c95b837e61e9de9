"""The support-measures catalogue: numbered items and sections of the corpus that state a support, service,
incentive or task, with their kinds, targets, stated conditions and responsible bodies.

Built from an index generation's documents and chunks (every measure's text is a verbatim slice of
``Document.text``), rule-based and deterministic: at ingest, saved with the generation
(``generations/<generation>/measures.jsonl``, ``assistant.match.catalogue_file``), and read into memory on the
first matching request; rebuilt then only when that file is missing or was made for another taxonomy or LLM.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from assistant.index.compact import FieldsSets
from assistant.index.snapshot import GENERATIONS
from assistant.ingest.chunking import FOOTER_SECTION, HEADER_SECTION, PATH_SEP
from assistant.ingest.headings import numbering
from assistant.match import catalogue_file
from assistant.match.conditions import extract_conditions
from assistant.match.lexicon import lexicon
from assistant.match.llm_extract import enrich, llm_configured, llm_tag
from assistant.match.taxonomy import Taxonomy, load_taxonomy
from assistant.settings import Settings
from assistant.types import Chunk, Document

if TYPE_CHECKING:
    from assistant.service import Assistant

log = logging.getLogger(__name__)

CATALOGUE_VERSION = 3  # bump when extraction rules in code change, so cached files are rebuilt
CACHE_FILE = catalogue_file.FILE
HEADING_WEIGHT = 3  # a kind word in the heading counts as this many mentions
INDUSTRY_FOCUS_MENTIONS = 3  # this many mentions of an industry (heading counts 3) = the measure is about it
TARGET_FIELDS = ("entity_types", "qualifications", "industries", "stages", "groups")


class Targets(BaseModel):
    entity_types: list[str] = Field(default_factory=list)
    qualifications: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class Measure(BaseModel):
    id: str
    title: str
    heading: str  # leaf heading as written (or the run-in lead, e.g. "在人才引进方面")
    section: str  # full path, e.g. "二、重点任务 > （五）完善创新创业生态体系 > 14、健全知识产权服务体系"
    source: str
    doc_title: str
    doc_number: str = ""
    date: str = ""
    issuer: str = ""
    text: str  # verbatim slice of the document text
    start: int
    end: int
    kinds: list[str] = Field(default_factory=list)  # strongest first
    kind_strength: dict[str, float] = Field(default_factory=dict)  # 0–1, relative to the strongest kind
    industry_strength: dict[str, float] = Field(default_factory=dict)  # 0–1: 1 = the measure is about it
    targets: Targets = Field(default_factory=Targets)
    evidence: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict
    )  # dimension → name → words in text
    conditions: list[str] = Field(default_factory=list)
    bodies: list[str] = Field(default_factory=list)
    contacts: list[str] = Field(default_factory=list)
    chunk_ids: list[str] = Field(default_factory=list)
    extracted_by: str = (
        "rules"  # or "rules+llm" when a configured LLM added verified kinds/targets/conditions
    )

    @property
    def path(self) -> list[str]:
        return self.section.split(PATH_SEP)


class Catalogue(BaseModel):
    generation: str
    taxonomy: str  # fingerprint
    llm: str = ""  # the model that helped extract, if any
    version: int = CATALOGUE_VERSION
    measures: list[Measure]

    def get(self, measure_id: str) -> Measure | None:
        return next((m for m in self.measures if m.id == measure_id), None)

    def by_chunk(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.measures:
            for cid in m.chunk_ids:
                out.setdefault(cid, []).append(m.id)
        return out

    def filter(
        self, kind: str | None = None, source: str | None = None, q: str | None = None
    ) -> list[Measure]:
        out = self.measures
        if kind:
            out = [m for m in out if any(kind == k or kind in k.split("/") for k in m.kinds)]
        if source:
            out = [m for m in out if m.source == source]
        if q:
            terms = [t for t in re.split(r"\s+", q.strip()) if t]
            out = [m for m in out if all(t in f"{m.section}\n{m.text}" for t in terms)]
        return out


# ---- sections from chunks --------------------------------------------------------------------------
@dataclass
class _Span:
    path: list[str]
    start: int
    end: int


def _sections(doc: Document, chunks: list[Chunk]) -> list[_Span]:
    """Section bodies rebuilt from the chunks (overlapping slices of one section are united)."""
    spans: dict[str, _Span] = {}
    for c in sorted(chunks, key=lambda c: (c.start, c.ordinal)):
        end = c.start + len(c.text)
        span = spans.get(c.section)
        if span is None:
            spans[c.section] = _Span(c.section.split(PATH_SEP) if c.section else [], c.start, end)
        else:
            span.start, span.end = min(span.start, c.start), max(span.end, end)
    for span in spans.values():  # a section's text starts with its heading lines: the measure is the body
        headings = set(span.path)
        while span.start < span.end:
            line_end = doc.text.find("\n", span.start, span.end)
            line_end = span.end if line_end < 0 else line_end
            if doc.text[span.start : line_end].strip() not in headings:
                break
            span.start = line_end + 1
        span.start = min(span.start, span.end)
    return sorted(spans.values(), key=lambda s: s.start)


def _contains_any(text: str, words: list[str]) -> bool:
    return any(w in text for w in words)


@dataclass
class _Candidate:
    path: list[str]
    heading: str
    title: str
    start: int
    end: int


def _title(heading: str) -> str:
    marker = numbering(heading)
    return heading[marker.end :].strip() if marker else heading.strip()


def _split_sub_items(
    doc: Document, span: _Span, rules_patterns: list[str]
) -> list[tuple[int, int, str, str]] | None:
    """Run-in sub-items ("在人才引进方面，……") as (start, end, lead, name); None when there are none."""
    text = doc.text[span.start : span.end]
    starts: list[tuple[int, str, str]] = []
    offset = 0
    for line in text.split("\n"):
        for pattern in rules_patterns:
            m = re.match(pattern, line)
            if m:
                lead = m.group(0).rstrip("，,")
                starts.append((span.start + offset, lead, m.group("name")))
                break
        offset += len(line) + 1
    if not starts:
        return None
    out = []
    for i, (s, lead, name) in enumerate(starts):
        e = starts[i + 1][0] - 1 if i + 1 < len(starts) else span.end
        out.append((s, e, lead, name))
    return out


def _candidates(doc: Document, spans: list[_Span], taxonomy: Taxonomy) -> list[_Candidate]:
    rules = taxonomy.measure_rules
    out: list[_Candidate] = []
    for span in spans:
        path = span.path
        if not path or path[0] in (HEADER_SECTION, FOOTER_SECTION):
            continue
        if not any(numbering(p) for p in path):
            continue  # unnumbered parts: cover letters, titles, preambles
        if any(_contains_any(p, rules.exclude_headings) for p in path):
            continue
        text = doc.text[span.start : span.end].strip()
        if not text:
            continue
        has_children = any(len(o.path) > len(path) and o.path[: len(path)] == path for o in spans)
        is_task = any(_contains_any(p, rules.task_headings) for p in path[:-1])
        heading = path[-1]
        subs = _split_sub_items(doc, span, rules.sub_items)
        if subs:
            intro_end = subs[0][0] - 1
            intro = doc.text[span.start : intro_end].strip()
            if len(intro) >= rules.min_intro_chars and _contains_any(intro, rules.triggers):
                out.append(_Candidate(path, heading, _title(heading), span.start, intro_end))
            for s, e, lead, name in subs:
                out.append(_Candidate([*path, lead], lead, f"{_title(heading)} · {name}", s, e))
            continue
        if has_children and len(text) < rules.min_intro_chars:
            continue
        if not is_task and not _contains_any(text, rules.triggers):
            continue
        out.append(_Candidate(path, heading, _title(heading), span.start, span.end))
    return out


def _trim(doc: Document, start: int, end: int) -> tuple[int, int]:
    while start < end and doc.text[start].isspace():
        start += 1
    while end > start and doc.text[end - 1].isspace():
        end -= 1
    return start, end


def measure_id(source: str, section: str) -> str:
    return "m" + hashlib.sha1(f"{source}\x00{section}".encode()).hexdigest()[:11]


def _classify(
    heading: str, text: str, taxonomy: Taxonomy
) -> tuple[list[str], dict[str, float], dict[str, list[str]]]:
    kinds_lex = lexicon(taxonomy, "kinds", "measure")
    counts: dict[str, float] = {}
    words: dict[str, list[str]] = {}
    for source_text, weight in ((heading, HEADING_WEIGHT), (text, 1)):
        for f in kinds_lex.find(source_text):
            counts[f.name] = counts.get(f.name, 0) + weight
            seen = words.setdefault(f.name, [])
            if f.word not in seen:
                seen.append(f.word)
    if not counts:
        return [], {}, {}
    top = max(counts.values())
    strength = {k: round(min(1.0, v / top), 3) for k, v in counts.items()}
    order = [
        k for k in taxonomy.names("kinds") if strength.get(k, 0) >= taxonomy.measure_rules.min_kind_strength
    ]
    order.sort(key=lambda k: -strength[k])
    return order, {k: strength[k] for k in order}, {k: words[k] for k in order}


def _industry_strength(heading: str, text: str, taxonomy: Taxonomy) -> dict[str, float]:
    """How much a measure is about each industry it names: heading mentions weigh 3, 3 mentions = 1.0."""
    lex = lexicon(taxonomy, "industries", "measure")
    counts: dict[str, int] = {}
    for source_text, weight in ((heading, HEADING_WEIGHT), (text, 1)):
        for f in lex.find(source_text):
            counts[f.name] = counts.get(f.name, 0) + weight
    return {k: round(min(1.0, v / INDUSTRY_FOCUS_MENTIONS), 3) for k, v in counts.items()}


def _bodies(text: str, taxonomy: Taxonomy) -> list[str]:
    out: list[str] = []
    for pattern in taxonomy.measure_rules.body_patterns:
        for m in re.finditer(pattern, text):
            body = m.group("body").strip('“”"')
            if body and body not in out:
                out.append(body)
    return out


def _chunk_ids(chunks: list[Chunk], start: int, end: int) -> list[str]:
    out = []
    need = min(40, max(1, (end - start) // 2))
    for c in chunks:
        overlap = min(end, c.start + len(c.text)) - max(start, c.start)
        if overlap >= need:
            out.append(c.id)
    return out


def build_catalogue(
    documents: dict[str, Document],
    chunks: list[Chunk],
    taxonomy: Taxonomy,
    generation: str = "",
    settings: Settings | None = None,
) -> Catalogue:
    """Rule-based extraction; with ``settings`` of a configured LLM, verified LLM extractions are merged in."""
    by_source: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_source.setdefault(c.source, []).append(c)
    measures: list[Measure] = []
    for source in sorted(documents):
        doc = documents[source]
        doc_chunks = by_source.get(source, [])
        for cand in _candidates(doc, _sections(doc, doc_chunks), taxonomy):
            start, end = _trim(doc, cand.start, cand.end)
            text = doc.text[start:end]
            section = PATH_SEP.join(cand.path)
            kinds, strength, kind_words = _classify(cand.heading, text, taxonomy)
            industry_strength = _industry_strength(cand.heading, text, taxonomy)
            full = f"{cand.heading}\n{text}"
            evidence: dict[str, dict[str, list[str]]] = {"kinds": kind_words}
            targets = Targets()
            for field in TARGET_FIELDS:
                found = lexicon(taxonomy, field, "measure").names(full)
                evidence[field] = found
                setattr(targets, field, [n for n in taxonomy.names(field) if n in found])
            meta = doc.meta
            measures.append(
                Measure(
                    id=measure_id(source, section),
                    title=cand.title,
                    heading=cand.heading,
                    section=section,
                    source=source,
                    doc_title=meta.title,
                    doc_number=meta.doc_number,
                    date=meta.date,
                    issuer=meta.issuer,
                    text=text,
                    start=start,
                    end=end,
                    kinds=kinds,
                    kind_strength=strength,
                    industry_strength=industry_strength,
                    targets=targets,
                    evidence=evidence,
                    conditions=extract_conditions(text, taxonomy),
                    bodies=_bodies(text, taxonomy),
                    contacts=[meta.contact] if meta.contact else [],
                    chunk_ids=_chunk_ids(doc_chunks, start, end),
                )
            )
    tag = ""
    if settings is not None and llm_configured(settings):
        enrich(measures, settings, taxonomy)
        tag = llm_tag(settings)
    return Catalogue(generation=generation, taxonomy=taxonomy.fingerprint, llm=tag, measures=measures)


# ---- stored with the generation, loaded on first use -----------------------------------------------------
_memo: dict[tuple[str, str, str, str], Catalogue] = {}
_memo_lock = threading.Lock()
_load_lock = threading.Lock()  # one load or build at a time: concurrent first requests wait for it


def _file(gen_dir: Path) -> Path:
    return gen_dir / catalogue_file.FILE


def _current(header: catalogue_file.CatalogueHeader | None, generation: str, fingerprint: str, llm: str) -> bool:
    return (
        header is not None
        and header.version == CATALOGUE_VERSION
        and header.generation == generation
        and header.taxonomy == fingerprint
        and header.llm == llm
    )


def save_catalogue(gen_dir: Path, catalogue: Catalogue) -> None:
    header = catalogue_file.CatalogueHeader(
        version=catalogue.version, generation=catalogue.generation, taxonomy=catalogue.taxonomy, llm=catalogue.llm,
        count=len(catalogue.measures),
    )
    catalogue_file.write(_file(gen_dir), header, [m.model_dump() for m in catalogue.measures])


def ensure_catalogue(
    gen_dir: Path, documents: dict[str, Document], chunks: list[Chunk], generation: str, settings: Settings
) -> int:
    """At ingest: the generation's catalogue file, built unless it is already there for these rules, taxonomy and
    LLM; returns the number of measures. Raises ``AssistantError`` (e.g. an invalid taxonomy file)."""
    taxonomy = load_taxonomy(settings)
    header = catalogue_file.read_header(_file(gen_dir))
    if _current(header, generation, taxonomy.fingerprint, llm_tag(settings)):
        return header.count  # type: ignore[union-attr]
    catalogue = build_catalogue(documents, chunks, taxonomy, generation, settings)
    save_catalogue(gen_dir, catalogue)
    return len(catalogue.measures)


def _read_saved(path: Path, documents: dict[str, Document], generation: str, fingerprint: str, llm: str) -> Catalogue | None:
    header = catalogue_file.read_header(path)
    if not _current(header, generation, fingerprint, llm):
        return None
    sets = FieldsSets()  # measures read from the file have every field set: one shared set (2.9 KB less each)
    measures: list[Measure] = []
    try:
        for row in catalogue_file.read_measures(path, documents):
            m = Measure.model_validate(row)
            sets.share(m)
            sets.share(m.targets)
            measures.append(m)
    except (OSError, ValueError) as exc:
        log.warning("the measures catalogue %s is unreadable (%s); rebuilding it", path, exc)
        return None
    return Catalogue(generation=generation, taxonomy=fingerprint, llm=llm, measures=measures)


def get_catalogue(assistant: Assistant, taxonomy: Taxonomy | None = None) -> Catalogue:
    """The catalogue of the live generation: read from the generation's file (written at ingest) on first use, or
    built when the file is missing or stale (a generation from before, another taxonomy or LLM), then served from
    memory. Nothing is loaded before the first matching request: the server's start and idle memory do not pay."""
    snap = assistant.snapshot()
    taxonomy = taxonomy or load_taxonomy(assistant.settings)
    data_dir = Path(assistant.settings.data_dir)
    llm = llm_tag(assistant.settings)
    key = (str(data_dir), snap.generation, taxonomy.fingerprint, llm)
    with _memo_lock:
        hit = _memo.get(key)
    if hit is not None:
        return hit
    with _load_lock:
        with _memo_lock:
            hit = _memo.get(key)
        if hit is not None:
            return hit  # loaded by the request this one waited for
        gen_dir = data_dir / GENERATIONS / snap.generation
        catalogue = _read_saved(_file(gen_dir), snap.documents, snap.generation, taxonomy.fingerprint, llm)
        if catalogue is None:
            chunks = [snap.chunks[cid] for cid in snap.order] if snap.order else list(snap.chunks.values())
            catalogue = build_catalogue(snap.documents, chunks, taxonomy, snap.generation, assistant.settings)
            try:
                if gen_dir.is_dir():
                    save_catalogue(gen_dir, catalogue)
            except OSError as exc:  # a read-only data dir still serves from memory
                log.warning("could not save the measures catalogue in %s: %s", gen_dir, exc)
        with _memo_lock:
            for k in [k for k in _memo if k[0] == key[0]]:
                del _memo[k]  # one generation per data dir stays in memory
            _memo[key] = catalogue
    return catalogue


def list_measures(
    assistant: Assistant, kind: str | None = None, source: str | None = None, q: str | None = None
) -> list[Measure]:
    """The catalogue filtered by support kind (full name or one part of it, e.g. 融资), source file and words."""
    from assistant.errors import InputError

    taxonomy = load_taxonomy(assistant.settings)
    kind = (kind or "").strip() or None
    if kind and not any(kind == k or kind in k.split("/") for k in taxonomy.names("kinds")):
        raise InputError(f"未知的支持类型“{kind}”", f"可选：{'、'.join(taxonomy.names('kinds'))}。")
    return get_catalogue(assistant, taxonomy).filter(kind=kind, source=(source or "").strip() or None, q=q)
