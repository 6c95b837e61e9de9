"""Request and response models of the HTTP API (also what /docs shows, with examples)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.ingest.pipeline import SkippedFile
from assistant.service import DocumentInfo
from assistant.types import Answer, Citation

SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"

EXAMPLE_QUESTION = "“虹桥人才荟”是做什么的？"


# An allow-list filter given as a list names at least one value (an empty one would match nothing, or everything).
NonEmptyList = Annotated[list[str], Field(min_length=1)]


# ---- /v1/ask ---------------------------------------------------------------------------------------------
class AskFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str | NonEmptyList | None = Field(
        default=None,
        description="只在这些文件中检索（相对语料目录的路径，见 GET /v1/documents 的 source）。",
        examples=["zhangjiang-changning-park-action-plan-2025-2026.md"],
    )
    kind: str | NonEmptyList | None = Field(default=None, description="只看这类文件（若干措施、申报通知、实施细则……，见 GET /v1/documents 的 kind）。")
    status: str | NonEmptyList | None = Field(default=None, description="只看带这些标记的文件：试行、征求意见稿、废止、修订。")
    exclude_status: list[str] | None = Field(default=None, description="排除带这些标记的文件，例如 [\"征求意见稿\", \"废止\"]。")
    valid_on: date | None = Field(default=None, description="只看这一天有效的政策（按正文写明的施行日期与有效期；未写明的视为有效；已废止的排除）。")

    def as_dict(self) -> dict[str, Any] | None:
        data = self.model_dump(exclude_none=True, mode="json")
        return data or None


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": EXAMPLE_QUESTION},
                {"question": "它的文号是？", "session_id": "demo-session-1"},
                {"question": "数字长宁建设有哪些专项行动？", "top_k": 3,
                 "filters": {"source": "proposal-122-reply-digital-changning-2025.txt"}},
            ]
        },
    )

    question: str = Field(description="问题（中文）。长度上限见 ASSISTANT_MAX_QUESTION_CHARS。", max_length=100_000)
    session_id: str | None = Field(
        default=None,
        pattern=SESSION_ID_PATTERN,
        description="多轮对话的会话 ID（字母、数字、-_.:，最长 64）。省略时服务端新建一个并在响应中返回。",
    )
    top_k: int | None = Field(default=None, ge=1, le=50, description="检索片段数（默认 ASSISTANT_TOP_K）。")
    filters: AskFilters | None = None


class AskResponse(Answer):
    """Exactly ``assistant ask --json`` plus the ids needed for follow-ups and feedback."""

    answer_id: str = Field(description="本次回答的 ID，用于 POST /v1/feedback。")
    session_id: str = Field(description="会话 ID；下一轮提问时带上即可追问。")


# ---- /v1/feedback ------------------------------------------------------------------------------------------
class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"answer_id": "0b7c…", "rating": "up"},
                                        {"answer_id": "0b7c…", "rating": "down", "comment": "引用的章节不对"}]},
    )

    answer_id: str = Field(min_length=1, max_length=64, description="回答 ID（/v1/ask 响应中的 answer_id）。")
    rating: Literal["up", "down"] = Field(description="up = 👍，down = 👎")
    comment: str | None = Field(default=None, max_length=2000, description="可选的文字意见。")


class FeedbackReceipt(BaseModel):
    id: int
    answer_id: str
    rating: Literal["up", "down"]


class FeedbackEntry(BaseModel):
    id: int
    created: float
    answer_id: str
    rating: Literal["up", "down"]
    comment: str | None = None
    question: str = ""
    answer: str = ""
    grounded: bool | None = None
    session_id: str | None = None
    sources: list[str] = Field(default_factory=list)


class FeedbackList(BaseModel):
    items: list[FeedbackEntry]
    limit: int
    offset: int


# ---- /v1/documents -----------------------------------------------------------------------------------------
class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    count: int
    skipped: list[SkippedFile] = Field(
        default_factory=list,
        description="语料目录中上次导入未能读取的文件：原因和处理办法（kept_previous：索引里保留着它的上一版本）。",
    )
    upload_dir: str = Field(default="", description="POST /v1/documents 上传的文件保存到这个目录（ASSISTANT_UPLOAD_DIR）。")


class DocumentChange(BaseModel):
    document: DocumentInfo
    report: dict[str, Any] = Field(description="导入报告（与 assistant ingest --json 相同）。")


# ---- /v1/chat/completions (OpenAI-compatible) ----------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """Plain text of the message (OpenAI allows a list of content parts)."""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type", "text") == "text")
        return ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",  # temperature, max_tokens … are accepted and ignored
        json_schema_extra={
            "examples": [
                {"model": "policy-assistant", "messages": [{"role": "user", "content": EXAMPLE_QUESTION}]},
                {"model": "policy-assistant", "stream": True, "messages": [
                    {"role": "user", "content": EXAMPLE_QUESTION},
                    {"role": "assistant", "content": "……"},
                    {"role": "user", "content": "它的文号是？"},
                ]},
            ]
        },
    )

    model: str = "policy-assistant"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    top_k: int | None = Field(default=None, ge=1, le=50)


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    citations: list[Citation] = Field(description="与 /v1/ask 相同的引用（正文末尾也附有编号参考来源）。")
    grounded: bool
    answer_id: str


# ---- errors (every route) ----------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    """What every error response carries (``api/errors.py``): what went wrong, and what to do."""

    detail: str = Field(description="出了什么问题（中文）。")
    hint: str | None = Field(default=None, description="怎么办。")
    errors: list[dict[str, Any]] | None = Field(default=None, description="参数错误的逐项说明（仅 422）。")


def error(description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry with the error body."""
    return {"model": ErrorBody, "description": description}


# Documented on every operation: the request guards and body parsing answer these for any route.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error("请求体无法解析（例如不是有效的 JSON 或 multipart）"),
    413: error("请求体过大（上限 ASSISTANT_MAX_BODY_BYTES）"),
    422: error("参数有误、问题为空或过长"),
}
# /v1 routes: the per-client rate limit, and no index yet
V1_ERRORS: dict[int | str, dict[str, Any]] = {
    429: error("请求过于频繁（ASSISTANT_RATE_LIMIT_PER_MINUTE）"),
    503: error("索引尚未就绪：请先运行 assistant ingest"),
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error("缺少管理员密钥（X-Admin-Key 或 Authorization: Bearer）"),
    403: error("密钥错误，或服务端未设置 ASSISTANT_ADMIN_KEY（管理接口停用）"),
}
# WeChat / WeCom callbacks
CHANNEL_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error("消息无法解析、过大、含 DTD/实体，或无法解密"),
    403: error("签名校验失败、时间戳超出范围或重放"),
    404: error("该渠道未启用（未配置 Token 等）"),
}
