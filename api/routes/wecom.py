"""WeCom (企业微信) self-built app callback: ``GET/POST /wecom``.

- GET: URL verification — check ``msg_signature`` and decrypt ``echostr`` (receive id = CorpID); answered at once.
- POST: encrypted message callback. A passive encrypted reply when the answer is ready within
  ``wechat_answer_budget_s``; otherwise an empty 200 and the answer is pushed with ``message/send`` when the
  corp secret and agent id are configured (without them: a short note asking the user to resend later).
"""

from __future__ import annotations

import binascii
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.replies import TextReply
from wechatpy.exceptions import InvalidSignatureException

from assistant.channels.errors import BadMessageError, ChannelDisabledError, SignatureError
from assistant.channels.messages import read_message
from assistant.channels.safexml import MAX_XML_BYTES, check_xml
from assistant.channels.service import for_app, push_client
from assistant.channels.verify import bind_nonce, check_timestamp
from assistant.errors import ConfigError
from assistant.settings import Settings

CHANNEL = "wecom"
XML = "application/xml"

router = APIRouter(tags=["wecom"])


def _crypto(request: Request) -> tuple[Settings, WeChatCrypto]:
    settings: Settings = request.app.state.settings
    if not (settings.wecom_corp_id and settings.wecom_token and settings.wecom_aes_key):
        raise ChannelDisabledError(
            "企业微信接入未启用",
            "设置 ASSISTANT_WECOM_CORP_ID、ASSISTANT_WECOM_TOKEN、ASSISTANT_WECOM_AES_KEY 后重启服务。",
        )
    try:
        return settings, WeChatCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
    except (AssertionError, ValueError, binascii.Error) as exc:
        raise ConfigError("ASSISTANT_WECOM_AES_KEY 无效", "EncodingAESKey 应为企业微信后台生成的 43 位字符。") from exc


def _bad_signature() -> SignatureError:
    return SignatureError("msg_signature 校验失败", "请核对企业微信后台的 Token、EncodingAESKey 与 CorpID。")


@router.get(
    "/wecom", summary="企业微信 URL 校验",
    responses={200: {"description": "解密后的 echostr", "content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def verify_url(
    request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""
) -> PlainTextResponse:
    """校验 msg_signature 并解密 echostr，返回明文（企业微信要求 1 秒内响应）。"""
    settings, crypto = _crypto(request)
    check_timestamp(timestamp, settings.wechat_timestamp_window_s)
    echostr = echostr.replace(" ", "+")  # a '+' of the base64 that arrived unescaped
    try:
        return PlainTextResponse(crypto.check_signature(msg_signature, timestamp, nonce, echostr))
    except InvalidSignatureException:
        raise _bad_signature() from None
    except Exception as exc:  # noqa: BLE001 - undecryptable echostr
        raise BadMessageError("echostr 解密失败", "请核对 ASSISTANT_WECOM_AES_KEY 与 ASSISTANT_WECOM_CORP_ID。") from exc


@router.post(
    "/wecom", summary="企业微信消息回调（加密被动回复或主动推送）",
    responses={200: {"description": "加密的被动回复（XML），或空（稍后主动推送）",
                     "content": {XML: {"schema": {"type": "string"}}}}},
)
async def receive(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = "") -> Response:
    """解密消息并作答：预算内完成则加密被动回复，否则返回空 200 并在完成后主动推送。"""
    settings, crypto = _crypto(request)
    check_timestamp(timestamp, settings.wechat_timestamp_window_s)
    body = await request.body()
    if len(body) > MAX_XML_BYTES:
        raise BadMessageError(f"消息过大（上限 {MAX_XML_BYTES} 字节）")
    encrypt = check_xml(body).findtext("Encrypt")
    if not encrypt:
        raise BadMessageError("加密消息缺少 Encrypt 字段")
    try:
        xml = crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
    except InvalidSignatureException:
        raise _bad_signature() from None
    except Exception as exc:  # noqa: BLE001
        raise BadMessageError("消息解密失败", "请核对 ASSISTANT_WECOM_AES_KEY 与 ASSISTANT_WECOM_CORP_ID。") from exc
    message, key, kind, question = read_message(xml, parse_message)
    bind_nonce(request.app.state.store, CHANNEL, timestamp, nonce, key, settings.wechat_timestamp_window_s)

    service = for_app(request.app)
    if kind == "welcome":
        text = service.welcome()
    elif kind == "unsupported":
        text = service.unsupported()
    elif kind == "ignore":
        return Response(b"")
    else:
        outcome = await service.handle_question(
            channel=CHANNEL,
            key=key,
            user=message.source,
            question=question,
            attempts=1,
            push=push_client(request.app, CHANNEL),
            budget_s=settings.wechat_answer_budget_s,
        )
        if outcome.kind == "reply" or (outcome.kind == "placeholder" and not outcome.pushed):
            text = outcome.text
        else:  # pushed when ready (or already delivered): nothing to say now
            return Response(b"")
    reply = TextReply(message=message, content=text).render()
    return Response(crypto.encrypt_message(reply, nonce, str(int(time.time()))), media_type=XML)
