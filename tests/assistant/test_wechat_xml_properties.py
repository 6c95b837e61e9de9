"""Property tests of the WeChat/WeCom XML reader (``check_xml`` + wechatpy's parsers, via ``read_message``):
random, malformed or mutated XML never raises anything but ``BadMessageError`` (a clean 400), and valid
messages — plaintext or encrypted as WeChat does — round-trip to the same question, user and dedupe key."""

from __future__ import annotations

import base64
import hashlib

import pytest
import xmltodict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise import parse_message as parse_wecom_message

from assistant.channels.errors import BadMessageError
from assistant.channels.messages import read_message
from assistant.channels.safexml import check_xml

PARSERS = [parse_message, parse_wecom_message]
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# characters XML 1.0 allows in text (no controls but tab/newline, no surrogates); "\r" is normalised by parsers
xml_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff") | st.sampled_from("\t\n")
content = st.text(xml_chars, min_size=1, max_size=200).map(str.strip).filter(lambda s: s and "]]>" not in s)
ident = st.text(st.characters(codec="ascii", categories=("L", "N"), include_characters="_-"), min_size=1, max_size=40)


def text_message(user: str, msg_id: int, text: str, created: int = 1700000000) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_policy]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>")


VALID = text_message("oUser", 1234567890123456, "长宁园管理专班由哪个部门牵头组建？")


def read_cleanly(xml: str | bytes, parser) -> None:
    """Either a message or BadMessageError with a reason; anything else is a bug."""
    try:
        if isinstance(xml, bytes):
            check_xml(xml)
            xml = xml.decode("utf-8", "replace")
        read_message(xml, parser)
    except BadMessageError as exc:
        assert exc.status_code == 400 and exc.message


@pytest.mark.parametrize("parser", PARSERS)
@FAST
@given(text=st.text(max_size=300))
@example(text="")
@example(text="<xml/>")
@example(text="<xml><MsgType>text</MsgType></xml>")
@example(text="<xml><MsgType>event</MsgType><Event/></xml>")
@example(text="<xml><MsgType><a>1</a></MsgType><FromUserName>u</FromUserName></xml>")
@example(text="<xml><MsgType>text</MsgType><MsgId>1</MsgId><MsgId>2</MsgId><FromUserName>u</FromUserName></xml>")
@example(text="<xml><MsgType>voice</MsgType><Recognition><b/></Recognition><MsgId>1</MsgId></xml>")
@example(text="\ud800<xml/>")
def test_any_text_is_read_cleanly(parser, text: str) -> None:
    read_cleanly(text, parser)


@FAST
@given(data=st.binary(max_size=300))
def test_any_bytes_are_read_cleanly(data: bytes) -> None:
    read_cleanly(data, parse_message)


@st.composite
def mutated(draw) -> str:
    """A valid message with a few random edits: deletions, insertions, replacements."""
    chars = list(VALID)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(chars) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.sampled_from(["<", ">", "/", "&", "]]>", "<![CDATA[", "<!DOCTYPE x>", "&amp;", "\x00", "x", "<a>", "</xml>"]))
        if op == "delete":
            del chars[i]
        elif op == "insert":
            chars.insert(i, piece)
        else:
            chars[i] = piece
    return "".join(chars)


@pytest.mark.parametrize("parser", PARSERS)
@FAST
@given(xml=mutated())
def test_mutated_messages_are_read_cleanly(parser, xml: str) -> None:
    read_cleanly(xml, parser)


tags = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
                        "EventKey", "Recognition", "AgentID", "PicUrl", "x"])
values = st.one_of(st.text(xml_chars, max_size=20), st.sampled_from(["text", "event", "voice", "image", "subscribe",
                                                                      "unsubscribe", "CLICK", "-1", "1e9", "0"]))
trees = st.recursive(values, lambda kids: st.dictionaries(tags, kids | st.lists(kids, max_size=3), max_size=6), max_leaves=15)


@pytest.mark.parametrize("parser", PARSERS)
@FAST
@given(tree=st.dictionaries(tags, trees, max_size=8))
def test_random_message_trees_are_read_cleanly(parser, tree: dict) -> None:
    xml = xmltodict.unparse({"xml": tree}, full_document=False)
    read_cleanly(xml, parser)


@pytest.mark.parametrize("parser", PARSERS)
@FAST
@given(user=ident, msg_id=st.integers(1, 2**63 - 1), text=content)
def test_valid_text_messages_round_trip(parser, user: str, msg_id: int, text: str) -> None:
    message, key, kind, question = read_message(text_message(user, msg_id, text), parser)
    assert (kind, question, key, message.source) == ("question", text, f"msg:{msg_id}", user)


@FAST
@given(user=ident, event=st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION"]))
def test_events_round_trip(user: str, event: str) -> None:
    xml = (f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
           f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>")
    _, key, kind, _ = read_message(xml, parse_message)
    assert kind == ("welcome" if event == "subscribe" else "ignore") and key == f"event:{user}:1700000000"


AES_KEY = base64.b64encode(hashlib.sha256(b"props").digest()).decode().rstrip("=")
CRYPTO = WeChatCrypto("prop-token", AES_KEY, "wx0123456789abcdef")


@settings(max_examples=60, deadline=None)
@given(user=ident, msg_id=st.integers(1, 2**63 - 1), text=content, nonce=ident, timestamp=st.integers(1, 2**31))
def test_encrypted_messages_round_trip(user: str, msg_id: int, text: str, nonce: str, timestamp: int) -> None:
    envelope = CRYPTO.encrypt_message(text_message(user, msg_id, text), nonce, str(timestamp))
    fields = check_xml(envelope)  # the envelope WeChat posts passes the checks
    xml = CRYPTO.decrypt_message({"Encrypt": fields.findtext("Encrypt")}, fields.findtext("MsgSignature"),
                                 str(timestamp), nonce)
    _, key, kind, question = read_message(xml, parse_message)
    assert (kind, question, key) == ("question", text, f"msg:{msg_id}")
