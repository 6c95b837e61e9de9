"""A deterministic synthetic policy library: sections and sentences of real documents recombined into many
documents, each with its own title, 文号, issuer and date.

Why recombine real text rather than generate it: retrieval cost and quality at size depend on what the text
looks like (jieba's vocabulary, BM25's document frequencies, how close the dense vectors sit), and only real
policy sentences look like real policy sentences. Document ``i`` depends only on ``(seed, i)`` and the pool,
so a smaller corpus is a prefix of a larger one and every run writes the same files.

The pool is the paragraphs of the given source documents (any format the loaders read), cut into sections at
the headings ingest finds. A synthetic document is a header (issuer line, 文号, title, addressee), 3–9
sections drawn from random source documents and renumbered 一、二、…, where some paragraphs gain a sentence
taken from elsewhere in the pool, and a signature (issuer, date).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answer.text import sentences

DISTRICTS = [
    ("上海市长宁区", "长"), ("上海市徐汇区", "徐"), ("上海市静安区", "静"), ("上海市普陀区", "普"),
    ("上海市闵行区", "闵"), ("宁波市镇海区", "镇"), ("宁波市鄞州区", "鄞"), ("杭州市拱墅区", "拱"),
    ("无锡市梁溪区", "梁"), ("青岛市黄岛区", "黄"), ("成都市武侯区", "武"), ("深圳市福田区", "福"),
]
DEPARTMENTS = [
    ("人民政府", "府发"), ("人民政府办公室", "府办发"), ("科学技术委员会", "科委"), ("发展和改革委员会", "发改"),
    ("商务委员会", "商委"), ("财政局", "财"), ("人力资源和社会保障局", "人社"), ("市场监督管理局", "市监"),
    ("经济委员会", "经委"), ("教育局", "教"), ("住房保障和房屋管理局", "房管"), ("民政局", "民"),
    ("文化和旅游局", "文旅"), ("生态环境局", "环"), ("投资促进办公室", "投促"),
]
TOPICS = [
    "促进人工智能产业高质量发展", "支持中小企业融资", "高层次人才引进培育", "稳就业促创业", "优化营商环境",
    "推动数字经济发展", "支持总部经济集聚", "促进在线新经济发展", "加快科技成果转化", "支持企业上市",
    "推进城市更新", "促进消费扩容提质", "支持外贸稳规模优结构", "发展银发经济", "培育专精特新企业",
    "推动文旅产业融合发展", "加强知识产权保护", "支持孵化器建设", "促进新材料产业发展", "推进绿色低碳转型",
    "扶持现代服务业", "支持生物医药产业", "加快氢能产业发展", "促进楼宇经济发展", "支持青年人才安居",
    "推动制造业数字化转型", "加强社区养老服务", "推进智慧城市建设", "支持首店经济", "促进金融科技发展",
    "扶持文化创意产业", "加快集成电路产业发展", "支持跨境电商发展", "推动服务业扩大开放", "促进体育消费",
    "支持民营经济发展壮大", "加强公共就业服务", "推进高新技术企业培育", "促进会展经济发展", "支持信用服务机构",
]
KINDS = ["若干措施", "实施办法", "行动方案", "实施意见", "管理办法", "扶持政策", "工作方案", "实施细则"]
ADDRESSEES = ["各有关单位：", "各街道办事处、镇人民政府，区政府各委、办、局：", "各相关企业、各有关部门："]
OPENINGS = ["现将有关事项通知如下。", "现印发给你们，请认真按照执行。", "经研究，现提出以下措施。"]
NUMERALS = "一二三四五六七八九十"

# A heading's own numbering ('三、', '（二）', '4.', '第五条'), dropped when a section is renumbered.
_TOP_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[章节部分]\s*)")


@dataclass(frozen=True)
class PoolSection:
    """A run of paragraphs under one top-level heading (``heading`` is "" for a preamble)."""

    source: str
    heading: str
    paragraphs: tuple[str, ...]


@dataclass
class Pool:
    sections: list[PoolSection]
    sentences: list[str]  # every sentence of every body paragraph (what paragraphs borrow from)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> Pool:
        """Paragraphs read by the project's own loaders and cleaner, cut at top-level headings."""
        from assistant.ingest.clean import clean_blocks
        from assistant.ingest.headings import numbering
        from assistant.ingest.loaders import load_file

        sections: list[PoolSection] = []
        for path in sorted(paths):
            paras = [b.text.strip() for b in clean_blocks(load_file(path)) if b.text.strip()]
            heading, body = "", []
            for text in paras:
                marker = numbering(text)
                if marker is not None and _TOP_NUMBER.match(text) and len(text) <= 40:
                    if body:
                        sections.append(PoolSection(path.name, heading, tuple(body)))
                    heading, body = _TOP_NUMBER.sub("", text).strip(), []
                else:
                    body.append(text)
            if body:
                sections.append(PoolSection(path.name, heading, tuple(body)))
        # Only sections with a heading and some body move around; a document's preamble and signature stay home.
        movable = [s for s in sections if s.heading and sum(len(p) for p in s.paragraphs) >= 40]
        sents = sorted({sp.text for s in movable for p in s.paragraphs for sp in sentences(p) if _borrowable(sp.text)})
        if not movable:
            raise ValueError("no sections with a numbered heading in the pool documents")
        return cls(movable, sents)


