"""Shared state in Redis, for API replicas on several machines (``ASSISTANT_REDIS_URL``).

Same methods and semantics as ``SqliteStore``; each maps onto one or two Redis commands, so every replica sees
every write at once and claims are atomic across machines:

- key/value with TTL → ``SET … PX`` (``NX`` for ``add_if_absent``); ``set_many`` in one MULTI/EXEC;
- fixed-window counters → ``INCR`` + ``EXPIRE`` of a key per window;
- the append-only log (feedback) → ``INCR`` of an id counter + ``ZADD`` scored by that id.

Redis expires keys itself, so ``purge`` has nothing to do. All keys start with ``ASSISTANT_REDIS_PREFIX`` so several
deployments can share one Redis.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from assistant.errors import ConfigError, StoreUnavailableError
from assistant.store.base import KV


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def _ms(ttl_s: float | None) -> int | None:
    return max(1, int(ttl_s * 1000)) if ttl_s else None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class RedisStore:
    def __init__(self, client: Any, prefix: str = "policy-assistant", url: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.url = url

    @classmethod
    def connect(cls, url: str, prefix: str = "policy-assistant") -> RedisStore:
        """A store on the Redis at ``url``; ``ConfigError`` now (not at the first request) if it is unreachable."""
        try:
            import redis
        except ImportError as exc:
            raise ConfigError(
                "ASSISTANT_REDIS_URL 已设置，但未安装 redis 客户端",
                "请运行 pip install 'policy-assistant[scale]'（或 pip install redis）。",
            ) from exc
        try:
            client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
            client.ping()
        except (redis.RedisError, ValueError) as exc:
            raise ConfigError(
                f"无法连接共享状态存储 Redis {_shown(url)}（{exc}）",
                "请确认 Redis 正在运行且 ASSISTANT_REDIS_URL 正确（如 redis://127.0.0.1:6379/0）；清空它则使用本机 SQLite。",
            ) from exc
        return cls(client, prefix, url)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import redis

        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailableError(
                f"共享状态存储 Redis {_shown(self.url)} 暂时无法访问（{exc}）",
                "请稍后重试；管理员请检查 Redis 服务。",
            ) from exc

    def _kv(self, ns: str, key: str) -> str:
        return f"{self.prefix}:kv:{ns}|{key}"

    # ---- key/value with TTL ---------------------------------------------------------------------------
    def get(self, ns: str, key: str) -> Any | None:
        with self._errors():
            raw = self.client.get(self._kv(ns, key))
        return None if raw is None else json.loads(raw)

    def set(self, ns: str, key: str, value: Any, ttl_s: float | None = None) -> None:
        self.set_many([KV(ns, key, value, ttl_s)])

    def set_many(self, items: Iterable[KV]) -> None:
        items = list(items)
        if not items:
            return
        with self._errors():
            pipe = self.client.pipeline(transaction=True)
            for it in items:
                pipe.set(self._kv(it.ns, it.key), _dump(it.value), px=_ms(it.ttl_s))
            pipe.execute()

    def add_if_absent(self, ns: str, key: str, value: Any, ttl_s: float | None = None) -> bool:
        with self._errors():
            return bool(self.client.set(self._kv(ns, key), _dump(value), px=_ms(ttl_s), nx=True))

    def delete(self, ns: str, key: str) -> None:
        with self._errors():
            self.client.delete(self._kv(ns, key))

    # ---- fixed-window counters (rate limits) ------------------------------------------------------------
    def hit(self, ns: str, key: str, window_s: int) -> int:
        window = int(time.time() // window_s) * window_s
        name = f"{self.prefix}:hit:{ns}|{key}|{window}"
        with self._errors():
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, int(window_s) + 60)
            count, _ = pipe.execute()
        return int(count)

    # ---- append-only log (feedback) -----------------------------------------------------------------------
    def append(self, ns: str, value: Any) -> int:
        with self._errors():
            entry_id = int(self.client.incr(f"{self.prefix}:logid:{ns}"))
            entry = {"id": entry_id, "created": time.time(), "value": value}
            self.client.zadd(f"{self.prefix}:log:{ns}", {_dump(entry): entry_id})
        return entry_id

    def entries(self, ns: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        with self._errors():
            rows = self.client.zrevrange(f"{self.prefix}:log:{ns}", offset, offset + limit - 1)
        out = []
        for raw in rows:
            e = json.loads(raw)
            out.append({"id": e["id"], "created": e["created"], **e["value"]})
        return out

    def purge(self) -> None:
        """Redis expires keys (and the counters' windows) itself."""
