"""WeChat Official Account callback over real HTTP, with messages signed and encrypted as WeChat does (wechatpy)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from assistant.channels.formatting import utf8_len
from tests.fixtures.channels import FakePush, GatedAnswerer

pytestmark = pytest.mark.slow  # real HTTP servers over the session index

TOKEN = "policy-test-token"
APP_ID = "wx0123456789abcdef"


def aes_key(seed: str) -> str:
    """A 43-character EncodingAESKey, as the WeChat admin console generates."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip("=")


AES_KEY = aes_key("current")
OLD_AES_KEY = aes_key("previous")
OTHER_AES_KEY = aes_key("unrelated")
OPENID = "oUser-alice"
ACCOUNT = "gh_policy"
QUESTION = "长宁园管理专班由哪个部门牵头组建？"
OTHER_QUESTION = "数字长宁建设有哪些专项行动？"


# ---- what WeChat does ----------------------------------------------------------------------------------------
def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def now() -> str:
    return str(int(time.time()))


def nonce() -> str:
    return uuid.uuid4().hex[:10]


def text_xml(msg_id: int, content: str, user: str = OPENID, created: str | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{created or now()}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, user: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{now()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )


def image_xml(msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{now()}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.example/pic.jpg]]></PicUrl><MediaId><![CDATA[media-1]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


class WeChat:
    """Sends messages to our callback the way the WeChat server does (same timestamp/nonce on a retry)."""

    def __init__(self, base: str, path: str = "/wechat", aes_key: str | None = None) -> None:
        self.url = base + path
        self.crypto = WeChatCrypto(TOKEN, aes_key, APP_ID) if aes_key else None
        self.http = httpx.Client(timeout=30)

    def verify(self, echostr: str, token: str = TOKEN, timestamp: str | None = None) -> httpx.Response:
        ts, n = timestamp or now(), nonce()
        return self.http.get(self.url, params={"signature": sign(token, ts, n), "timestamp": ts, "nonce": n,
                                               "echostr": echostr})

    def post(self, xml: str, *, timestamp: str | None = None, nonce_: str | None = None,
             token: str = TOKEN) -> httpx.Response:
        ts, n = timestamp or now(), nonce_ or nonce()
        params = {"signature": sign(token, ts, n), "timestamp": ts, "nonce": n, "openid": OPENID}
        if self.crypto is None:
            return self.http.post(self.url, params=params, content=xml.encode())
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, n, ts))["xml"]
        body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        params |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
        return self.http.post(self.url, params=params, content=body.encode())

    def reply(self, response: httpx.Response, crypto: WeChatCrypto | None = None) -> dict[str, Any]:
        """The reply's fields; in safe mode verify its msg_signature and decrypt it first."""
        assert response.status_code == 200, response.text
        crypto = crypto or self.crypto
        xml = response.text
        if crypto is not None:
            envelope = xmltodict.parse(xml)["xml"]
            xml = crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        return xmltodict.parse(xml)["xml"]


@pytest.fixture
def wechat_app(make_app) -> Callable[..., Any]:
    def factory(**overrides: Any) -> Any:
        settings = {"wechat_token": TOKEN, "wechat_app_id": APP_ID, **overrides}
        return make_app(**settings)

    return factory


@pytest.fixture
def gated(bot) -> Iterator[Callable[..., GatedAnswerer]]:
    made: list[GatedAnswerer] = []

    def factory(delay_s: float | None = None) -> GatedAnswerer:
        made.append(GatedAnswerer(bot, delay_s))
        return made[-1]

    yield factory
    for answerer in made:  # never leave a worker thread blocked
        answerer.release()


def assert_answers_and_cites(content: str) -> None:
    assert "长宁区科委" in content
    assert "\n【1】《" in content and "长科委〔2025〕13号" in content
    assert "[1]" not in content and "**" not in content
    assert utf8_len(content) <= 2048


# ---- configuration -------------------------------------------------------------------------------------------
def test_disabled_without_token(make_app, live_server) -> None:
    base = live_server(make_app())
    response = httpx.get(base + "/wechat", params={"echostr": "x"})
    assert response.status_code == 404 and "未启用" in response.json()["detail"]
    response = httpx.post(base + "/wechat", content=text_xml(1, QUESTION))
    assert response.status_code == 404


