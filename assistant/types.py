"""Typed data passed between stages: loaders → cleaning → chunking → index → retrieval → answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DocumentMeta(BaseModel):
    source: str  # path relative to the corpus dir, with forward slashes
    title: str
    doc_number: str = ""  # 文号, e.g. 长科委〔2025〕13号
    issuer: str = ""
    date: str = ""  # ISO yyyy-mm-dd
    kind: str = ""  # 通知 / 答复 / 方案 ...
    signer: str = ""  # 签发人
    contact: str = ""  # 联系人 and phone as written
    sha256: str = ""
    # Read from the document's own text; every *_text is a verbatim sentence of Document.text.
    title_from_filename: bool = False  # no title-shaped line in the text: the title is the file stem
    effective_date: str = ""  # 施行日期, ISO yyyy-mm-dd ("" when the text gives none or it needs an unknown date)
    effective_text: str = ""  # the sentence the effective date came from ("本办法自2025年1月1日起施行。")
    effective_from_issue: bool = False  # counted from the date of issue (自印发/发布之日起…施行): date (+ offset)
    expiry_date: str = ""  # end of the policy's validity, ISO (有效期至… / 有效期N年 from effective_date)
    validity_period: str = ""  # the period as written, digits normalised: "3年", "6个月" ("" for an end date)
    validity_text: str = ""  # the sentence the validity came from
    application_deadline: str = ""  # first 申报/受理/报送 deadline, ISO (not the policy's expiry)
    deadline_text: str = ""  # the sentence the deadline came from
    status: list[str] = Field(default_factory=list)  # 试行 / 征求意见稿 / 废止 / 修订, of this document itself
    repeals: list[str] = Field(default_factory=list)  # titles (inside 《》) of other documents this one repeals


class Document(BaseModel):
    """A loaded and cleaned document: ``text`` is what every quote must be a substring of."""

    meta: DocumentMeta
    text: str


class Section(BaseModel):
    """A run of body text under one heading path."""

    path: list[str]
    start: int  # offset of the body in Document.text
    end: int
    text: str


class Chunk(BaseModel):
    id: str
    source: str
    title: str
    doc_number: str = ""
    date: str = ""
    issuer: str = ""
    section: str = ""  # "二、重点任务 > （三）培育发展产业集聚 > 6、…"
    heading: str = ""  # leaf heading
    ordinal: int = 0  # position in the document
    start: int = 0  # offset in Document.text
    text: str
    # title + section + text in simplified characters when the document is written in traditional ones
    # (assistant/ingest/script.py); searched beside the original, never quoted
    simplified: str = ""

    @property
    def end(self) -> int:
        """Offset just past the chunk in Document.text."""
        return self.start + len(self.text)

    def dense_text(self) -> str:
        """Leaf heading + body: what the vector index embeds (the heading once: the chunk a heading opens
        already starts with it)."""
        if not self.heading or any(line.startswith(self.heading) for line in self.text.split("\n")):
            return self.text
        return f"{self.heading}\n{self.text}"

    def lexical_text(self) -> str:
        """Title + full section path + body (+ their simplified form for a traditional-Chinese document): what BM25
        indexes and the relevance gate reads."""
        return "\n".join(p for p in (self.title, self.section, self.text, self.simplified) if p)

    def chroma_metadata(self) -> dict[str, str | int]:
        return {
            "source": self.source,
            "title": self.title,
            "doc_number": self.doc_number,
            "date": self.date,
            "issuer": self.issuer,
            "section": self.section,
            "heading": self.heading,
            "ordinal": self.ordinal,
            "start": self.start,
        }


class Hit(BaseModel):
    chunk: Chunk
    score: float  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity
    lexical_score: float | None = None  # BM25
    dense_rank: int | None = None
    lexical_rank: int | None = None
    also_in: list[str] = Field(default_factory=list)  # documents holding a near duplicate of this passage


class Citation(BaseModel):
    n: int
    source: str
    title: str
    doc_number: str = ""
    date: str = ""
    section: str = ""
    quote: str
    chunk_id: str
    # the cited policy's own dates and status, read from its text at ingest (absent when the text gives none)
    effective_date: str | None = None
    expiry_date: str | None = None
    status: list[str] | None = None
    # other documents holding a near duplicate of the cited passage (retrieval counted them once)
    also_in: list[str] | None = None


class Context(BaseModel):
    rank: int
    chunk_id: str
    source: str
    section: str
    text: str
    score: float
    also_in: list[str] | None = None  # documents holding a near duplicate of this passage (retrieval counted once)

    @classmethod
    def of(cls, hit: Hit, rank: int) -> Context:
        c = hit.chunk
        return cls(rank=rank, chunk_id=c.id, source=c.source, section=c.section, text=c.text,
                   score=round(hit.score, 6), also_in=list(hit.also_in) or None)


class Answer(BaseModel):
    question: str
    answer: str
    grounded: bool
    citations: list[Citation] = Field(default_factory=list)
    contexts: list[Context] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    standalone_question: str | None = None  # set when a follow-up was rewritten
    refusal_reason: str | None = None
    # A refusal that found a near miss: what the documents do say instead (文件只规定了市级……), cited here
    # rather than in ``citations`` (a refusal has none: it does not answer the question asked).
    related: list[Citation] | None = None


class Gate(BaseModel):
    """The relevance gate's verdict, kept for debugging and the eval report."""

    passed: bool
    coverage: float
    top_dense: float
    missing_terms: list[str] = Field(default_factory=list)
    reason: str = ""  # why it failed: coverage | number | place | answer_type
