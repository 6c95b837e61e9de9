"""Request checks shared by the WeChat and WeCom callbacks: timestamp window and nonce replay."""

from __future__ import annotations

import time

from assistant.channels.errors import SignatureError
from assistant.store import Store


def check_timestamp(timestamp: str, window_s: int) -> None:
    """403 unless ``timestamp`` (Unix seconds) is within ``window_s`` of now (≤ 0 disables the check)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("缺少或无效的 timestamp 参数", "请求应来自微信服务器。") from None
    if window_s > 0 and abs(time.time() - ts) > window_s:
        raise SignatureError(
            f"请求时间戳超出允许范围（±{window_s} 秒），疑似重放，已拒绝",
            "请检查服务器时钟；允许范围见 ASSISTANT_WECHAT_TIMESTAMP_WINDOW_S。",
        )


def bind_nonce(store: Store, channel: str, timestamp: str, nonce: str, message_key: str, window_s: int) -> None:
    """A signed (timestamp, nonce) pair belongs to one message. WeChat's retries repeat the pair with the same
    message; the pair replayed with a different message is rejected (403)."""
    ns = f"channel:{channel}:nonce"
    pair = f"{timestamp}:{nonce}"
    ttl = 2 * max(window_s, 60) + 60
    if not store.add_if_absent(ns, pair, message_key, ttl_s=ttl) and store.get(ns, pair) != message_key:
        raise SignatureError("timestamp/nonce 已被另一条消息使用，疑似重放，已拒绝")