def atoms() -> list[str]:
    """The template words headers are built from (for ``eval.bench.composed``: a title's vector from its words)."""
    words = [w for place, _ in DISTRICTS for w in (place, place[3:])]
    words += [dept for dept, _ in DEPARTMENTS] + TOPICS + KINDS + ADDRESSEES + OPENINGS
    words += [f"{a}{b}" for _, a in DISTRICTS for _, b in DEPARTMENTS] + [f"{y}年" for y in range(2015, 2026)]
    return words + ["关于印发", "的通知", "文件", "月", "日", "号"]


def _borrowable(sentence: str) -> bool:
    """A whole prose sentence (not a table cell, heading or fragment) that can move to another paragraph."""
    return len(sentence) >= 15 and sentence.endswith("。") and "|" not in sentence and sentence[0] not in "（(0123456789"


@dataclass(frozen=True)
class SyntheticDoc:
    name: str  # file name
    title: str
    doc_number: str
    issuer: str
    date: str  # ISO
    text: str


@dataclass
class Generator:
    """``doc(i)`` is a pure function of the pool, ``seed`` and ``i``; titles and 文号 are distinct over ``i``."""

    pool: Pool
    seed: int = 12
    reserved: set[str] = field(default_factory=set)  # titles / 文号 that must not occur (the buried real documents)

    def __post_init__(self) -> None:
        combos = [(d, t, k) for d in range(len(DISTRICTS)) for t in range(len(TOPICS)) for k in range(len(KINDS))]
        random.Random(self.seed).shuffle(combos)
        self._combos = combos

    def doc(self, i: int) -> SyntheticDoc:
        rng = random.Random(f"{self.seed}:{i}")
        d, t, k = self._combos[i % len(self._combos)]
        round_ = i // len(self._combos)  # past every combination: a 第N批 / year span keeps titles distinct
        place, abbr0 = DISTRICTS[d]
        dept, abbr1 = rng.choice(DEPARTMENTS)
        district = place[3:]  # 长宁区
        year = 2015 + (i * 7 + d) % 11
        issuer = f"{place}{dept}"
        # The 文号 number encodes i, so no two documents share one (numbers start at 201: the real ones are lower).
        doc_number = f"{abbr0}{abbr1}〔{year}〕{201 + i}号"
        name_tail = f"（第{round_ + 1}批）" if round_ else ""
        policy = f"{district}{TOPICS[t]}{KINDS[k]}{name_tail}"
        title = f"{issuer}关于印发《{policy}》的通知"
        if title in self.reserved or doc_number in self.reserved:
            raise ValueError(f"synthetic document {i} collides with a reserved title or 文号")
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        lines = [f"{issuer}文件", doc_number, title, rng.choice(ADDRESSEES), f"《{policy}》{rng.choice(OPENINGS)}", policy]
        for n, section in enumerate(rng.sample(self.pool.sections, rng.randint(3, 9))):
            lines.append(f"{NUMERALS[n]}、{section.heading}")
            lines.extend(self._recombine(para, rng) for para in section.paragraphs)
        lines += [issuer, f"{year}年{month}月{day}日"]
        digest = hashlib.sha1(title.encode()).hexdigest()[:8]
        return SyntheticDoc(
            name=f"syn-{i:06d}-{digest}.txt",
            title=title,
            doc_number=doc_number,
            issuer=issuer,
            date=f"{year:04d}-{month:02d}-{day:02d}",
            text="\n".join(lines) + "\n",
        )

    def _recombine(self, para: str, rng: random.Random) -> str:
        """A prose paragraph with one sentence swapped for a pool sentence (half the time) and one appended (a
        quarter); table rows and one-sentence items stay as they are."""
        spans = sentences(para)
        parts = [sp.text for sp in spans]
        if "|" in para or len(parts) < 2 or not para.endswith("。"):
            return para
        # what stood between two sentences (nothing, or the whitespace gap they were split at) stays there
        gaps = [para[a.end : b.start] for a, b in zip(spans, spans[1:], strict=False)] + [""]
        if rng.random() < 0.5:
            parts[rng.randrange(len(parts))] = rng.choice(self.pool.sentences)
        if rng.random() < 0.25:
            parts.append(rng.choice(self.pool.sentences))
            gaps.append("")
        return "".join(p + g for p, g in zip(parts, gaps, strict=True))

    def docs(self) -> Iterator[SyntheticDoc]:
        i = 0
        while True:
            yield self.doc(i)
            i += 1


def estimate_chunks(text: str, chunk_size: int, chunk_overlap: int) -> int:
    """Chunks ingest will make of a document, by the project's own cleaner and chunker (metadata skipped: it does
    not change the cut)."""
    from assistant.ingest.chunking import build_document, chunk_sections
    from assistant.ingest.clean import clean_blocks
    from assistant.ingest.loaders import Block
    from assistant.types import DocumentMeta

    paras = clean_blocks([Block(text=line) for line in text.splitlines()])
    doc, sections = build_document(paras, DocumentMeta(source="x", title="x"))
    return len(chunk_sections(doc, sections, chunk_size, chunk_overlap))


def write_corpus(gen: Generator, out_dir: Path, target_chunks: int, chunk_size: int = 360, chunk_overlap: int = 60,
                 already: int = 0) -> tuple[list[SyntheticDoc], int]:
    """Write documents into ``out_dir`` until they make ``target_chunks`` chunks (with ``already`` chunks from
    other files counted in); the documents and their chunk count. Files already there are not rewritten."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[SyntheticDoc] = []
    chunks = already
    for doc in gen.docs():
        if chunks >= target_chunks:
            break
        path = out_dir / doc.name
        if not path.exists():
            path.write_text(doc.text, encoding="utf-8")
        chunks += estimate_chunks(doc.text, chunk_size, chunk_overlap)
        written.append(doc)
    return written, chunks - already
