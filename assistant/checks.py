"""Input checks shared by every entry point (API routes, chat channels, the ``Assistant``), each applied with the
settings of the caller, so an app's limits hold whatever answers its questions."""

from __future__ import annotations

from assistant.errors import InputError
from assistant.settings import Settings


def check_question(settings: Settings, question: str) -> str:
    """The question, stripped; ``InputError`` (422) when empty or longer than ``settings.max_question_chars``.
    Every entry point checks with its own settings (API routes, chat channels, the ``Assistant`` itself)."""
    q = (question or "").strip()
    if not q:
        raise InputError("问题不能为空", "请输入要查询的问题。")
    if len(q) > settings.max_question_chars:
        raise InputError(
            f"问题过长（{len(q)} 字，上限 {settings.max_question_chars} 字）",
            "请精简问题，或分成几个问题提问。",
        )
    return q
