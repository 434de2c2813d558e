"""What the index reads from the product's settings, as a structural type.

`index/` never imports `assistant`: the caller passes its settings object in, and anything with
these attributes will do (`assistant.settings.Settings` does; tests may pass a small stand-in).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol


class IndexSettings(Protocol):
    data_dir: Path
    corpus_dir: Path
    ingest_roots: list | None
    chroma_url: str | None
    collection: str
    max_files: int
    max_file_mb: float
    embedding_backend: str
    embedding_model: str | None
    model_dir: Path
    embedding_threads: int
    top_k: int

    @property
    def sqlite_path(self) -> Path: ...

    @property
    def chroma_path(self) -> Path: ...
