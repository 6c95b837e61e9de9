"""What an incoming wechatpy message means to the assistant (shared by the Official Account and WeCom)."""

from __future__ import annotations

from typing import Any, Literal

Kind = Literal["question", "welcome", "unsupported", "ignore"]


def message_key(message: Any) -> str:
    """Dedupe key as WeChat recommends: ``MsgId`` for messages, FromUserName + CreateTime for events."""
    raw = getattr(message, "_data", None) or {}
    if message.type == "event" or str(raw.get("MsgType", "")).lower() == "event" or not message.id:
        return f"event:{message.source}:{message.time}"
    return f"msg:{message.id}"


def classify(message: Any) -> tuple[Kind, str]:
    """(kind, question): text (and voice with WeChat's speech recognition) is a question; a subscribe event gets
    the welcome; other events need no reply; other message types get a short hint."""
    if message.type == "text":
        return "question", message.content or ""
    if message.type == "voice" and (getattr(message, "recognition", None) or "").strip():
        return "question", message.recognition
    raw = getattr(message, "_data", None) or {}
    if message.type == "event" or str(raw.get("MsgType", "")).lower() == "event":
        event = (getattr(message, "event", "") or str(raw.get("Event", ""))).lower()
        return ("welcome" if event.startswith("subscribe") else "ignore"), ""
    return "unsupported", ""


def read_message(xml: str, parser: Any) -> tuple[Any, str, Kind, str]:
    """Parse checked XML with wechatpy's ``parser``: (message, dedupe key, kind, question); 400 when malformed."""
    from assistant.channels.errors import BadMessageError
    from assistant.channels.safexml import parse_checked

    message = parse_checked(xml, parser)
    try:
        kind, question = classify(message)
        return message, message_key(message), kind, question
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadMessageError(f"无法识别的消息字段：{exc}", "MsgId、CreateTime 应为数字。") from exc
