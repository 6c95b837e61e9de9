"""Document metadata read from the text of a Chinese official document: title, 文号, issuer, date, kind."""

from __future__ import annotations

import re
from pathlib import PurePath

from assistant.ingest.headings import DATE_LINE, numbering, visual_len
from assistant.ingest.loaders import Block
from assistant.types import DocumentMeta

# 长科委〔2025〕13号 / 沪府发[2024]5 号 / 国办发【2023】12号
DOC_NUMBER = re.compile(r"([\u4e00-\u9fa5]{1,12})\s*[〔\[【（(]\s*(\d{4})\s*[〕\]】）)]\s*(\d{1,4})\s*号")
DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISSUER_LINE = re.compile(r"^(.{2,40}?)(?:文件|令)$")
_ORG_SUFFIX = re.compile(r"(委员会|人民政府|办公室|办公厅|局|委|厅|部|中心|院|署|会)$")
# '关于…的通知', also behind the issuer: '上海市人民政府关于印发…的通知'.
_TITLE_SHAPE = re.compile(
    r"^(?:[\u4e00-\u9fa5]{2,24}?)?(关于|对).{2,}(通知|意见|答复|方案|办法|规定|决定|批复|函|公告|通告|通报|报告|计划|细则|措施|政策|纲要|规划|指引|指南)$"
)
# A 文号 belongs to this document when it stands on its own line ('长科委〔2025〕6 号', '（沪府发〔2024〕5号）'),
# follows a label ('发文字号：…'), or closes the title line; one inside a sentence cites another document.
_NUMBER_LABEL = re.compile(r"(?:文号|发文字号|字号|文件编号)\s*[:：]\s*$")
_KINDS = ["答复", "通知", "意见", "方案", "办法", "规定", "决定", "批复", "函", "公告", "通告", "通报",
          "报告", "计划", "细则", "措施", "政策", "纲要", "规划", "指引", "指南"]
_SIGNER = re.compile(r"签发人\s*[:：]\s*([\u4e00-\u9fa5·]{2,8})")
_CONTACT = re.compile(r"联系人(?:姓名)?\s*[:：]\s*([\u4e00-\u9fa5·]{2,8})")
_PHONE = re.compile(r"(?:联系)?电话\s*[:：]\s*([\d\-－ ]{7,20}\d)")


def normalize_doc_number(m: re.Match[str]) -> str:
    return f"{m.group(1)}〔{m.group(2)}〕{m.group(3)}号"


def iso_date(m: re.Match[str]) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return ""
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _is_title_candidate(text: str) -> bool:
    t = text.strip()
    return (
        4 <= visual_len(t) <= 60
        and not numbering(t)
        and not DOC_NUMBER.search(t)
        and not DATE.search(t)
        and not _ISSUER_LINE.match(t)
        and not t.endswith(("。", "：", ":", "；", "！", "？"))
    )


def _find_title(paras: list[Block], after: int) -> str:
    """The title: a '关于…的通知'-shaped line (joined across 2–3 short lines) after the 文号, else before it;
    else the first unnumbered heading; else the first short line that is not a sentence, date or 文号."""
    for start, stop in ((after, after + 12), (0, after)):
        head = paras[start:stop]
        for i in range(len(head)):
            if not re.search(r"关于|^对", head[i].text.strip()):
                continue  # a title starts on the line with its 关于 (an issuer line above it is not part of it)
            joined = ""
            for j in range(i, min(i + 3, len(head))):
                part = head[j].text.strip()
                if j > i and (numbering(part) or DOC_NUMBER.search(part)):
                    break
                joined += part
                if _TITLE_SHAPE.match(re.sub(r"\s+", "", joined)):
                    return joined
                if visual_len(joined) > 80 or part.endswith(("。", "：", ":")):
                    break
    head = paras[: after + 12]
    for b in head:
        if b.heading and _is_title_candidate(b.text):
            return b.text.strip()
    for b in head:
        if _is_title_candidate(b.text):
            return b.text.strip()
    return ""


def _find_doc_number(texts: list[str]) -> tuple[str, int]:
    for i, t in enumerate(texts):
        for m in DOC_NUMBER.finditer(t):
            before, after = t[: m.start()].strip(), t[m.end() :].strip()
            if _NUMBER_LABEL.search(before) or (before in ("", "(", "（") and after in ("", ")", "）")):
                return normalize_doc_number(m), i
            # '……的通知（沪府发〔2024〕5号）': the number closes the title line.
            if before.endswith(("(", "（")) and after in (")", "）"):
                return normalize_doc_number(m), i
    return "", -1


def extract_metadata(paras: list[Block], source: str, sha256: str = "") -> DocumentMeta:
    texts = [p.text for p in paras]
    first = texts[:15]

    doc_number, number_idx = _find_doc_number(first)

    issuer = ""
    for t in first[:5]:
        m = _ISSUER_LINE.match(t.strip())
        if m and _ORG_SUFFIX.search(m.group(1)):
            issuer = m.group(1)
            break

    # The signing date: the last date standing alone on its line; else the first date in the text.
    date = ""
    date_idx = -1
    for i in range(len(texts) - 1, -1, -1):
        if DATE_LINE.match(texts[i]):
            date, date_idx = iso_date(DATE.search(texts[i])), i  # type: ignore[arg-type]
            break
    if not date:
        m = DATE.search("\n".join(texts))
        date = iso_date(m) if m else ""
    if not issuer and date_idx > 0:
        cand = texts[date_idx - 1].strip()
        if visual_len(cand) <= 30 and _ORG_SUFFIX.search(cand):
            issuer = cand

    title = _find_title(paras, number_idx + 1 if number_idx >= 0 else 0) or PurePath(source).stem
    compact_title = re.sub(r"\s+", "", title)
    kind = next((k for k in _KINDS if compact_title.endswith(k)), "")
    if kind == "答复" and "提案" in compact_title:
        kind = "提案答复"

    whole = "\n".join(texts)
    signer = _SIGNER.search(whole)
    contact = _CONTACT.search(whole)
    phone = _PHONE.search(whole)
    contact_text = " ".join(x for x in (contact.group(1) if contact else "", phone.group(1) if phone else "") if x)
    return DocumentMeta(
        source=source,
        title=title,
        doc_number=doc_number,
        issuer=issuer,
        date=date,
        kind=kind,
        signer=signer.group(1) if signer else "",
        contact=contact_text,
        sha256=sha256,
    )
