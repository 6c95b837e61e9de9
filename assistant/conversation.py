"""Follow-up questions rewritten into standalone ones (heuristic; an LLM rewrite can replace it by config)."""

from __future__ import annotations

import re

_ANAPHORA = re.compile(r"^(那|那么|还有|另外|此外|再)|它|其|该|这个|那个|这项|那项|这些|那些|这是|这份|那份|这里|上述|此项|第[一二三四五六七八九十\d]+(?:项|条|个|点|方面|类)|具体")
_SWAP = re.compile(r"^(?:那|那么)?(.{2,12}?)(方面|领域|部分)?呢[？?]?$")
_QUESTION_TAIL = re.compile(r"(是什么|是做什么的|有哪些|有什么|是哪些|包括哪些|怎么样|如何|吗|呢)?[？?。！!\s]*$")


def needs_context(question: str) -> bool:
    q = question.strip()
    return bool(_ANAPHORA.search(q)) or len(q) <= 6


def condense(question: str, history: list[str] | None) -> str:
    """'它的文号是？' after '“虹桥人才荟”是做什么的？' → '“虹桥人才荟” 它的文号是？'.

    The topic of the last turn (its question minus the interrogative tail) is put in front, which is what
    both BM25 and the dense retriever need; pronouns stay, they carry no weight.
    """
    if not history or not needs_context(question):
        return question
    topic = ""
    for previous in reversed(history):
        previous = previous.strip()
        if previous:
            topic = _QUESTION_TAIL.sub("", previous)
            if not needs_context(previous):
                break
    # "那人才培育方面呢？" after "长宁区在人才引进方面有哪些做法？" → "长宁区在人才培育方面有哪些做法？"
    m = _SWAP.match(question.strip())
    if m and m.group(2) and topic:
        # Replace as many characters before 方面/领域/部分 as the new phrase has ("人才引进" → "人才培育").
        width = len(m.group(1))
        swapped, n = re.subn(rf"[\u4e00-\u9fa5]{{{width}}}{m.group(2)}", m.group(1) + m.group(2), history[-1].strip(), count=1)
        if n:
            return swapped
    q = re.sub(r"^(那|那么)\s*", "", question.strip())
    return f"{topic} {q}".strip() if topic else question
