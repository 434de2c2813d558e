"""The index: SQLite (manifest, chunks, facts, checks, structure) + Chroma vectors + BM25.

SQLite is the source of truth and the manifest of content hashes: a document counts as
ingested only once its transaction commits (with its embedding-cache rows), so a crash
half-way leaves the old state. Before Chroma is touched a `pending` row names the document;
on start `reconcile()` makes Chroma agree with SQLite again (orphan vectors deleted, missing
ones restored from the embedding cache, every pending document's vectors rewritten), so
a kill -9 at any moment leaves no orphans and no document without its vectors.

Readers see one consistent `IndexState` (chunks, facts, checks, BM25, fact vectors, levels),
swapped atomically after a write; `snapshot()` pins it for a request. Each thread has its own
SQLite connection (WAL: readers never wait for the writer). One owner process per data
directory with embedded Chroma (`locks.own`); one writer at a time (`locks.writing`).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import logging
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .config import IndexSettings
from ingest.model import Chunk, Discrepancy, Fact, ParsedDocument
from ingest.pipeline import parse_document
from ingest.readers import DocumentReadError, read_bytes, read_document

from .bm25 import BM25Index
from .embeddings import Embedder, make_embedder
from .files import NOT_ALLOWED, FileTarget, PathRejected, identity, parse_roots, resolve_request, walk
from .locks import StoreBusy, crash_point, disown, own, writing  # noqa: F401 - StoreBusy re-exported
from .vectors import VectorCache

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  source TEXT PRIMARY KEY, path TEXT, title TEXT, fmt TEXT, sha256 TEXT, chunks INTEGER,
  facts INTEGER, ingested_at TEXT, structure TEXT, text TEXT, embedder TEXT, level TEXT NOT NULL DEFAULT 'public');
CREATE TABLE IF NOT EXISTS chunks (
  chunk_id TEXT PRIMARY KEY, source TEXT, title TEXT, section TEXT, text TEXT, start INTEGER,
  "end" INTEGER, page INTEGER, kind TEXT, entity TEXT, meta TEXT, ord INTEGER);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE TABLE IF NOT EXISTS facts (fact_id TEXT, source TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS facts_source ON facts(source);
CREATE TABLE IF NOT EXISTS discrepancies (source TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS embedding_cache (key TEXT PRIMARY KEY, vector BLOB);
CREATE TABLE IF NOT EXISTS pending (source TEXT PRIMARY KEY, op TEXT, started_at TEXT);
"""
# Bump when parsing changes: documents ingested by an older parser are read again (their
# unchanged passages keep their cached embeddings, so only parsing is redone).
PARSER_VERSION = "23"
MAX_QUERY_EMBED_CHARS = 300


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


@dataclass(frozen=True)
class IndexState:
    """What readers see, loaded from SQLite in one read transaction and swapped whole."""
    generation: int
    chunks: dict[str, Chunk]
    facts: list[Fact]
    discrepancies: list[Discrepancy]
    bm25: BM25Index
    fact_vectors: np.ndarray
    levels: dict[str, str]  # source → access level


EMPTY = IndexState(-1, {}, [], [], BM25Index([], []), np.zeros((0, 1), dtype=np.float32), {})


def query_text(text: str, budget: int = MAX_QUERY_EMBED_CHARS) -> str:
    """The part of a question that is embedded. An embedding costs about quadratically in tokens
    (a 2 000-character question of random characters took 14 s here) and a question's meaning is
    in its first sentences, so it is cut: a Latin letter, digit or space counts one, any other
    character six (a tokenizer splits a rare character into several pieces)."""
    used = 0
    for i, ch in enumerate(text):
        used += 1 if ord(ch) < 0x250 else 6
        if used > budget:
            return text[:i]
    return text


def _shown(path: object) -> str:
    """A requested path as it may appear in a report: bounded and printable."""
    text = str(path).encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= 120 else text[:60] + "…" + text[-40:]


