"""Document metadata read from the text of a Chinese official document: title, 文号, issuer, date, kind, and the
policy's own 施行日期, 有效期, 申报截止, status (试行 / 征求意见稿 / 废止 / 修订) and the documents it repeals."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import PurePath

from assistant.ingest.clean import unbalanced
from assistant.ingest.headings import CN_DAY, CN_YEAR, DATE_LINE, numbering, visual_len
from assistant.ingest.loaders import Block
from assistant.types import DocumentMeta

# 长科委〔2025〕13号 / 沪府发[2024]5 号 / 国办发【2023】12号
DOC_NUMBER = re.compile(r"([\u4e00-\u9fa5]{1,12})\s*[〔\[【（(]\s*(\d{4})\s*[〕\]】）)]\s*(\d{1,4})\s*号")
DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
    rf"|({CN_YEAR})\s*年\s*({CN_DAY})\s*月\s*({CN_DAY})\s*日"  # 二〇一五年三月二十七日
)
_ISSUER_LINE = re.compile(r"^(.{2,40}?)(?:文件|令)$")
_ORG_SUFFIX = re.compile(r"(委员会|人民政府|办公室|办公厅|局|委|厅|部|中心|院|署|会)$")
_SUFFIXES = "通知|意见|答复|方案|办法|规定|决定|批复|函|公告|通告|通报|报告|计划|细则|措施|政策|纲要|规划|指引|指南|解读|条例|规则|要点"
# '（试行）', '（2025-2026年）', '（征求意见稿）' closing a title.
_PAREN_TAIL = r"(?:\s*[（(][^（）()]{1,24}[）)])*"
# '关于…的通知', also behind the issuer: '上海市人民政府关于印发…的通知', '国务院办公厅印发《…》的通知'.
_TITLE_START = re.compile(r"关于|^对|印发|转发|批转")
_TITLE_SHAPE = re.compile(rf"^(?:[\u4e00-\u9fa5]{{2,24}}?)?(关于|对|印发|转发|批转).{{2,}}({_SUFFIXES}){_PAREN_TAIL}$")
_TITLE_SUFFIX = re.compile(rf"(?:{_SUFFIXES}){_PAREN_TAIL}$")
_SENTENCE_MARK = re.compile(r"[。；！？，：:;!?]")
# The 主送机关 line that opens a notice's body ('各有关单位：', '浦东新区科经委、各区科委(协),各有关单位:').
_SALUTATION = re.compile(r"^.{0,60}[^。；;！？]\s*[:：]$")
_CLAUSE_MARK = re.compile(r"[。；！？，,：:;!?]")  # full- or half-width (PDF text often has ',')
_ISSUER_IN_TITLE = re.compile(r"^(.{2,60}?)\s*(?:关于|印发|转发)")
# An attachment line ('附件：1. ……', '附件1 ……'): it names another document, never this one's title.
_ATTACHMENT_LINE = re.compile(r"^附\s*件\s*[\d一二三四五六七八九十]*\s*[:：．.、\s]")
_BREADCRUMB = re.compile(r"[>›»|]|首页|当前位置|您的位置|来源[:：]|发布时间|浏览次数")
_TRAILING_NUMBER = re.compile(r"\s*[（(]\s*" + DOC_NUMBER.pattern + r"\s*[）)]\s*$")
_TAIL_LINE = re.compile(
    r"^[（(](?:试行|暂行|征求意见稿|草案|送审稿|修订稿?|\d{4}\s*年?\s*[-—–－至~]\s*\d{4}\s*年?|\d{4}\s*年\s*(?:版|修订|修正)?)[）)]$"
)
# '（2024年3月1日XX区人民政府第N次常务会议通过）' under the title of a 规章 / 规范性文件.
_ADOPTED_LINE = re.compile(r"^[（(][^（）()]*\d{4}\s*年[^（）()]*(?:通过|印发|发布|公布|施行|修订|修正)[^（）()]*[）)]$")
# Where the body of a crawled one-line page starts after its title.
_BODY_START = re.compile(r"为了?|根据|按照|依据|现将|第一条|一、|各[\u4e00-\u9fa5]{1,20}[：:]|近日|日前")
_ISSUED_QUOTE = re.compile(r"(?:印发|转发|颁布|发布)\s*《([^《》]+)》|《([^《》]+)》\s*(?:印发|转发)给")
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


_CN_YEAR_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}


def iso_date(m: re.Match[str]) -> str:
    """ISO form of a ``DATE`` match, Arabic or Chinese numerals; "" for an impossible date."""
    if m.group(1):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        y = int("".join(str(_CN_YEAR_DIGITS[c]) for c in m.group(4)))
        mo, d = _number(m.group(5)) or 0, _number(m.group(6)) or 0
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


def _title_shaped(text: str) -> bool:
    """A line that reads as a document title: ends with 办法/措施/通知/解读…, no sentence punctuation inside."""
    c = re.sub(r"\s+", "", text)
    return (
        _is_title_candidate(c)
        and visual_len(c) >= 6
        and not _SENTENCE_MARK.search(c)
        and not _BREADCRUMB.search(c)
        and bool(_TITLE_SUFFIX.search(c))
    )


def _strip_number(text: str) -> str:
    """'……的通知（沪府发〔2024〕5号）' → '……的通知': the 文号 closing a title line is not part of the title."""
    return _TRAILING_NUMBER.sub("", text.strip()).strip()


def _with_tail(head: list[Block], i: int, title: str) -> str:
    """A '（试行）' / '（2025-2026年）' line under a title line belongs to it."""
    if i + 1 < len(head) and _TAIL_LINE.match(head[i + 1].text.strip()):
        return title + head[i + 1].text.strip()
    return title


def _joinable_above(text: str) -> bool:
    """The first line of a title wrapped over two or three lines (not an issuer, breadcrumb or date line)."""
    t = text.strip()
    return (
        _is_title_candidate(t)
        and visual_len(t) <= 30
        and not _title_shaped(t)
        and not _ORG_SUFFIX.search(t)
        and not _SENTENCE_MARK.search(t)
        and not _BREADCRUMB.search(t)
        and not re.search(r"\s|\d", t)
        and not re.search(r"(?:文件|公开|栏目|专栏|频道|信息|政策库)$", t)  # a section of a government site
    )


def _title_about(paras: list[Block], after: int) -> str:
    """A '关于…的通知'-shaped line (joined across 2–3 short lines) after the 文号, else before it."""
    for start, stop in ((after, after + 12), (0, after)):
        head = paras[start:stop]
        for i in range(len(head)):
            if not _TITLE_START.search(head[i].text.strip()):
                continue  # a title starts on the line with its 关于 (an issuer line above it is not part of it)
            joined = ""
            for j in range(i, min(i + 3, len(head))):
                part = _strip_number(head[j].text) if j > i else head[j].text.strip()
                if j > i and (numbering(part) or DOC_NUMBER.search(part) or not part):
                    break
                joined += part
                if _TITLE_SHAPE.match(re.sub(r"\s+", "", _strip_number(joined))):
                    return _strip_number(joined)
                if visual_len(joined) > 80 or part.endswith(("。", "：", ":")):
                    break
    return ""


def _title_before_adoption(head: list[Block]) -> str:
    """The line above '（2024年3月1日XX区人民政府第N次常务会议通过）' is the title."""
    for i in range(1, len(head)):
        if not _ADOPTED_LINE.match(head[i].text.strip()):
            continue
        title = head[i - 1].text.strip()
        if not _is_title_candidate(title):
            continue
        for k in (2, 3):  # '长宁区公共数据' / '开放管理规定'
            if i - k < 0 or not _joinable_above(head[i - k].text):
                break
            title = head[i - k].text.strip() + title
        return title
    return ""


def _title_shaped_line(head: list[Block], headings_only: bool) -> str:
    """A title-shaped line (a heading when ``headings_only``), with the start of a wrapped title above it."""
    for i, b in enumerate(head):
        if (headings_only and not b.heading) or not _title_shaped(b.text):
            continue
        title = b.text.strip()
        for k in (1, 2):  # '上海市长宁区促进人工智能' / '产业发展若干措施'
            above = head[i - k] if i - k >= 0 else None
            if above is None or above.heading != b.heading or not _joinable_above(above.text):
                break
            title = above.text.strip() + title
        return _with_tail(head, i, title)
    return ""


def _title_leading_part(head: list[Block]) -> str:
    """A crawled page on one line: '上海市XX区促进人工智能产业发展若干措施 为进一步…' → the part before the body."""
    for b in head[:3]:
        t = b.text.strip()
        if _is_title_candidate(t) and not _SENTENCE_MARK.search(t):
            continue  # a short line is a title or not by itself
        tokens = t.split()
        for tok in tokens[:4] if len(tokens) > 1 else []:  # '首页>政策文件 上海市…若干措施 2024-03-01 为进一步…'
            if _title_shaped(tok):
                return tok
        for m in _BODY_START.finditer(t):
            lead = t[: m.start()].strip()
            if _title_shaped(lead):
                return lead
            if visual_len(lead) > 60:
                break
    return ""


def _title_in_quotes(head: list[Block], sentences: bool) -> str:
    """《…》 on a 印发 line ('区政府印发《长宁区XX办法》'), or in '现将《…》印发给你们' when ``sentences``."""
    for b in head:
        t = b.text.strip()
        if bool(_SENTENCE_MARK.search(t)) != sentences:
            continue
        for m in _ISSUED_QUOTE.finditer(t):
            inner = m.group(1) or m.group(2)
            if inner and _title_shaped(inner):
                return inner.strip()
    return ""


def _find_title(paras: list[Block], after: int) -> str:
    """The title, most reliable layout first: a '关于…的通知' line; the line above '（…常务会议通过）'; a
    title-shaped heading; a title-shaped line (or two or three wrapped ones); the leading part of a crawled
    one-line page; 《…》 on a 印发 line; any unnumbered heading; 《…》 in '现将《…》印发'; the first short line
    that is not a sentence, date or 文号. "" when none (the caller then falls back to the file name)."""
    head = paras[: after + 12]
    for find in (
        lambda: _title_about(paras, after),
        lambda: _title_before_adoption(head),
        lambda: _title_shaped_line(head, headings_only=True),
        lambda: _title_shaped_line(head, headings_only=False),
        lambda: _title_leading_part(head),
        lambda: _title_in_quotes(head, sentences=False),
    ):
        title = find()
        if title:
            return title
    for b in head:
        if b.heading and _is_title_candidate(b.text):
            return b.text.strip()
    title = _title_in_quotes(head, sentences=True)
    if title:
        return title
    for b in head:
        t = b.text.strip()
        if _SALUTATION.match(t) or (_CLAUSE_MARK.search(t) and visual_len(t) > 30):
            break  # the title stands above the 主送机关 ("各有关单位：") and the body, never below them
        if _is_title_candidate(t) and not _BREADCRUMB.search(t) and not _ATTACHMENT_LINE.match(t) \
                and not unbalanced(t):
            return t
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


# ---- policy metadata: 施行日期, 有效期, 申报截止, 状态, 废止的其他文件 ----

_D = r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
_NUM = r"(?<!\d)(\d{1,3}|[一二两三四五六七八九十〇零]{1,3})"
_VERB = r"(?:正式)?(?:施行|实施|执行|生效|试行)"
_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")
# 本办法 / 本实施细则 / 本通知: the document speaking of itself (本市 / 本区 are places).
_THIS = re.compile(
    r"本(?![区市县镇省])[\u4e00-\u9fa5]{0,2}?(?:办法|通知|措施|细则|方案|规定|意见|政策|指南|规划|决定|条例|计划|规则|公告|通告|文件|制度|指引|纲要|要点)"
)
# The period or date belongs to something else than the policy: a project, a qualification, an application.
_NOT_POLICY = re.compile(r"项目|资格|认定|证书|称号|资质|许可|申报|受理|报送|报名|合同|协议|券|租期|补贴期|扶持期|服务期|聘期|任期|考核期|评估期|建设期|入驻")
_EFFECT_WORD = re.compile(r"施行|实施|执行|生效|试行")
_EFFECTIVE_ON = re.compile(rf"(?:自|从|于)?\s*({_D})\s*(?:零时|0时)?\s*(?:起|开始)?\s*{_VERB}")
_EFFECTIVE_ISSUE = re.compile(
    rf"自\s*(?:(?:印发|发布|公布|颁布|下发|签发|发文|公开发布)之日起(?:\s*满?\s*{_NUM}\s*(日|天|个月)(?:后|以后))?|即日起)\s*{_VERB}"
)
_VALIDITY_WORD = r"(?:有效期限?|执行期限?|实施期限?|施行期限?|试行期限?|有效时间|执行时间)"
_RANGE = re.compile(rf"(?:自|从)?\s*({_D})\s*(?:起)?\s*(?:至|到|—|–|－|-|~|～)\s*({_D})\s*(?:止)?")
_UNTIL = re.compile(rf"(?:至|到|截至|截止(?:至|到)?)\s*({_D})\s*(止|前有效|有效)?")
_PERIOD = re.compile(
    rf"{_VALIDITY_WORD}\s*(?:为|暂定为|暂定|是)?\s*{_NUM}\s*(年|个月)|{_NUM}\s*(年|个月)\s*内有效|试行\s*{_NUM}\s*(年|个月)"
)
_DEADLINE_SUBJECT = re.compile(r"申报|受理|报送|提交|报名|申请|递交")
_MONTH_DAY = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号)")
_DEADLINE_BEFORE = re.compile(r"(?:(?:截止|截至)(?:时间|日期)?\s*(?:为|是|到|至)?|至|到|—|–|－|~|～)\s*[：:]?\s*$")
_DEADLINE_AFTER = re.compile(
    r"^(?:\s|\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*[时点](?:\s*\d{1,2}\s*分)?|[上下]午|中午|[（(][^（）()]{0,8}[）)])*"
    r"(?:前|之前|以前|止|为止|截止)(?!(?:在|注册|成立|设立|登记|落户|迁入|获得|取得|开业|投产|发生|已|认定|建成|购买|签订))"
)
_REPEAL = re.compile(r"废止|停止执行|不再执行|同时失效|予以失效")
_HEADER_STATUS = re.compile(r"^[（(【\[]?\s*(?:此件|该文件|本文件)?\s*已(?:废止|失效)\s*[）)】\]]?$")
# '效力状态：失效' / '时效性：已废止' on a crawled page's header.
_VALIDITY_LABEL = re.compile(r"(?:时效性|效力状态|有效性|效力)\s*[:：]\s*(?:已)?(?:废止|失效)")
_REVISED = re.compile(r"[（(][^（）()]{0,10}修订[^（）()]{0,2}[）)]|修订版|修订稿")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(text: str) -> int | None:
    """'3' / '三' / '两' / '十二' → int."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        t = _CN_DIGITS.get(tens, -1) if tens else 1
        o = _CN_DIGITS.get(ones, -1) if ones else 0
        return t * 10 + o if t >= 0 and o >= 0 else None
    return _CN_DIGITS.get(text) if len(text) == 1 else None


