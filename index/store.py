"""The index: SQLite (manifest, chunks, facts, checks, structure) + Chroma vectors + BM25.

SQLite is the source of truth and the manifest of content hashes: a document counts as
ingested only once its transaction commits, so a crash half-way leaves the old state (the
next ingest sees a changed hash and redoes the file). Chroma rows for a source are replaced
before that commit; BM25 is rebuilt from SQLite in memory.
"""
from __future__ import annotations

import bisect
import fcntl
import hashlib
import json
import re
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.settings import Settings
from ingest.model import Chunk, Discrepancy, Fact, ParsedDocument
from ingest.pipeline import parse_document
from ingest.readers import SUPPORTED_SUFFIXES, DocumentReadError, read_document

from .bm25 import BM25Index
from .embeddings import Embedder, make_embedder

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  source TEXT PRIMARY KEY, path TEXT, title TEXT, fmt TEXT, sha256 TEXT, chunks INTEGER,
  facts INTEGER, ingested_at TEXT, structure TEXT, text TEXT, embedder TEXT);
CREATE TABLE IF NOT EXISTS chunks (
  chunk_id TEXT PRIMARY KEY, source TEXT, title TEXT, section TEXT, text TEXT, start INTEGER,
  "end" INTEGER, page INTEGER, kind TEXT, entity TEXT, meta TEXT, ord INTEGER);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE TABLE IF NOT EXISTS facts (fact_id TEXT, source TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS facts_source ON facts(source);
CREATE TABLE IF NOT EXISTS discrepancies (source TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS embedding_cache (key TEXT PRIMARY KEY, vector BLOB);
"""
# Bump when parsing changes: documents ingested by an older parser are read again (their
# unchanged passages keep their cached embeddings, so only parsing is redone).
PARSER_VERSION = "23"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    files: dict[str, dict] = field(default_factory=dict)  # per file: pages, OCR, tables, facts, warnings

    def to_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class CouncilIndex:
    """Everything the assistant reads; safe to share between request threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(settings.sqlite_path, check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._embedder = embedder
        self._collection = None
        self._loaded_generation = -1
        self._numbers: dict[str, set[str]] | None = None
        self.chunks: dict[str, Chunk] = {}
        self.facts: list[Fact] = []
        self.discrepancies: list[Discrepancy] = []
        self.fact_vectors = np.zeros((0, 1), dtype=np.float32)
        self.bm25 = BM25Index([], [])
        self.refresh()

    # -- components -----------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            s = self.settings
            self._embedder = make_embedder(s.embedding_backend, s.embedding_model, s.model_dir, s.embedding_threads)
        return self._embedder

    @property
    def collection(self):
        if self._collection is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            if self.settings.chroma_url:
                from urllib.parse import urlparse

                u = urlparse(self.settings.chroma_url)
                client = chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000,
                                             ssl=u.scheme == "https", settings=chroma_settings)
            else:
                client = chromadb.PersistentClient(path=str(self.settings.chroma_path), settings=chroma_settings)
            self._collection = client.get_or_create_collection(
                self.settings.collection, embedding_function=None, metadata={"hnsw:space": "cosine"})
        return self._collection

    # -- reading ----------------------------------------------------------------------
    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def refresh(self, force: bool = False) -> bool:
        """Reload chunks, facts and BM25 when another ingest changed the store."""
        with self._lock:
            gen = self.generation()
            if gen == self._loaded_generation and not force:
                return False
            rows = self._db.execute(
                'SELECT chunk_id, source, title, section, text, start, "end", page, kind, entity, meta '
                "FROM chunks ORDER BY source, ord").fetchall()
            chunks = {}
            for cid, source, title, section, text, start, end, page, kind, entity, meta in rows:
                chunks[cid] = Chunk(cid, source, title, section.split(" > ") if section else [], text, start,
                                    end, kind, page, entity, json.loads(meta or "{}"))
            self.chunks = chunks
            self.facts = [Fact(**json.loads(d)) for (d,) in self._db.execute("SELECT data FROM facts")]
            self.discrepancies = [Discrepancy(**json.loads(d)) for (d,) in
                                  self._db.execute("SELECT data FROM discrepancies")]
            ids = list(chunks)
            self.bm25 = BM25Index(ids, [chunks[i].index_text() for i in ids])
            self.fact_vectors = self._fact_vectors()
            self._numbers = None
            self._loaded_generation = gen
            return True

    def _fact_vectors(self) -> np.ndarray:
        """Each fact shares the vector of the passage it stands in (from the cache, embedded at
        ingest). A vector per fact descriptor cost a fifth of ingest's embedding and scored no
        better on the golden and held-out sets (README, "Fact descriptors")."""
        if not self.facts:
            return np.zeros((0, 1), dtype=np.float32)
        by_source: dict[str, list[Chunk]] = {}
        for c in sorted(self.chunks.values(), key=lambda c: c.start):
            by_source.setdefault(c.source, []).append(c)
        starts = {s: [c.start for c in cs] for s, cs in by_source.items()}
        texts = []
        for f in self.facts:
            chunks = by_source.get(f.source)
            texts.append(chunks[max(bisect.bisect_right(starts[f.source], f.start) - 1, 0)].index_text()
                         if chunks else f.descriptor())
        return np.vstack(self._embed(texts)).astype(np.float32)

    def numbers_index(self) -> dict[str, set[str]]:
        """Every number in a passage or its section path → those passages (for pinning `191/26`,
        `§ 76`), built on first use after each refresh."""
        if self._numbers is None:
            self._numbers = {}
            for cid, chunk in self.chunks.items():
                for n in set(re.findall(r"\d+", chunk.text + " " + chunk.section)):
                    self._numbers.setdefault(n.lstrip("0") or n, set()).add(cid)
        return self._numbers

    def query_vector(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def documents(self) -> list[dict]:
        rows = self._db.execute("SELECT source, title, fmt, chunks, facts, ingested_at, "
                                "json_extract(structure, '$.metadata') FROM documents ORDER BY source").fetchall()
        return [dict(source=r[0], title=r[1], format=r[2], chunks=r[3], facts=r[4], ingested_at=r[5],
                     metadata=json.loads(r[6] or "{}")) for r in rows]

    def document(self, source: str) -> dict | None:
        r = self._db.execute("SELECT source, title, fmt, chunks, facts, ingested_at, structure FROM documents "
                             "WHERE source=?", (source,)).fetchone()
        if not r:
            return None
        structure = json.loads(r[6] or "{}")
        report = structure.pop("ingest_report", {})
        return dict(source=r[0], title=r[1], format=r[2], chunks=r[3], facts=r[4], ingested_at=r[5],
                    metadata=structure.get("metadata") or {}, structure=structure, report=report)

    def document_text(self, source: str) -> str | None:
        r = self._db.execute("SELECT text FROM documents WHERE source=?", (source,)).fetchone()
        return r[0] if r else None

    def dense_search(self, query: str, k: int = 30, where: dict | None = None,
                     vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        if not self.chunks:
            return []
        vec = vector if vector is not None else self.embedder.embed_query(query)
        res = self.collection.query(query_embeddings=[vec.tolist()], n_results=min(k, len(self.chunks)),
                                    where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0]) if cid in self.chunks]

    # -- writing ----------------------------------------------------------------------
    def _bump_generation(self) -> None:
        self._db.execute("INSERT INTO meta(key, value) VALUES('generation', ?) ON CONFLICT(key) DO UPDATE "
                         "SET value=excluded.value", (str(self.generation() + 1),))

    def ingest_paths(self, paths: list[Path], progress: bool = False, sync_dir: Path | None = None) -> IngestReport:
        """Ingest files (folders are walked); unchanged files cost a hash. With `sync_dir`,
        documents that came from that folder and are gone from it are removed."""
        start = time.perf_counter()
        report = IngestReport()
        files = _expand(paths, report)
        if len(files) > self.settings.max_files:
            report.errors["(ingest)"] = (f"för många filer ({len(files)}), gränsen är {self.settings.max_files} "
                                         "per ingest (COUNCIL_MAX_FILES)")
            files = []
        known = {s: h for s, h in self._db.execute("SELECT source, sha256 FROM documents")}
        todo = []
        for f in files:
            try:
                digest = sha256_file(f)
            except OSError as exc:
                report.errors[f.name] = f"{f.name}: kunde inte läsas ({exc.strerror})"
                continue
            digest = f"{digest}:{PARSER_VERSION}"
            if known.get(f.name) == digest:
                report.unchanged.append(f.name)
            else:
                todo.append((f, digest))
        iterator = todo
        if progress and todo:
            from tqdm import tqdm

            iterator = tqdm(todo, desc="Läser in", unit="fil")
        for f, digest in iterator:
            try:
                raw = read_document(f, max_bytes=int(self.settings.max_file_mb * 1024 * 1024))
                parsed = parse_document(raw)
                self._store(parsed, str(f.resolve()), digest)
                report.files[f.name] = parsed.report
            except DocumentReadError as exc:
                report.errors[f.name] = str(exc)
                continue
            except Exception as exc:  # one bad file must not stop the others
                log.exception("ingest failed for %s", f)
                report.errors[f.name] = f"{f.name}: oväntat fel vid inläsning ({type(exc).__name__}: {exc})"
                continue
            (report.updated if f.name in known else report.added).append(f.name)
        if sync_dir is not None:
            present = {f.name for f in files}
            root = str(Path(sync_dir).resolve())
            for source, path in self._db.execute("SELECT source, path FROM documents").fetchall():
                if path and path.startswith(root) and source not in present:
                    self._remove(source)  # refreshed once below
                    report.removed.append(source)
        self.refresh()
        report.seconds = round(time.perf_counter() - start, 3)
        return report

    @contextmanager
    def _writing(self):
        """One writer at a time, across processes too: Chroma's embedded store is not safe for
        concurrent writers (the server ingests on behalf of `council ingest` for that reason)."""
        with self._lock, open(self.settings.data_dir / ".write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def rebuild_vectors(self) -> int:
        """Recreate the Chroma collection from SQLite (embeddings come from the cache)."""
        with self._writing():
            self.refresh(force=True)
            try:
                self.collection._client.delete_collection(self.settings.collection)
            except Exception:  # noqa: BLE001 - absent or unreadable: it is recreated below
                log.warning("could not delete collection %s; recreating", self.settings.collection)
            self._collection = None
            chunks = list(self.chunks.values())
            vectors = self._embed([c.index_text() for c in chunks])
            self._add_vectors(chunks, vectors)
        return len(chunks)

    def _add_vectors(self, chunks: list[Chunk], vectors: list) -> None:
        for i in range(0, len(chunks), 500):
            batch = chunks[i:i + 500]
            self.collection.add(ids=[c.chunk_id for c in batch], embeddings=[v.tolist() for v in vectors[i:i + 500]],
                                documents=[c.text for c in batch], metadatas=[_chroma_meta(c) for c in batch])

    def _store(self, doc: ParsedDocument, path: str, digest: str) -> None:
        vectors = self._embed([c.index_text() for c in doc.chunks])  # facts share these (_fact_vectors)
        with self._writing():
            self.collection.delete(where={"source": doc.source})
            self._add_vectors(doc.chunks, vectors)
            with self._db:  # one transaction: the document appears whole or not at all
                self._delete_rows(doc.source)
                self._db.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.source, path, doc.title, doc.fmt, digest, len(doc.chunks), len(doc.facts),
                     time.strftime("%Y-%m-%dT%H:%M:%S"),
                     # the ingest report rides in the structure JSON: no schema change for old stores
                     json.dumps({**doc.structure, "ingest_report": doc.report}, ensure_ascii=False),
                     doc.text, self.embedder.name))
                self._db.executemany(
                    "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(c.chunk_id, c.source, c.title, c.section, c.text, c.start, c.end, c.page, c.kind,
                      c.entity, json.dumps(c.meta, ensure_ascii=False), i) for i, c in enumerate(doc.chunks)])
                self._db.executemany("INSERT INTO facts VALUES (?,?,?)",
                                     [(f.fact_id, f.source, json.dumps(f.to_dict(), ensure_ascii=False))
                                      for f in doc.facts])
                self._db.executemany("INSERT INTO discrepancies VALUES (?,?)",
                                     [(d.source, json.dumps(asdict(d), ensure_ascii=False))
                                      for d in doc.discrepancies])
                self._bump_generation()

    def _embed(self, texts: list[str]) -> list:
        """Embeddings, re-using those of passages embedded before by the same model."""
        keys = [hashlib.sha1(f"{self.embedder.name}\0{t}".encode()).hexdigest() for t in texts]
        cached = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = self._db.execute(f"SELECT key, vector FROM embedding_cache WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall()
            cached.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        missing = [i for i, k in enumerate(keys) if k not in cached]
        if missing:
            fresh = self.embedder.embed_passages([texts[i] for i in missing])
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO embedding_cache VALUES (?, ?)",
                                     [(keys[i], fresh[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)])
            for j, i in enumerate(missing):
                cached[keys[i]] = fresh[j]
        return [cached[k] for k in keys]

    def _delete_rows(self, source: str) -> None:
        for table in ("documents", "chunks", "facts", "discrepancies"):
            self._db.execute(f"DELETE FROM {table} WHERE source=?", (source,))

    def remove(self, source: str) -> bool:
        removed = self._remove(source)
        if removed:
            self.refresh()
        return removed

    def _remove(self, source: str) -> bool:
        with self._writing():
            exists = self._db.execute("SELECT 1 FROM documents WHERE source=?", (source,)).fetchone()
            if not exists:
                return False
            self.collection.delete(where={"source": source})
            with self._db:
                self._delete_rows(source)
                self._bump_generation()
        return True


def _chroma_meta(c: Chunk) -> dict:
    meta = {"source": c.source, "section": c.section, "start": c.start, "end": c.end, "kind": c.kind}
    if c.page is not None:
        meta["page"] = c.page
    if c.entity:
        meta["entity"] = c.entity
    return meta


def _expand(paths: list[Path], report: IngestReport) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")
                                and f.suffix.lower() in SUPPORTED_SUFFIXES))
        elif p.exists():
            files.append(p)
        else:
            report.errors[p.name] = f"{p.name}: filen finns inte"
    return files
