"""WeChat Official Account (公众号) callback: ``GET/POST {ASSISTANT_WECHAT_PATH}`` (default ``/wechat``).

- GET: URL verification (``signature`` over token/timestamp/nonce) → ``echostr`` as-is.
- POST: plaintext, compatible or safe mode (``encrypt_type=aes``); safe-mode replies are encrypted with the key
  that decrypted the message (the current or, during rotation, the previous EncodingAESKey).
- The 5-second rule: see ``assistant.channels.relay``. Not ready within ``wechat_answer_budget_s`` on the 1st/2nd
  attempt → HTTP 503 with no body (not a reply, so WeChat retries and the cached answer is returned then); on the
  3rd → "正在查询，请稍候…" and a customer-service push when app id/secret are configured.

The path comes from the settings, so this module exposes ``build_router(settings)``.
"""

from __future__ import annotations

import binascii
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from assistant.channels.errors import BadMessageError, ChannelDisabledError, SignatureError
from assistant.channels.messages import read_message
from assistant.channels.relay import Outcome
from assistant.channels.safexml import MAX_XML_BYTES, check_xml
from assistant.channels.service import for_app, push_client
from assistant.channels.verify import bind_nonce, check_timestamp
from assistant.errors import ConfigError
from assistant.settings import Settings

CHANNEL = "wechat"
XML = "application/xml"
RETRY_ATTEMPTS = 3  # WeChat sends a message up to 3 times (5 s apart); the 3rd request must say something


