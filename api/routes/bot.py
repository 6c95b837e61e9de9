"""Generic bot webhook for third-party bot frameworks: ``POST /v1/bot/message``.

Same reply text as WeChat (plain text, ``【n】`` markers, citation lines, ≤ 2,048 bytes), the same per-user rate
limit, and per-user follow-up context, keyed by ``channel`` + ``user_id``.
"""

from __future__ import annotations

import time

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.channels.service import RATE_WINDOW_S, for_app
from assistant.types import Citation

router = APIRouter(tags=["bot"])


class BotMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "u-42", "text": "长宁园管理专班由哪个部门牵头组建？", "channel": "dingtalk"}]},
    )

    user_id: str = Field(min_length=1, max_length=128, description="发消息用户在该渠道内的唯一 ID（限流与追问上下文按它区分）。")
    text: str = Field(max_length=100_000, description="用户发来的文字。长度上限见 ASSISTANT_MAX_QUESTION_CHARS。")
    channel: str = Field(
        default="bot", pattern=r"^[A-Za-z0-9_.\-]{1,32}$", description="渠道名（如 dingtalk、feishu、slack），用于区分用户。"
    )


class BotReply(BaseModel):
    reply_text: str = Field(description="可直接发给用户的纯文本：回答在前，随后是【n】《标题》文号 · 章节 引用行，≤ 2048 字节。")
    citations: list[Citation] = Field(description="回答引用的原文（与 /v1/ask 相同的结构）。")
    grounded: bool = Field(description="是否找到依据；false 表示文件中没有答案（reply_text 为说明）。")


@router.post("/v1/bot/message", response_model=BotReply, summary="通用机器人 Webhook")
async def bot_message(body: BotMessage, request: Request) -> BotReply | JSONResponse:
    """把第三方机器人框架收到的文字转成带引用的纯文本回答；每个用户每分钟限 ASSISTANT_WECHAT_USER_RATE_PER_MINUTE 条。"""
    service = for_app(request.app)
    channel = f"bot-{body.channel}"
    if service.rate_limited(channel, body.user_id):
        retry_after = max(1, int(RATE_WINDOW_S - time.time() % RATE_WINDOW_S) + 1)
        return JSONResponse(
            {"detail": service.rate_limited_text(), "hint": f"请在 {retry_after} 秒后重试。"},
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
    answer, text = await anyio.to_thread.run_sync(service.answer, channel, body.user_id, body.text)
    return BotReply(reply_text=text, citations=answer.citations if answer.grounded else [], grounded=answer.grounded)
