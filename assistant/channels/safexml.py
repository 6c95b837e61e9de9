"""Untrusted XML is checked with defusedxml before anything else parses it.

wechatpy parses with xmltodict (expat). A body is first parsed here with DTDs, entity declarations and external
references forbidden, so an entity-expansion ("billion laughs") or external-entity payload is rejected before it
can expand; only then is the same text handed to wechatpy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from assistant.channels.errors import BadMessageError

MAX_XML_BYTES = 64 * 1024  # WeChat messages are a few hundred bytes


def check_xml(body: bytes | str, max_bytes: int = MAX_XML_BYTES) -> Element:
    """The parsed root ``<xml>``; ``BadMessageError`` (400) for oversized, malformed or DTD-bearing XML."""
    try:
        raw = body.encode("utf-8") if isinstance(body, str) else body
    except UnicodeEncodeError as exc:  # lone surrogates: not text any XML parser accepts
        raise BadMessageError("消息含有无效字符（不是合法的 UTF-8 文本）", "请求体应为微信推送的 XML。") from exc
    if len(raw) > max_bytes:
        raise BadMessageError(f"消息过大（{len(raw)} 字节，上限 {max_bytes} 字节）")
    if not raw.strip():
        raise BadMessageError("消息体为空", "请求体应为微信推送的 XML。")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadMessageError("XML 含有 DTD 或实体声明，已拒绝", "微信推送的消息不含 DTD；请检查发送方。") from exc
    except (ParseError, ValueError) as exc:
        raise BadMessageError(f"XML 格式错误：{exc}", "请求体应为微信推送的 XML。") from exc
    if root.tag != "xml":
        raise BadMessageError(f"XML 根元素应为 <xml>，收到 <{root.tag}>")
    return root


def parse_checked(xml: str, parser: Callable[[str], Any]) -> Any:
    """``parser`` (wechatpy ``parse_message``) on XML that passed ``check_xml``; 400 when fields are missing."""
    check_xml(xml)
    try:
        message = parser(xml)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadMessageError(f"无法识别的消息：缺少字段 {exc}", "消息应包含 MsgType、FromUserName 等字段。") from exc
    except Exception as exc:  # noqa: BLE001 - xmltodict's ExpatError and friends
        raise BadMessageError(f"无法解析消息：{exc}") from exc
    if message is None:
        raise BadMessageError("消息体为空")
    return message