def test_path_is_configurable(wechat_app, live_server) -> None:
    base = live_server(wechat_app(wechat_path="/mp/callback"))
    assert WeChat(base, "/mp/callback").verify("abc").text == "abc"
    assert WeChat(base, "/wechat").verify("abc").status_code == 404


# ---- URL verification ----------------------------------------------------------------------------------------
def test_verification_good_and_bad_signature(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app()))
    good = wx.verify("echo-1234567890")
    assert good.status_code == 200 and good.text == "echo-1234567890"
    bad = wx.verify("echo-1234567890", token="not-the-token")
    assert bad.status_code == 403 and "签名" in bad.json()["detail"]


def test_old_timestamp_is_rejected_as_replay(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app(wechat_timestamp_window_s=300)))
    old = str(int(time.time()) - 301)
    assert wx.verify("x", timestamp=old).status_code == 403
    replay = wx.post(text_xml(7001, QUESTION), timestamp=old)  # correctly signed, but too old
    assert replay.status_code == 403 and "重放" in replay.json()["detail"]


def test_same_nonce_with_another_message_is_rejected(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app()))
    ts, n = now(), nonce()
    assert wx.post(text_xml(7101, QUESTION), timestamp=ts, nonce_=n).status_code == 200
    assert wx.post(text_xml(7101, QUESTION), timestamp=ts, nonce_=n).status_code == 200  # WeChat's retry
    assert wx.post(text_xml(7102, OTHER_QUESTION), timestamp=ts, nonce_=n).status_code == 403


# ---- plaintext and safe mode ---------------------------------------------------------------------------------
def test_plaintext_text_message_gets_an_xml_answer_with_citations(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app()))
    response = wx.post(text_xml(1001, QUESTION))
    assert response.headers["content-type"].startswith("application/xml")
    reply = wx.reply(response)
    assert reply["MsgType"] == "text"
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT
    assert_answers_and_cites(reply["Content"])


def test_bad_signature_on_message_is_403(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app()))
    assert wx.post(text_xml(1002, QUESTION), token="forged").status_code == 403


def test_safe_mode_round_trip(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app(wechat_aes_key=AES_KEY)), aes_key=AES_KEY)
    response = wx.post(text_xml(2001, QUESTION))
    assert "<Encrypt>" in response.text and "长宁" not in response.text  # nothing in clear
    reply = wx.reply(response)  # verifies msg_signature, then decrypts
    assert reply["ToUserName"] == OPENID
    assert_answers_and_cites(reply["Content"])


def test_safe_mode_bad_msg_signature_is_403(wechat_app, live_server) -> None:
    base = live_server(wechat_app(wechat_aes_key=AES_KEY))
    wx = WeChat(base, aes_key=AES_KEY)
    ts, n = now(), nonce()
    envelope = xmltodict.parse(wx.crypto.encrypt_message(text_xml(2002, QUESTION), n, ts))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    params = {"signature": sign(TOKEN, ts, n), "timestamp": ts, "nonce": n, "encrypt_type": "aes",
              "msg_signature": "0" * 40}
    assert httpx.post(base + "/wechat", params=params, content=body).status_code == 403


def test_aes_key_rotation_accepts_the_previous_key(wechat_app, live_server) -> None:
    base = live_server(wechat_app(wechat_aes_key=AES_KEY, wechat_aes_key_previous=OLD_AES_KEY))
    old = WeChat(base, aes_key=OLD_AES_KEY)
    reply = old.reply(old.post(text_xml(2101, QUESTION)))  # the reply is encrypted with the key that worked
    assert_answers_and_cites(reply["Content"])
    new = WeChat(base, aes_key=AES_KEY)
    assert "长宁区科委" in new.reply(new.post(text_xml(2102, QUESTION)))["Content"]
    stranger = WeChat(base, aes_key=OTHER_AES_KEY)
    response = stranger.post(text_xml(2103, QUESTION))
    assert response.status_code == 400 and "解密" in response.json()["detail"]


