"""Request checks shared by the WeChat and WeCom callbacks: timestamp window and nonce replay."""

from __future__ import annotations

import time

from assistant.channels.errors import SignatureError
from assistant.store import Store

MAX_DELIVERIES = 4  # WeChat and WeCom send a message at most 4 times: the first request and 3 retries


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
    """A signed (timestamp, nonce) pair belongs to one message and is delivered at most ``MAX_DELIVERIES`` times.

    WeChat's retries repeat the pair with the same message (the answer is computed once and the cached reply
    returned), so those are accepted; the pair replayed with a different message, or more often than WeChat
    ever sends it, is rejected (403). Deliveries are counted with atomic claims of numbered slots in the shared
    Store, so every worker process agrees; the slots live as long as the timestamp is accepted."""
    ns = f"channel:{channel}:nonce"
    pair = f"{timestamp}:{nonce}"
    ttl = 2 * max(window_s, 60) + 60
    if not store.add_if_absent(ns, pair, message_key, ttl_s=ttl) and store.get(ns, pair) != message_key:
        raise SignatureError("timestamp/nonce 已被另一条消息使用，疑似重放，已拒绝")
    for n in range(1, MAX_DELIVERIES + 1):
        if store.add_if_absent(f"{ns}:delivery", f"{pair}#{n}", True, ttl_s=ttl):
            return
    raise SignatureError(
        f"同一请求（timestamp/nonce）已收到 {MAX_DELIVERIES} 次，超过微信的重试次数，疑似重放，已拒绝",
        "微信对同一条消息最多发送 4 次（首次 + 3 次重试）；请检查是否有人重放回调请求。",
    )