def _searching_wide(collection, ef_search: int):
    """The collection with HNSW's query-time breadth set to `ef_search` (0: Chroma's default).
    Chroma rebuilds its HNSW graph from its log when it opens, not always in the same order, so
    at the default breadth (100) the 40 nearest passages could differ from one start to the next
    (measured: 9 of 120 questions' dense hits changed between two runs over 1 436 passages; none
    at 1 000). The same question should get the same answer after a restart."""
    if ef_search <= 0:
        return collection
    try:
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search") != ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
    except Exception as exc:  # an older server without mutable configuration: keep its default
        log.warning("could not set hnsw ef_search=%s: %s", ef_search, exc)
    return collection


class CouncilIndex:
    """Everything the assistant reads; safe to share between request threads."""

    QUERY_VECTORS = 2_048   # ~3 MB of question embeddings (384 floats each)
    WORD_VECTORS = 20_000   # ~30 MB of single words' embeddings (an English question's words matched by meaning)

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.roots = parse_roots(settings.ingest_roots, settings.corpus_dir)
        # embedded Chroma: this process owns the data directory (a Chroma server may be shared)
        self._owner = None if settings.chroma_url else own(settings.data_dir)
        self._local = threading.local()
        self._load_lock = threading.Lock()
        self._reloading = threading.Event()
        self._embedder = embedder
        self._collection = None
        self._numbers: tuple[IndexState, dict[str, set[str]]] | None = None
        self._query_vectors = VectorCache(self.QUERY_VECTORS)
        self._word_vectors = VectorCache(self.WORD_VECTORS)
        db = self._db
        db.executescript(SCHEMA)
        columns = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
        if "level" not in columns:  # a store from before access levels: everything was public
            db.execute("ALTER TABLE documents ADD COLUMN level TEXT NOT NULL DEFAULT 'public'")
        self._state = EMPTY
        self.refresh()

    def close(self) -> None:
        """Release the store: this thread's SQLite connection and the data directory."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        if self._owner:
            disown(self._owner)
            self._owner = None

    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (WAL: readers do not wait for the writer, nor it for them)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.settings.sqlite_path, timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

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
            collection = client.get_or_create_collection(
                self.settings.collection, embedding_function=None, metadata={"hnsw:space": "cosine"})
            self._collection = _searching_wide(collection, getattr(self.settings, "hnsw_ef_search", 0))
        return self._collection

    # -- the state readers see --------------------------------------------------------
    @property
    def state(self) -> IndexState:
        return getattr(self._local, "pinned", None) or self._state

    chunks = property(lambda self: self.state.chunks)
    facts = property(lambda self: self.state.facts)
    discrepancies = property(lambda self: self.state.discrepancies)
    bm25 = property(lambda self: self.state.bm25)
    fact_vectors = property(lambda self: self.state.fact_vectors)
    _loaded_generation = property(lambda self: self.state.generation)

    @contextmanager
    def snapshot(self):
        """Pin the current state for this thread: one request reads one consistent index even if
        a write swaps in a new state meanwhile (that one is loaded in the background)."""
        if getattr(self._local, "pinned", None) is not None:
            yield self._local.pinned
            return
        self._refresh_soon()
        self._local.pinned = self._state
        try:
            yield self._local.pinned
        finally:
            self._local.pinned = None

    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def refresh(self, force: bool = False) -> bool:
        """Reload when the store changed (here or in another process). A thread that has pinned a
        snapshot never waits for a reload: it is started in the background instead."""
        if not force and getattr(self._local, "pinned", None) is not None:
            self._refresh_soon()
            return False
        with self._load_lock:
            if not force and self.generation() == self._state.generation:
                return False
            self._state = self._load()
            return True

    def _refresh_soon(self) -> None:
        if self._reloading.is_set() or self.generation() == self._state.generation:
            return
        self._reloading.set()

        def reload() -> None:
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - the next request tries again
                log.exception("background reload failed")
            finally:
                self._reloading.clear()

        threading.Thread(target=reload, name="council-reload", daemon=True).start()

    def _load(self) -> IndexState:
        db = self._db
        if not db.in_transaction:
            db.execute("BEGIN")  # one read transaction: every table as of the same commit
        try:
            gen = self.generation()
            rows = db.execute('SELECT chunk_id, source, title, section, text, start, "end", page, kind, entity, meta '
                              "FROM chunks ORDER BY source, ord").fetchall()
            facts = [Fact(**json.loads(d)) for (d,) in db.execute("SELECT data FROM facts")]
            discrepancies = [Discrepancy(**json.loads(d)) for (d,) in db.execute("SELECT data FROM discrepancies")]
            levels = dict(db.execute("SELECT source, level FROM documents"))
        finally:
            db.commit()
        chunks = {}
        for cid, source, title, section, text, start, end, page, kind, entity, meta in rows:
            chunks[cid] = Chunk(cid, source, title, section.split(" > ") if section else [], text, start,
                                end, kind, page, entity, json.loads(meta or "{}"))
        ids = list(chunks)
        return IndexState(gen, chunks, facts, discrepancies, BM25Index(ids, [chunks[i].index_text() for i in ids]),
                          self._fact_vectors(facts, chunks), levels)

    def _fact_vectors(self, facts: list[Fact], chunks: dict[str, Chunk]) -> np.ndarray:
        """Each fact shares the vector of the passage it stands in (from the cache, embedded at
        ingest). A vector per fact descriptor cost a fifth of ingest's embedding and scored no
        better on the golden and held-out sets (README, "Fact descriptors")."""
        if not facts:
            return np.zeros((0, 1), dtype=np.float32)
        by_source: dict[str, list[Chunk]] = {}
        for c in sorted(chunks.values(), key=lambda c: c.start):
            by_source.setdefault(c.source, []).append(c)
        starts = {s: [c.start for c in cs] for s, cs in by_source.items()}
        texts = []
        for f in facts:
            own = by_source.get(f.source)
            texts.append(own[max(bisect.bisect_right(starts[f.source], f.start) - 1, 0)].index_text()
                         if own else f.descriptor())
        unique = list(dict.fromkeys(texts))  # many facts stand in one passage: look each up once
        vectors = dict(zip(unique, self._embed(unique)))
        return np.vstack([vectors[t] for t in texts]).astype(np.float32)

    def numbers_index(self) -> dict[str, set[str]]:
        """Every number in a passage or its section path → those passages (for pinning `191/26`,
        `§ 76`), built on first use for each state."""
        state, cached = self.state, self._numbers
        if cached is not None and cached[0] is state:
            return cached[1]
        numbers: dict[str, set[str]] = {}
        for cid, chunk in state.chunks.items():
            for n in set(re.findall(r"\d+", chunk.text + " " + chunk.section)):
                numbers.setdefault(n.lstrip("0") or n, set()).add(cid)
        self._numbers = (state, numbers)
        return numbers

    def query_vector(self, text: str) -> np.ndarray:
        """The question's embedding; the last QUERY_VECTORS questions' are kept (a question asked
        again, or read twice by a chat, costs a model run only once). Read-only."""
        return self._query_vectors.get([query_text(text)], lambda keys: [self.embedder.embed_query(k) for k in keys])[0]

    def word_vectors(self, words: Sequence[str]) -> np.ndarray:
        """Single words embedded as passages (one row each); the last WORD_VECTORS words' are kept."""
        return np.stack(self._word_vectors.get(list(words), self.embedder.embed_passages)) if words \
            else np.zeros((0, 0), dtype=np.float32)

    def visible_sources(self, levels: frozenset[str] | None) -> set[str] | None:
        """The documents a caller with these access levels may see; None when that is all of them."""
        known = self.state.levels
        if levels is None or all(lv in levels for lv in set(known.values())):
            return None
        return {s for s, lv in known.items() if lv in levels}

    def documents(self, levels: frozenset[str] | None = None) -> list[dict]:
        rows = self._db.execute("SELECT source, title, fmt, chunks, facts, ingested_at, level, "
                                "json_extract(structure, '$.metadata') FROM documents ORDER BY source").fetchall()
        return [dict(source=r[0], title=r[1], format=r[2], chunks=r[3], facts=r[4], ingested_at=r[5], level=r[6],
                     metadata=json.loads(r[7] or "{}"))
                for r in rows if levels is None or r[6] in levels]

    def resolve_id(self, name: str, levels: frozenset[str] | None = None) -> str | None:
        """A document's id from its id or, when exactly one document has them, its last path
        components ("2026-05-19_KSNAU_motesbok.md" → "corpus/2026-05-19_KSNAU_motesbok.md").
        With `levels`, only documents of those levels count: a file name shared with a document
        the caller may not read must resolve as if that document did not exist."""
        for source, level in self._db.execute("SELECT source, level FROM documents WHERE source=?", (name,)):
            return source if levels is None or level in levels else None
        tail = "/" + name.strip("/")
        found = [s for s, level in self._db.execute("SELECT source, level FROM documents WHERE substr(source, -?) = ?",
                                                    (len(tail), tail)).fetchall()
                 if levels is None or level in levels]
        return found[0] if len(found) == 1 else None

    def document(self, source: str, levels: frozenset[str] | None = None) -> dict | None:
        """A document by its id (or unique file name, see resolve_id), if these levels may read it."""
        source = self.resolve_id(source, levels) or source
        r = self._db.execute("SELECT source, title, fmt, chunks, facts, ingested_at, structure, level "
                             "FROM documents WHERE source=?", (source,)).fetchone()
        if not r or (levels is not None and r[7] not in levels):
            return None
        structure = json.loads(r[6] or "{}")
        report = structure.pop("ingest_report", {})
        return dict(source=r[0], title=r[1], format=r[2], chunks=r[3], facts=r[4], ingested_at=r[5],
                    metadata=structure.get("metadata") or {}, structure=structure, report=report, level=r[7])

    def document_text(self, source: str) -> str | None:
        r = self._db.execute("SELECT text FROM documents WHERE source=?", (self.resolve_id(source) or source,)).fetchone()
        return r[0] if r else None

    def dense_search(self, query: str, k: int = 30, where: dict | None = None,
                     vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        chunks = self.chunks
        if not chunks:
            return []
        vec = (vector if vector is not None else self.query_vector(query)).tolist()  # the same length cap
        allowed = _source_filter(where)
        if allowed is not None and 2 * len(allowed) >= len(self.state.levels):
            # most documents allowed (a caller who may not see a few internal ones): an unfiltered
            # nearest-neighbour query, filtered afterwards, is far cheaper than Chroma's filtered one
            res = self.collection.query(query_embeddings=[vec], n_results=min(2 * k, len(chunks)),
                                        include=["distances"])
            hits = [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])
                    if cid in chunks and chunks[cid].source in allowed]
            if len(hits) >= k or len(res["ids"][0]) == len(chunks):
                return hits[:k]
        res = self.collection.query(query_embeddings=[vec], n_results=min(k, len(chunks)),
                                    where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0]) if cid in chunks]

    # -- writing ----------------------------------------------------------------------
    def _bump_generation(self) -> None:
        self._db.execute("INSERT INTO meta(key, value) VALUES('generation', ?) ON CONFLICT(key) DO UPDATE "
                         "SET value=excluded.value", (str(self.generation() + 1),))

    def ingest_paths(self, paths: list[Path | str], progress: bool = False, sync_dir: Path | None = None, *,
                     confined: bool = False, level: str | None = None, on_progress=None,
                     allowed_levels: frozenset[str] | None = None) -> IngestReport:
        """Ingest files (folders are walked); unchanged files cost a hash. `confined` (always, for a
        request from the network: the API sets it) reads only files under the ingest roots; the
        operator's own calls (CLI local mode, tests, eval) may name any folder, which then acts as
        its own root. With `sync_dir`, documents that came from that folder and are gone from it
        are removed."""
        start = time.perf_counter()
        report = IngestReport()
        targets: dict[str, FileTarget] = {}
        walked: set[str] = set()  # identity prefixes whose walk completed (safe to sync)
        for p in paths:
            try:
                real, root = resolve_request(p, self.roots, confined, level)
                found = list(walk(real, root, self.roots, self.settings.max_files - len(targets), confined,
                                  max_entries=self.settings.max_files * 20))
            except PathRejected as exc:
                report.errors[_shown(p)] = f"{_shown(p)}: {exc}"
                continue
            if allowed_levels is not None and root.level not in allowed_levels:
                report.errors[_shown(p)] = f"{_shown(p)}: {NOT_ALLOWED}"  # writes only what the key may read
                continue
            walked.add(identity(real, root))
            for t in found:
                targets.setdefault(t.source, t)
        self.ingest_targets(list(targets.values()), report, progress=progress, on_progress=on_progress)
        if sync_dir is not None:
            try:
                real, root = resolve_request(sync_dir, self.roots, confined, level)
                prefix = identity(real, root)
            except PathRejected:
                prefix = None
            if prefix in walked:  # never sync after a walk that was refused: that would remove everything
                for (source,) in self._db.execute("SELECT source FROM documents").fetchall():
                    if source.startswith(prefix + "/") and source not in targets:
                        self._remove(source)  # refreshed once below
                        report.removed.append(source)
        self.refresh()
        report.seconds = round(time.perf_counter() - start, 3)
        return report

    def ingest_targets(self, targets: list[FileTarget], report: IngestReport, progress: bool = False,
                       on_progress=None) -> IngestReport:
        """Read, parse and store each file whose content (or access level) changed."""
        known = {s: (h, lv) for s, h, lv in self._db.execute("SELECT source, sha256, level FROM documents")}
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        iterator = targets
        if progress and targets:
            from tqdm import tqdm

            iterator = tqdm(targets, desc="Läser in", unit="fil")
        for done, t in enumerate(iterator):
            if on_progress:
                on_progress(done, len(targets), t.source)
            try:
                data = read_bytes(t.path, max_bytes, t.source)  # type and size checked before reading
                digest = f"{hashlib.sha256(data).hexdigest()}:{PARSER_VERSION}"
                if known.get(t.source, (None, None))[0] == digest:
                    if known[t.source][1] != t.level:
                        self._set_level(t.source, t.level)
                    report.unchanged.append(t.source)
                    continue
                parsed = parse_document(read_document(t.path, source=t.source, data=data))
                del data
                self._store(parsed, str(t.path), digest, t.level)
                report.files[t.source] = parsed.report
            except DocumentReadError as exc:
                report.errors[t.source] = str(exc)
                continue
            except Exception as exc:  # one bad file must not stop the others
                log.exception("ingest failed for %s", t.source)
                report.errors[t.source] = f"{t.source}: oväntat fel vid inläsning ({type(exc).__name__})"
                continue
            (report.updated if t.source in known else report.added).append(t.source)
        if on_progress:
            on_progress(len(targets), len(targets), None)
        self.refresh()
        return report

    def _set_level(self, source: str, level: str) -> None:
        with self._writing(), self._db:
            self._db.execute("UPDATE documents SET level=? WHERE source=?", (level, source))
            self._bump_generation()

    def _writing(self):
        """One writer at a time, across processes too (see locks.py)."""
        return writing(self.settings.data_dir)

    def rebuild_vectors(self) -> int:
        """Recreate the Chroma collection from SQLite (embeddings come from the cache). A crash
        half-way is repaired by the next start's `reconcile()`."""
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

    def _store(self, doc: ParsedDocument, path: str, digest: str, level: str = "public") -> None:
        fresh: list[tuple[str, bytes]] = []  # new embedding-cache rows: committed with the document
        vectors = self._embed([c.index_text() for c in doc.chunks], fresh)  # facts share these (_fact_vectors)
        with self._writing():
            self._mark_pending(doc.source, "store")
            self.collection.delete(where={"source": doc.source})
            crash_point("chroma_delete")
            self._add_vectors(doc.chunks, vectors)
            crash_point("chroma_add")
            with self._db:  # one transaction: the document appears whole or not at all
                self._db.executemany("INSERT OR REPLACE INTO embedding_cache VALUES (?, ?)", fresh)
                self._delete_rows(doc.source)
                self._db.execute(
                    "INSERT INTO documents (source, path, title, fmt, sha256, chunks, facts, ingested_at, structure, "
                    "text, embedder, level) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.source, path, doc.title, doc.fmt, digest, len(doc.chunks), len(doc.facts),
                     time.strftime("%Y-%m-%dT%H:%M:%S"),
                     # the ingest report rides in the structure JSON: no schema change for old stores
                     json.dumps({**doc.structure, "ingest_report": doc.report}, ensure_ascii=False),
                     doc.text, self.embedder.name, level))
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
                self._db.execute("DELETE FROM pending WHERE source=?", (doc.source,))
                self._bump_generation()
            crash_point("commit")

    def _mark_pending(self, source: str, op: str) -> None:
        """Written before Chroma is touched: if the process dies before the commit, the next start
        rewrites this document's vectors from SQLite (see reconcile)."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?)",
                             (source, op, time.strftime("%Y-%m-%dT%H:%M:%S")))
        crash_point("pending")

    def _embed(self, texts: list[str], fresh: list | None = None) -> list:
        """Embeddings, re-using those of passages embedded before by the same model. New cache rows
        are appended to `fresh` when given (the caller commits them), else committed here."""
        keys = [hashlib.sha1(f"{self.embedder.name}\0{t}".encode()).hexdigest() for t in texts]
        cached = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = self._db.execute(f"SELECT key, vector FROM embedding_cache WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall()
            cached.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        missing = [i for i, k in enumerate(keys) if k not in cached]
        if missing:
            new = self.embedder.embed_passages([texts[i] for i in missing])
            rows = [(keys[i], new[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)]
            if fresh is not None:
                fresh.extend(rows)
            else:
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO embedding_cache VALUES (?, ?)", rows)
            for j, i in enumerate(missing):
                cached[keys[i]] = new[j]
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
            self._mark_pending(source, "remove")
            self.collection.delete(where={"source": source})
            crash_point("chroma_delete")
            with self._db:
                self._delete_rows(source)
                self._db.execute("DELETE FROM pending WHERE source=?", (source,))
                self._bump_generation()
        return True

    # -- repair -----------------------------------------------------------------------
    def reconcile(self, full: bool = True) -> dict:
        """Make Chroma agree with SQLite: vectors of documents a write was interrupted on are
        rewritten, orphan vectors deleted, missing ones restored from the embedding cache.
        `full=False` skips the id comparison when nothing is pending and the counts agree."""
        with self._writing():
            db = self._db
            pending = [s for (s,) in db.execute("SELECT source FROM pending")]
            listed = dict(db.execute("SELECT chunk_id, source FROM chunks"))
            if not full and not pending and self.collection.count() == len(listed):
                return {"pending": [], "orphans": 0, "restored": 0}
            present = self._chroma_ids()
            orphans = sorted(present - listed.keys())
            for i in range(0, len(orphans), 500):
                self.collection.delete(ids=orphans[i:i + 500])
            redo = set(pending)
            for source in pending:  # the interrupted write may have left vectors under the same ids
                self.collection.delete(where={"source": source})
            missing = [cid for cid, src in listed.items() if cid not in present or src in redo]
            chunks = self._chunks_by_id(missing)
            self._add_vectors(chunks, self._embed([c.index_text() for c in chunks]))
            with db:
                db.execute("DELETE FROM pending")
        if pending or orphans or missing:
            log.warning("reconciled the index: pending %s, %d orphan vectors deleted, %d restored",
                        pending, len(orphans), len(chunks))
        return {"pending": pending, "orphans": len(orphans), "restored": len(chunks)}

    def _chroma_ids(self) -> set[str]:
        ids: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self.collection.get(include=[], limit=page, offset=offset)["ids"]
            ids.update(got)
            if len(got) < page:
                return ids
            offset += page

    def _chunks_by_id(self, ids: list[str]) -> list[Chunk]:
        out = []
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = self._db.execute(
                'SELECT chunk_id, source, title, section, text, start, "end", page, kind, entity, meta FROM chunks '
                f"WHERE chunk_id IN ({','.join('?' * len(part))})", part).fetchall()
            out.extend(Chunk(cid, source, title, section.split(" > ") if section else [], text, start, end, kind,
                             page, entity, json.loads(meta or "{}"))
                       for cid, source, title, section, text, start, end, page, kind, entity, meta in rows)
        return out


def _source_filter(where: dict | None) -> set[str] | None:
    """The sources of a `{"source": {"$in": [...]}}` filter, or None for any other filter."""
    if where and set(where) == {"source"} and isinstance(where["source"], dict) and set(where["source"]) == {"$in"}:
        return set(where["source"]["$in"])
    return None


def _chroma_meta(c: Chunk) -> dict:
    meta = {"source": c.source, "section": c.section, "start": c.start, "end": c.end, "kind": c.kind}
    if c.page is not None:
        meta["page"] = c.page
    if c.entity:
        meta["entity"] = c.entity
    return meta