def _iso(text: str) -> str:
    m = DATE.search(text)
    return iso_date(m) if m else ""


def _parse_iso(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def _period_end(start: str, n: int, unit: str) -> str:
    """Start + N years (or months) − 1 day: '2025-01-01' + 3年 → '2027-12-31'."""
    day = _parse_iso(start)
    if day is None:
        return ""
    months = n * 12 if unit == "年" else n
    if day.month == 2 and day.day == 29 and months % 12 == 0:
        end = dt.date(day.year + months // 12, 3, 1)  # 29 Feb + N years: through 28 Feb
    else:
        end = _add_months(day, months)
    return (end - dt.timedelta(days=1)).isoformat()


def _sentences(texts: list[str]) -> list[tuple[int, str]]:
    """(paragraph index, sentence) with the sentence verbatim from its paragraph."""
    out = []
    for i, t in enumerate(texts):
        for m in _SENTENCE.finditer(t):
            sent = m.group(0).strip()
            if sent:
                out.append((i, sent))
    return out


def _clauses(sentence: str) -> list[str]:
    """Split at '，' outside brackets: '本办法自…施行，原《…》（…，…）同时废止。' → 2 clauses."""
    out, depth, cur = [], 0, ""
    for ch in sentence:
        if ch in "（(《〔[【“":
            depth += 1
        elif ch in "）)》〕]】”" and depth:
            depth -= 1
        if ch in "，," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _clause_at(sentence: str, pos: int) -> str:
    """The part of the clause holding ``pos`` that comes before it (its subject and verb)."""
    start = 0
    for c in _clauses(sentence):
        if start + len(c) >= pos:
            return sentence[start:pos]
        start += len(c) + 1
    return sentence[:pos]


def _about_another(sentence: str, pos: int) -> bool:
    """The date at ``pos`` is about something else: a project, an application, or another 《document》."""
    before = _clause_at(sentence, pos)
    if _NOT_POLICY.search(before):
        return True
    return "《" in before and not _THIS.search(before)


def _effective(sentences: list[tuple[int, str]], date: str) -> tuple[str, str, bool, int]:
    """(effective_date, sentence, counted from issue, paragraph index). The document speaking of itself first,
    and an explicit date before '自印发之日起' (a 印发 notice's own clause yields to the attached policy's date)."""
    found: list[tuple[int, int, str, str, bool, int]] = []  # (rank, order, date, sentence, from_issue, para)
    for order, (para, sent) in enumerate(sentences):
        for m in _EFFECTIVE_ON.finditer(sent):
            after = sent[m.end() : m.end() + 2]
            if after.startswith("的") or after == "以来" or _about_another(sent, m.start()):
                continue
            found.append((0 if _THIS.search(sent) else 2, order, _iso(m.group(1)), sent, False, para))
            break
        else:
            for m in _EFFECTIVE_ISSUE.finditer(sent):
                if sent[m.end() : m.end() + 1] == "的" or _about_another(sent, m.start()):
                    continue
                eff = ""
                if date and m.group(1):
                    n = _number(m.group(1))
                    unit = m.group(2)
                    day = _parse_iso(date)
                    if n is not None and day is not None:
                        eff = (_add_months(day, n) if unit == "个月" else day + dt.timedelta(days=n)).isoformat()
                elif date:
                    eff = date
                found.append((1 if _THIS.search(sent) else 3, order, eff, sent, True, para))
                break
    if not found:
        return "", "", False, -1
    _, _, eff, sent, from_issue, para = min(found)
    return eff, sent, from_issue, para


def _validity(
    sentences: list[tuple[int, str]], effective: str, effective_para: int
) -> tuple[str, str, str, str]:
    """(start date if the text gives a range, expiry_date, period as written, sentence)."""
    for para, sent in sentences:
        about_this = bool(_THIS.search(sent) or _EFFECT_WORD.search(sent)) or para == effective_para
        has_word = re.search(_VALIDITY_WORD, sent)
        for m in _RANGE.finditer(sent):
            if _about_another(sent, m.start()):
                continue
            if has_word or (_EFFECT_WORD.search(sent[m.end() : m.end() + 6]) and about_this):
                return _iso(m.group(1)), _iso(m.group(2)), "", sent
        for m in _UNTIL.finditer(sent):
            if _about_another(sent, m.start()):
                continue
            before = _clause_at(sent, m.start())
            if re.search(_VALIDITY_WORD + r"\s*(?:为|暂定为|暂定)?\s*$", before) or (
                about_this and (m.group(2) or _EFFECT_WORD.search(before))
            ):
                return "", _iso(m.group(1)), "", sent
        for m in _PERIOD.finditer(sent):
            if _about_another(sent, m.start()) or not about_this:
                continue
            groups = [g for g in m.groups() if g]
            n, unit = _number(groups[0]), groups[1]
            if n is None or n == 0:
                continue
            end = _period_end(effective, n, unit) if effective else ""
            return "", end, f"{n}{unit}", sent
    return "", "", "", ""


def _application_deadline(sentences: list[tuple[int, str]], doc_year: str) -> tuple[str, str]:
    """The first 申报/受理/报送 deadline: '申报截止时间为2024年5月31日', '请于5月31日前报送'."""
    for _, sent in sentences:
        if not _DEADLINE_SUBJECT.search(sent) or re.search(_VALIDITY_WORD + r"|每年|每季度|每月|常年", sent):
            continue  # a validity clause, or a recurring window that has no single date
        year = ""
        for m in _MONTH_DAY.finditer(sent):
            if m.group(1):
                year = m.group(1)
            if sent[m.end() : m.end() + 1] == "的":
                continue  # '提交2024年1月1日至12月31日的财务报表': a reporting period, not a deadline
            if not (_DEADLINE_BEFORE.search(sent[max(0, m.start() - 10) : m.start()])
                    or _DEADLINE_AFTER.match(sent[m.end() : m.end() + 20])):
                continue
            y = year or doc_year
            if not y:
                continue
            mo, d = int(m.group(2)), int(m.group(3))
            if 1 <= mo <= 12 and 1 <= d <= 31:
                return f"{int(y):04d}-{mo:02d}-{d:02d}", sent
    return "", ""


def _repeals(sentences: list[tuple[int, str]], title: str) -> tuple[list[str], bool]:
    """(titles of other documents repealed, whether this document says it is itself repealed)."""
    titles: list[str] = []
    itself = False
    own = re.sub(r"\s+", "", title)

    def add(found: list[str]) -> None:
        for t in found:
            if re.sub(r"\s+", "", t) != own and t not in titles:
                titles.append(t)

    if _REPEAL.search(title):  # '关于废止《…》的决定'
        add(re.findall(r"《([^《》]+)》", title))
    for _, sent in sentences:
        if not _REPEAL.search(sent):
            continue
        clauses = _clauses(sent)
        for k, clause in enumerate(clauses):
            if not _REPEAL.search(clause):
                continue
            quoted = re.findall(r"《([^《》]+)》", clause)
            if quoted:
                add(quoted)
            elif _THIS.search(clause) and "原" not in clause and not _EFFECT_WORD.search(clause):
                itself = True  # '本通知已废止'
            elif k > 0 and not _THIS.search(clauses[k - 1]):
                add(re.findall(r"《([^《》]+)》", clauses[k - 1]))  # '《…》（…，…）同时废止'
    return titles, itself


def _status(
    title: str, texts: list[str], sentences: list[tuple[int, str]], dated_texts: list[str], repealed: bool
) -> list[str]:
    header = [  # short header lines ('（试行）', '【已废止】'), without the documents they name in 《》
        re.sub(r"《[^《》]*》", "", t.strip()) for t in texts[:15]
        if visual_len(t.strip()) <= 40 and not _SENTENCE_MARK.search(t) and not numbering(t.strip())
    ]
    status = []
    # a 解读 page is not itself 试行 when the policy it explains is: look outside its 《》 only
    own = re.sub(r"《[^《》]*》", "", title) if _kind(title) == "政策解读" else title
    if re.search(r"试行|暂行", own) or any(re.search(r"[（(](?:试行|暂行)[）)]", t) for t in header) or any(
        "试行" in t for t in dated_texts
    ) or any(_THIS.search(s) and re.search(r"试行|暂行", re.sub(r"《[^《》]*》", "", s)) for _, s in sentences):
        status.append("试行")
    if re.search(r"征求意见稿|草案|送审稿", own) or any(re.search(r"征求意见稿|草案|送审稿", t) for t in header):
        status.append("征求意见稿")
    if repealed or any(_HEADER_STATUS.match(t) for t in header) or any(_VALIDITY_LABEL.search(t) for t in texts[:15]):
        status.append("废止")
    if _REVISED.search(own):
        status.append("修订")
    return status


def _kind(title: str) -> str:
    compact = re.sub(r"\s+", "", title)
    core = re.sub(_PAREN_TAIL + "$", "", compact)  # '…行动方案（2025-2026年）' → '…行动方案'
    outside = re.sub(r"《[^《》]*》", "", core)
    if core.endswith("解读") or re.search(r"一图读懂|图解", compact):
        return "政策解读"
    if core.endswith("申报指南"):
        return "申报指南"
    if core.endswith("通知") and "申报" in outside and not re.search(r"印发|转发|批转", outside):
        return "申报通知"
    for k in ("实施细则", "管理办法", "若干措施", "若干政策措施", "行动方案"):
        if core.endswith(k):
            return "若干措施" if k == "若干政策措施" else k
    kind = next((k for k in _KINDS if core.endswith(k)), "")
    if kind == "答复" and "提案" in core:
        kind = "提案答复"
    return kind


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

    title = _find_title(paras, number_idx + 1 if number_idx >= 0 else 0)
    if not issuer and title:
        # A 公文 title is 发文机关 + 关于 + 事由 + 文种: '闵行区人民政府办公室关于印发《…》的通知'.
        m = _ISSUER_IN_TITLE.match(title)
        if m and _ORG_SUFFIX.search(m.group(1)):
            issuer = m.group(1).strip()
    title_from_filename = not title
    if not title:
        title = PurePath(source).stem
    kind = _kind(title)

    sentences = _sentences(texts)
    effective, effective_text, from_issue, effective_para = _effective(sentences, date)
    start, expiry, period, validity_text = _validity(sentences, effective, effective_para)
    if start and not effective:  # '执行期限为2025年1月1日至2027年12月31日'
        effective, effective_text, effective_para = start, validity_text, -1
    deadline, deadline_text = _application_deadline(sentences, date[:4])
    repeals, repealed = _repeals(sentences, title)
    status = _status(title, texts, sentences, [effective_text, validity_text], repealed)

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
        title_from_filename=title_from_filename,
        effective_date=effective,
        effective_text=effective_text,
        effective_from_issue=from_issue,
        expiry_date=expiry,
        validity_period=period,
        validity_text=validity_text,
        application_deadline=deadline,
        deadline_text=deadline_text,
        status=status,
        repeals=repeals,
    )