# Success bodies are not JSON; the error bodies are (their schema comes with the router, api/main.py).
VERIFIED = {200: {"description": "签名正确：原样返回 echostr", "content": {"text/plain": {"schema": {"type": "string"}}}}}
RECEIVED = {
    200: {
        "description": "被动回复（XML，安全模式下加密），或 success（无需回复）",
        "content": {XML: {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
    },
    503: {"description": "回答未在预算内完成：不是回复，微信会重试并拿到缓存的回答", "content": {}},
}


def _enabled(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.wechat_token:
        raise ChannelDisabledError("微信公众号接入未启用", "设置 ASSISTANT_WECHAT_TOKEN（及可选的 AES key、AppID）后重启服务。")
    return settings


def _check_signature(settings: Settings, signature: str, timestamp: str, nonce: str) -> None:
    try:
        check_signature(settings.wechat_token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise SignatureError("签名校验失败", "请核对公众号后台的 Token 与 ASSISTANT_WECHAT_TOKEN 是否一致。") from None


def _cryptos(settings: Settings) -> list[WeChatCrypto]:
    """The current key first, then the previous one (EncodingAESKey rotation)."""
    out = []
    for name, key in (("ASSISTANT_WECHAT_AES_KEY", settings.wechat_aes_key),
                      ("ASSISTANT_WECHAT_AES_KEY_PREVIOUS", settings.wechat_aes_key_previous)):
        if not key:
            continue
        try:
            out.append(WeChatCrypto(settings.wechat_token, key, settings.wechat_app_id))
        except (AssertionError, ValueError, binascii.Error) as exc:
            raise ConfigError(f"{name} 无效", "EncodingAESKey 应为公众号后台生成的 43 位字符。") from exc
    if not out:
        raise BadMessageError("收到安全模式（加密）消息，但未配置 EncodingAESKey", "设置 ASSISTANT_WECHAT_AES_KEY 与 ASSISTANT_WECHAT_APP_ID。")
    return out


def _decrypt(settings: Settings, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> tuple[str, WeChatCrypto]:
    envelope = check_xml(body)
    encrypt = envelope.findtext("Encrypt")
    if not encrypt:
        raise BadMessageError("加密消息缺少 Encrypt 字段")
    for crypto in _cryptos(settings):
        try:
            return crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce), crypto
        except InvalidSignatureException:
            raise SignatureError("msg_signature 校验失败", "请核对 Token 与 EncodingAESKey。") from None
        except Exception:  # noqa: BLE001 - wrong key: garbage padding, bad UTF-8 or another AppID; try the next key
            continue
    raise BadMessageError("消息解密失败", "请核对 ASSISTANT_WECHAT_AES_KEY（EncodingAESKey）与 ASSISTANT_WECHAT_APP_ID。")


def _reply(message: object, text: str, crypto: WeChatCrypto | None, nonce: str) -> Response:
    xml = TextReply(message=message, content=text).render()
    if crypto is not None:
        xml = crypto.encrypt_message(xml, nonce, str(int(time.time())))
    return Response(xml, media_type=XML)


def _no_reply() -> PlainTextResponse:
    return PlainTextResponse("success")  # WeChat: "success" = handled, nothing to show, do not retry


async def verify_url(
    request: Request, signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""
) -> PlainTextResponse:
    """公众号后台“服务器配置”提交时的 URL 校验：签名正确则原样返回 echostr。"""
    settings = _enabled(request)
    check_timestamp(timestamp, settings.wechat_timestamp_window_s)
    _check_signature(settings, signature, timestamp, nonce)
    return PlainTextResponse(echostr)


async def receive(
    request: Request,
    signature: str = "",
    timestamp: str = "",
    nonce: str = "",
    openid: str = "",  # sent by WeChat; the signed FromUserName inside the message is what counts
    encrypt_type: str = "",
    msg_signature: str = "",
) -> Response:
    """接收用户消息与事件（明文、兼容、安全模式），被动回复文本；5 秒规则见模块说明。"""
    settings = _enabled(request)
    check_timestamp(timestamp, settings.wechat_timestamp_window_s)
    body = await request.body()
    if len(body) > MAX_XML_BYTES:
        raise BadMessageError(f"消息过大（上限 {MAX_XML_BYTES} 字节）")
    crypto: WeChatCrypto | None = None
    if encrypt_type.lower() == "aes":
        if signature:  # WeChat signs the URL in every mode; msg_signature covers the encrypted body
            _check_signature(settings, signature, timestamp, nonce)
        xml, crypto = _decrypt(settings, body, msg_signature, timestamp, nonce)
    else:
        _check_signature(settings, signature, timestamp, nonce)
        xml = body.decode("utf-8", "replace")
    message, key, kind, question = read_message(xml, parse_message)
    store = request.app.state.store
    bind_nonce(store, CHANNEL, timestamp, nonce, key, settings.wechat_timestamp_window_s)

    service = for_app(request.app)
    if kind == "welcome":
        return _reply(message, service.welcome(), crypto, nonce)
    if kind == "unsupported":
        return _reply(message, service.unsupported(), crypto, nonce)
    if kind == "ignore":
        return _no_reply()
    outcome: Outcome = await service.handle_question(
        channel=CHANNEL,
        key=key,
        user=message.source,
        question=question,
        attempts=RETRY_ATTEMPTS if settings.wechat_retry_on_pending else 1,
        push=push_client(request.app, CHANNEL),
        budget_s=settings.wechat_answer_budget_s,
    )
    if outcome.kind in ("reply", "placeholder"):
        return _reply(message, outcome.text, crypto, nonce)
    if outcome.kind == "pending":  # not a reply: WeChat retries and gets the cached answer
        return Response(status_code=503, headers={"Retry-After": "1"})
    return _no_reply()


def build_router(settings: Settings) -> APIRouter:
    """The router with the configured path (``ASSISTANT_WECHAT_PATH``)."""
    path = "/" + settings.wechat_path.strip().strip("/")
    router = APIRouter(tags=["wechat"])
    router.add_api_route(path, verify_url, methods=["GET"], summary="公众号 URL 校验", responses=VERIFIED)
    router.add_api_route(path, receive, methods=["POST"], summary="公众号消息回调（被动回复，5 秒规则）", responses=RECEIVED)
    return router
