"""A measured simulation of the query path at 1M chunks (`python -m eval.scale_sim --chunks 1000000`).

What a question costs at that size, component by component, each measured in this process:
- BM25: our `BM25Index` (bm25s, Snowball Swedish stems) over N synthetic passages made from the
  sample corpus's own passages (random passage, its numbers replaced, a random tag word), so the
  vocabulary and lengths are the corpus's;
- dense: a Chroma collection (the same engine as `chroma run`) with N 384-d vectors, clustered
  around the sample corpus's number of passages like real embeddings, queried for 40
  neighbours with and without a `source $in` filter;
- SQLite: the chunk rows fetched for one answer (40 ids) from a table of N rows.
Memory is the process's RSS growth for each structure. Figures (facts) are not simulated: their
cost per fact is taken from the 100× bench in the README. Results: eval/results/scale-<N>-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.runner import load_questions, memory_mb, percentile

ROOT = Path(__file__).resolve().parent.parent
DIM = 384


def corpus_passages() -> list[str]:
    from ingest.pipeline import parse_document
    from ingest.readers import read_document

    out = []
    for f in sorted((ROOT / "data" / "corpus").iterdir()):
        out.extend(c.index_text() for c in parse_document(read_document(f)).chunks)
    return out


def synthetic(passages: list[str], n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    digits = re.compile(r"\d")
    return [digits.sub(lambda _: str(rnd.randrange(10)), rnd.choice(passages)) + f" dok{rnd.randrange(n // 50 + 1)}"
            for _ in range(n)]


def timed(fn, repeat: list) -> dict:
    lat = []
    for x in repeat:
        t = time.perf_counter()
        fn(x)
        lat.append(time.perf_counter() - t)
    lat.sort()
    return {"p50_ms": round(statistics.median(lat) * 1000, 1), "p95_ms": round(percentile(lat, 0.95) * 1000, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=1_000_000)
    ap.add_argument("--skip", default="", help="comma-separated: bm25,dense,sqlite")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    n = args.chunks
    questions = [q["question"] for q in load_questions(ROOT / "eval" / "golden.jsonl")][:100]
    result: dict = {"chunks": n}
    base = memory_mb()
    passages = corpus_passages()
    t = time.perf_counter()
    texts = synthetic(passages, n)
    result["texts"] = {"make_s": round(time.perf_counter() - t, 1), "rss_mb": round(memory_mb() - base)}
    print(json.dumps(result), flush=True)
    ids = [f"c{i}" for i in range(n)]

    if "bm25" not in skip:
        from index.bm25 import BM25Index

        before = memory_mb()
        t = time.perf_counter()
        bm25 = BM25Index(ids, texts)
        result["bm25"] = {"build_s": round(time.perf_counter() - t, 1), "rss_mb": round(memory_mb() - before),
                          **timed(lambda q: bm25.search(q, k=80), questions)}
        print(json.dumps(result["bm25"]), flush=True)
        del bm25

    if "sqlite" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            db = sqlite3.connect(Path(tmp) / "chunks.sqlite3")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, source TEXT, text TEXT)")
            t = time.perf_counter()
            with db:
                db.executemany("INSERT INTO chunks VALUES (?,?,?)", ((i, f"s{k // 200}", x)
                                                                       for k, (i, x) in enumerate(zip(ids, texts))))
            rnd = random.Random(1)
            picks = [rnd.sample(ids, 40) for _ in range(100)]
            result["sqlite"] = {"load_s": round(time.perf_counter() - t, 1),
                                "file_mb": round((Path(tmp) / "chunks.sqlite3").stat().st_size / 1048576),
                                **timed(lambda p: db.execute(f"SELECT * FROM chunks WHERE chunk_id IN "
                                                             f"({','.join('?' * len(p))})", p).fetchall(), picks)}
            db.close()
        print(json.dumps(result["sqlite"]), flush=True)

    if "dense" not in skip:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        rng = np.random.default_rng(3)
        centroids = rng.normal(size=(len(passages), DIM)).astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            before = memory_mb()
            client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
            col = client.create_collection("sim", embedding_function=None, metadata={"hnsw:space": "cosine"})
            t = time.perf_counter()
            batch = 5000
            for i in range(0, n, batch):
                m = min(batch, n - i)
                v = centroids[rng.integers(0, len(centroids), m)] + 0.35 * rng.normal(size=(m, DIM)).astype(np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                col.add(ids=ids[i:i + m], embeddings=v,
                        metadatas=[{"source": f"s{(i + j) // 200}"} for j in range(m)])
            add_s = time.perf_counter() - t
            queries = [(centroids[k] + 0.35 * rng.normal(size=DIM)).astype(np.float32) for k in
                       rng.integers(0, len(centroids), 100)]
            sources = [f"s{k}" for k in range(0, n // 200, max(1, n // 200 // 50))][:50]
            result["dense"] = {"add_s": round(add_s, 1), "add_per_s": round(n / add_s),
                               "rss_mb": round(memory_mb() - before),
                               "disk_mb": round(sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
                                                / 1048576),
                               "query": timed(lambda q: col.query(query_embeddings=[q.tolist()], n_results=40,
                                                                  include=["distances"]), queries),
                               "query_filtered_50_sources": timed(
                                   lambda q: col.query(query_embeddings=[q.tolist()], n_results=40,
                                                       where={"source": {"$in": sources}}, include=["distances"]),
                                   queries[:30])}
        print(json.dumps(result["dense"]), flush=True)

    result["peak_rss_mb"] = round(memory_mb())
    out = ROOT / "eval" / "results" / time.strftime(f"scale-{n}-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
