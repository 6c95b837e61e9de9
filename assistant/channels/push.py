"""Active push of a finished answer: the WeChat customer-service message API and WeCom ``message/send``.

Both go through wechatpy's clients. Their access token is kept in the shared ``Store`` (a wechatpy
``SessionStorage``), so worker processes share one token instead of invalidating each other's.
"""

from __future__ import annotations

from typing import Any, Protocol

from wechatpy.session import SessionStorage

from assistant.settings import Settings
from assistant.store import Store


class PushClient(Protocol):
    def send_text(self, user_id: str, content: str) -> None: ...


class StoreSession(SessionStorage):
    """wechatpy session storage (access tokens, tickets) on the shared ``Store``."""

    def __init__(self, store: Store, prefix: str) -> None:
        self.store = store
        self.ns = f"wechatpy:{prefix}"

    def get(self, key: str, default: Any = None) -> Any:
        value = self.store.get(self.ns, key)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if value is not None:  # drop a token two minutes before WeChat expires it
            self.store.set(self.ns, key, value, ttl_s=max(1, ttl - 120) if ttl else None)

    def delete(self, key: str) -> None:
        self.store.delete(self.ns, key)


class WeChatPush:
    """Official Account customer-service text message (客服消息), within 48 h of the user's last message."""

    def __init__(self, app_id: str, app_secret: str, store: Store) -> None:
        from wechatpy import WeChatClient

        self.client = WeChatClient(app_id, app_secret, session=StoreSession(store, "wechat"), timeout=10)

    def send_text(self, user_id: str, content: str) -> None:
        self.client.message.send_text(user_id, content)


class WeComPush:
    """WeCom self-built app message (``message/send``) to one member."""

    def __init__(self, corp_id: str, secret: str, agent_id: str, store: Store) -> None:
        from wechatpy.enterprise import WeChatClient

        self.agent_id = agent_id
        self.client = WeChatClient(corp_id, secret, session=StoreSession(store, "wecom"), timeout=10)

    def send_text(self, user_id: str, content: str) -> None:
        self.client.message.send_text(self.agent_id, user_id, content)


def wechat_push(settings: Settings, store: Store) -> PushClient | None:
    if settings.wechat_app_id and settings.wechat_app_secret:
        return WeChatPush(settings.wechat_app_id, settings.wechat_app_secret, store)
    return None


def wecom_push(settings: Settings, store: Store) -> PushClient | None:
    if settings.wecom_corp_id and settings.wecom_secret and settings.wecom_agent_id:
        return WeComPush(settings.wecom_corp_id, settings.wecom_secret, settings.wecom_agent_id, store)
    return None