# ---- events and other message types -------------------------------------------------------------------------
def test_subscribe_gets_a_welcome_with_three_answerable_examples(wechat_app, live_server, bot) -> None:
    wx = WeChat(live_server(wechat_app(wechat_aes_key=AES_KEY)), aes_key=AES_KEY)
    content = wx.reply(wx.post(event_xml("subscribe")))["Content"]
    examples = [line.split(". ", 1)[1] for line in content.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(examples) == 3
    for question in examples:  # the examples must actually work
        assert bot.ask(question).grounded, question


def test_other_events_get_no_reply(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app()))
    response = wx.post(event_xml("unsubscribe"))
    assert response.status_code == 200 and response.text == "success"


def test_image_message_gets_a_short_helpful_text(wechat_app, live_server) -> None:
    wx = WeChat(live_server(wechat_app()))
    content = wx.reply(wx.post(image_xml(3001)))["Content"]
    assert "文字" in content and utf8_len(content) < 300


# ---- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "<xml><ToUserName>gh</ToUserName><MsgType>text",  # truncated
        "not xml at all",
        '{"MsgType": "text"}',
        "<html><body>hi</body></html>",  # wrong root
        "<xml><FromUserName>u</FromUserName></xml>",  # no MsgType
        "<xml><MsgType>text</MsgType><FromUserName>u</FromUserName><MsgId>abc</MsgId></xml>",  # MsgId not a number
        "",
    ],
)
def test_malformed_xml_is_400(wechat_app, live_server, body: str) -> None:
    response = WeChat(live_server(wechat_app())).post(body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)


def test_entity_expansion_is_rejected_without_expanding(wechat_app, live_server) -> None:
    base = live_server(wechat_app(wechat_aes_key=AES_KEY))
    started = time.perf_counter()
    plain = WeChat(base).post(BILLION_LAUGHS)  # 10^9 "lol"s if it were expanded
    assert plain.status_code == 400 and "DTD" in plain.json()["detail"]
    safe = WeChat(base, aes_key=AES_KEY).post(BILLION_LAUGHS)  # the same, inside a valid encrypted envelope
    assert safe.status_code == 400 and "DTD" in safe.json()["detail"]
    assert time.perf_counter() - started < 2.0


# ---- the 5-second rule ---------------------------------------------------------------------------------------
def test_retries_compute_once_and_the_answer_arrives_on_a_retry(wechat_app, live_server, gated) -> None:
    app = wechat_app(wechat_answer_budget_s=0.3)
    app.state.answer_fn = answerer = gated()
    wx = WeChat(live_server(app))
    xml, ts, n = text_xml(4001, QUESTION), now(), nonce()

    first = wx.post(xml, timestamp=ts, nonce_=n)
    assert first.status_code == 503 and first.text == ""  # not a reply: WeChat will retry
    second = wx.post(xml, timestamp=ts, nonce_=n)
    assert second.status_code == 503
    answerer.release()  # the slow answer finishes before the last retry
    third = wx.post(xml, timestamp=ts, nonce_=n)
    assert_answers_and_cites(wx.reply(third)["Content"])
    assert len(answerer.calls) == 1  # three requests, one computation

    again = wx.post(xml, timestamp=ts, nonce_=n)  # a late extra retry gets the cached answer
    assert wx.reply(again)["Content"] == wx.reply(third)["Content"]
    assert len(answerer.calls) == 1


def test_slow_answer_within_budget_waits_for_it(wechat_app, live_server, gated) -> None:
    app = wechat_app(wechat_answer_budget_s=3.0)
    app.state.answer_fn = answerer = gated(delay_s=0.5)
    wx = WeChat(live_server(app))
    started = time.perf_counter()
    reply = wx.reply(wx.post(text_xml(4101, QUESTION)))
    assert 0.5 <= time.perf_counter() - started < 2.5
    assert_answers_and_cites(reply["Content"])
    assert len(answerer.calls) == 1


