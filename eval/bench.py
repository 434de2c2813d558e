"""`make bench`: cold and warm ingest, embedding throughput, answer latency and memory.

Each scale replicates the sample corpus N times with changed identifiers (file names,
ärendenummer, diarienummer and party names get a suffix) to simulate a larger archive.
Results go to eval/results/bench-<time>.json and are printed as a table.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

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


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(scale: int, questions: list[dict]) -> dict:
    from assistant.service import Assistant
    from assistant.settings import Settings
    from index.store import CouncilIndex

    work = Path(tempfile.mkdtemp(prefix=f"council-bench-{scale}x-"))
    try:
        docs = replicate(ROOT / "data" / "corpus", work / "corpus", scale)
        settings = Settings(data_dir=work / "store", corpus_dir=work / "corpus")
        index = CouncilIndex(settings)
        t = time.perf_counter()
        report = index.ingest_paths([settings.corpus_dir], sync_dir=settings.corpus_dir)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        index.ingest_paths([settings.corpus_dir], sync_dir=settings.corpus_dir)
        warm = time.perf_counter() - t
        sample = [c.index_text() for c in list(index.chunks.values())[:64]]
        t = time.perf_counter()
        index.embedder.embed_passages(sample)
        throughput = len(sample) / (time.perf_counter() - t)
        assistant = Assistant(index)
        assistant.ask("uppvärmning")  # first call loads lazily-built state
        lat = []
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q["question"])
            lat.append(time.perf_counter() - t)
        lat.sort()
        return {"scale": scale, "documents": docs, "chunks": len(index.chunks), "facts": len(index.facts),
                "errors": len(report.errors), "cold_ingest_s": round(cold, 1), "warm_reingest_s": round(warm, 3),
                "embed_chunks_per_s": round(throughput, 1),
                "answer_p50_ms": round(statistics.median(lat) * 1000, 1),
                "answer_p95_ms": round(lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] * 1000, 1),
                "rss_mb": round(rss_mb(), 0)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1", help="comma-separated replication factors, e.g. 1,10,100")
    ap.add_argument("--questions", default=str(ROOT / "eval" / "golden.jsonl"))
    args = ap.parse_args()
    questions = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    rows = [bench(int(s), questions) for s in args.scales.split(",")]
    out = ROOT / "eval" / "results" / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    keys = list(rows[0])
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(str(r[k]) for k in keys))
    print(f"(written to {out}; RSS is the process peak, so later scales include earlier ones)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
