"""WeCom (企业微信) callback over real HTTP, encrypted as WeCom does it (wechatpy's enterprise crypto)."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from assistant.channels.formatting import utf8_len
from tests.fixtures.channels import FakePush, GatedAnswerer

pytestmark = pytest.mark.slow  # real HTTP servers over the session index

TOKEN = "wecom-test-token"
CORP_ID = "ww0123456789abcdef"
AGENT_ID = "1000002"
AES_KEY = base64.b64encode(hashlib.sha256(b"wecom").digest()).decode().rstrip("=")
USER = "zhangsan"
QUESTION = "长宁园管理专班由哪个部门牵头组建？"


def now() -> str:
    return str(int(time.time()))


def nonce() -> str:
    return uuid.uuid4().hex[:10]


def text_xml(msg_id: int, content: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{USER}]]></FromUserName>"
        f"<CreateTime>{now()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
    )


class WeCom:
    def __init__(self, base: str, token: str = TOKEN) -> None:
        self.url = base + "/wecom"
        self.crypto = WeChatCrypto(token, AES_KEY, CORP_ID)
        self.token = token

    def verify(self, echo: str, signature: str | None = None) -> httpx.Response:
        ts, n = now(), nonce()
        # WeCom sends echostr encrypted with the CorpID as receive id, signed with msg_signature
        envelope = xmltodict.parse(self.crypto.encrypt_message(echo, n, ts))["xml"]
        params = {"msg_signature": signature or envelope["MsgSignature"], "timestamp": ts, "nonce": n,
                  "echostr": envelope["Encrypt"]}
        return httpx.get(self.url, params=params)

    def post(self, xml: str, *, timestamp: str | None = None, nonce_: str | None = None) -> httpx.Response:
        ts, n = timestamp or now(), nonce_ or nonce()
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, n, ts))["xml"]
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]>"
                f"</Encrypt><AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>")
        params = {"msg_signature": envelope["MsgSignature"], "timestamp": ts, "nonce": n}
        return httpx.post(self.url, params=params, content=body.encode(), timeout=30)

    def reply(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200 and response.text, response.text
        envelope = xmltodict.parse(response.text)["xml"]
        xml = self.crypto.decrypt_message(response.text, envelope["MsgSignature"], envelope["TimeStamp"],
                                          envelope["Nonce"])
        return xmltodict.parse(xml)["xml"]


@pytest.fixture
def wecom_app(make_app) -> Callable[..., Any]:
    def factory(**overrides: Any) -> Any:
        return make_app(**{"wecom_corp_id": CORP_ID, "wecom_token": TOKEN, "wecom_aes_key": AES_KEY, **overrides})

    return factory


@pytest.fixture
def gate(bot) -> Iterator[GatedAnswerer]:
    g = GatedAnswerer(bot)
    yield g
    g.release()


def test_disabled_without_corp_id(make_app, live_server) -> None:
    base = live_server(make_app(wecom_token=TOKEN, wecom_aes_key=AES_KEY))
    response = httpx.get(base + "/wecom")
    assert response.status_code == 404 and "未启用" in response.json()["detail"]


def test_url_verification_decrypts_echostr_fast(wecom_app, live_server) -> None:
    wecom = WeCom(live_server(wecom_app()))
    started = time.perf_counter()
    response = wecom.verify("1234567890123456789")
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 200 and response.text == "1234567890123456789"
    assert wecom.verify("1234567890123456789", signature="0" * 40).status_code == 403


def test_encrypted_round_trip(wecom_app, live_server) -> None:
    wecom = WeCom(live_server(wecom_app()))
    response = wecom.post(text_xml(9001, QUESTION))
    assert "长宁" not in response.text
    reply = wecom.reply(response)  # verifies the reply's msg_signature and decrypts it
    assert reply["MsgType"] == "text" and reply["ToUserName"] == USER and reply["AgentID"] == AGENT_ID
    content = reply["Content"]
    assert "长宁区科委" in content and "\n【1】《" in content and "长科委〔2025〕13号" in content
    assert utf8_len(content) <= 2048


def test_wrong_token_is_403_and_garbage_is_400(wecom_app, live_server) -> None:
    base = live_server(wecom_app())
    assert WeCom(base, token="forged").post(text_xml(9002, QUESTION)).status_code == 403
    ts, n = now(), nonce()
    response = httpx.post(base + "/wecom", params={"msg_signature": "x", "timestamp": ts, "nonce": n},
                          content=b"<xml><Encrypt>")
    assert response.status_code == 400
    laughs = ('<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              "<xml><Encrypt>&b;</Encrypt></xml>")
    response = httpx.post(base + "/wecom", params={"msg_signature": "x", "timestamp": ts, "nonce": n},
                          content=laughs.encode())
    assert response.status_code == 400 and "DTD" in response.json()["detail"]


def test_old_timestamp_is_403(wecom_app, live_server) -> None:
    wecom = WeCom(live_server(wecom_app()))
    assert wecom.post(text_xml(9003, QUESTION), timestamp=str(int(time.time()) - 3600)).status_code == 403


def test_slow_answer_gets_empty_200_then_active_push(wecom_app, live_server, gate) -> None:
    app = wecom_app(wechat_answer_budget_s=0.3, wecom_secret="s", wecom_agent_id=AGENT_ID)
    app.state.answer_fn = gate
    app.state.wecom_push = push = FakePush()
    wecom = WeCom(live_server(app))
    ts, n = now(), nonce()
    xml = text_xml(9101, QUESTION)
    first = wecom.post(xml, timestamp=ts, nonce_=n)
    assert first.status_code == 200 and first.text == ""
    gate.release()
    assert push.event.wait(10), "the answer was not pushed"
    [(user, content)] = push.sent
    assert user == USER and "长宁区科委" in content and "【1】《" in content
    retry = wecom.post(xml, timestamp=ts, nonce_=n)  # a late retry of the pushed message: nothing more
    assert retry.status_code == 200 and retry.text == ""
    assert len(gate.calls) == 1 and len(push.sent) == 1


def test_slow_answer_without_push_says_to_resend(wecom_app, live_server, gate) -> None:
    app = wecom_app(wechat_answer_budget_s=0.2)
    app.state.answer_fn = gate
    wecom = WeCom(live_server(app))
    content = wecom.reply(wecom.post(text_xml(9201, QUESTION)))["Content"]
    assert content.startswith("正在查询，请稍候…") and "再发送一次" in content
    gate.release()
    content = wecom.reply(wecom.post(text_xml(9202, QUESTION)))["Content"]
    assert "长宁区科委" in content and len(gate.calls) == 1