def test_last_retry_replies_placeholder_and_pushes_the_answer(wechat_app, live_server, gated) -> None:
    app = wechat_app(wechat_answer_budget_s=0.3, wechat_aes_key=AES_KEY)
    app.state.answer_fn = answerer = gated()
    app.state.wechat_push = push = FakePush()
    wx = WeChat(live_server(app), aes_key=AES_KEY)
    xml, ts, n = text_xml(4201, QUESTION), now(), nonce()

    assert wx.post(xml, timestamp=ts, nonce_=n).status_code == 503
    assert wx.post(xml, timestamp=ts, nonce_=n).status_code == 503
    placeholder = wx.reply(wx.post(xml, timestamp=ts, nonce_=n))["Content"]
    assert placeholder.startswith("正在查询，请稍候…")
    assert push.sent == []

    answerer.release()
    assert push.event.wait(10), "the answer was not pushed"
    [(user, content)] = push.sent
    assert user == OPENID
    assert_answers_and_cites(content)
    assert len(answerer.calls) == 1

    late = wx.post(xml, timestamp=ts, nonce_=n)  # already delivered by push: no second answer
    assert late.status_code == 200 and late.text == "success"
    assert len(push.sent) == 1


def test_placeholder_without_push_and_the_resent_question_reuses_the_answer(wechat_app, live_server, gated) -> None:
    app = wechat_app(wechat_answer_budget_s=0.2, wechat_retry_on_pending=False)  # placeholder at once
    app.state.answer_fn = answerer = gated()
    wx = WeChat(live_server(app))
    placeholder = wx.reply(wx.post(text_xml(4301, QUESTION)))["Content"]
    assert placeholder.startswith("正在查询，请稍候…") and "再发送一次" in placeholder
    answerer.release()
    resent = wx.reply(wx.post(text_xml(4302, QUESTION)))["Content"]  # the user sends the question again
    assert_answers_and_cites(resent)
    assert len(answerer.calls) == 1  # answered by the first computation


def test_two_messages_are_answered_separately(wechat_app, live_server, gated) -> None:
    app = wechat_app(wechat_answer_budget_s=3.0)
    app.state.answer_fn = answerer = gated(delay_s=0.3)
    wx = WeChat(live_server(app))
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda args: wx.reply(wx.post(text_xml(*args))),
                                 [(5001, QUESTION), (5002, OTHER_QUESTION)])
    assert "长宁区科委" in first["Content"]
    assert "专项行动" in second["Content"] and "长宁区科委" not in second["Content"]
    assert sorted(answerer.calls) == sorted([QUESTION, OTHER_QUESTION])


def test_a_retry_served_by_another_worker_process_is_not_recomputed(make_app, wechat_app, live_server, gated,
                                                                   tmp_path) -> None:
    """Two app instances sharing one data dir stand in for two worker processes."""
    answerer = gated()
    apps = [wechat_app(data_dir=tmp_path, wechat_answer_budget_s=1.0) for _ in range(2)]
    for app in apps:
        app.state.answer_fn = answerer
    worker_a, worker_b = (WeChat(live_server(app)) for app in apps)
    xml, ts, n = text_xml(6001, QUESTION), now(), nonce()
    assert worker_a.post(xml, timestamp=ts, nonce_=n).status_code == 503
    threading.Timer(0.1, answerer.release).start()  # worker A finishes while worker B is waiting for it
    assert_answers_and_cites(worker_b.reply(worker_b.post(xml, timestamp=ts, nonce_=n))["Content"])
    assert len(answerer.calls) == 1


# ---- rate limit ----------------------------------------------------------------------------------------------
def test_per_user_rate_limit_replies_politely(wechat_app, live_server) -> None:
    if time.time() % 60 > 55:  # stay inside one fixed one-minute window
        time.sleep(61 - time.time() % 60)
    wx = WeChat(live_server(wechat_app(wechat_user_rate_per_minute=2)))
    for msg_id in (8001, 8002):
        assert "长宁区科委" in wx.reply(wx.post(text_xml(msg_id, QUESTION)))["Content"]
    ts, n = now(), nonce()
    limited = wx.reply(wx.post(text_xml(8003, QUESTION), timestamp=ts, nonce_=n))["Content"]
    assert "每分钟最多" in limited and "2" in limited and "长宁区科委" not in limited
    retry = wx.reply(wx.post(text_xml(8003, QUESTION), timestamp=ts, nonce_=n))["Content"]
    assert retry == limited  # a retry of the limited message is not counted again
    other_user = wx.reply(wx.post(text_xml(8004, QUESTION, user="oUser-bob")))["Content"]
    assert "长宁区科委" in other_user
