"""`make bench`, load part: the real server on loopback under concurrent clients.

1. 20 clients ask golden questions for 60 s (latency, requests/s, errors);
2. the same while a 3-document ingest runs through the API (answers per second during it);
3. the server's RSS before and after each of four 2 000-request fuzz rounds (random and malformed
   questions, chats with long histories, filters, searches): it rises while the bounded word
   caches fill, then stays flat.

The store (data/bench-store, real embedder) is built on the first run and re-used; the three
documents of the ingest are copies of corpus documents under a second ingest root, so their
passages come from the embedding cache and the ingest costs parsing and writing, as a re-read
archive would. Results: eval/results/load-<time>.json, a line in eval/results/history.jsonl.
Reported, not asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from urllib.parse import quote

import httpx

from eval.runner import append_history, load_questions, memory_mb, percentile

ROOT = Path(__file__).resolve().parent.parent
EDITOR_KEY = "bench-editor-key-0123456789"


def prepare(store: Path, extra: Path) -> None:
    from assistant.settings import Settings
    from index.store import CouncilIndex

    index = CouncilIndex(Settings(data_dir=store))
    t = time.perf_counter()
    report = index.ingest_paths([ROOT / "data" / "corpus"], sync_dir=ROOT / "data" / "corpus", confined=False)
    print(f"store ready: {len(report.added) + len(report.updated)} (re)ingested, {len(report.unchanged)} unchanged, "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    index.close()
    extra.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(["2022_IOP_Van_i_Umea_forslag.md", "2024_Programrapport_social_hallbarhet.md",
                              "2026_IFN_verksamhetsplan_och_budget.txt"]):
        shutil.copy(ROOT / "data" / "corpus" / name, extra / f"kopia{i}_{name}")


def _wait_until_up(url: str, proc: subprocess.Popen, seconds: float, failure) -> None:
    """Until `url` answers 200; `failure()` says why when the process died or time ran out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure())
        time.sleep(0.3)


class ChromaServer:
    """`chroma run` over the store's own vector directory, for several API workers to share."""

    def __init__(self, store: Path, port: int) -> None:
        chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([chroma, "run", "--path", str(store / "chroma"), "--host", "127.0.0.1",
                                      "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_until_up(self.url + "/api/v2/heartbeat", self.proc, 60, lambda: "chroma run did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def tree_memory_mb(pid: int) -> float:
    """RSS of a process and its children (a server's workers), in MB."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += memory_mb(pid=p)
        try:
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return total


class Server:
    def __init__(self, store: Path, extra: Path, port: int, workers: int = 1, chroma_url: str | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COUNCIL_DATA_DIR": str(store),
               "COUNCIL_API_KEYS": json.dumps({"bench": {"key": EDITOR_KEY, "role": "editor"}}),
               "COUNCIL_ANONYMOUS_READ": "true",
               "COUNCIL_INGEST_ROOTS": json.dumps([str(ROOT / "data" / "corpus"), {"path": str(extra)}])}
        if chroma_url:
            env["COUNCIL_CHROMA_URL"] = chroma_url
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port),
                                      "--workers", str(workers)], env=env,
                                     cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_until_up(self.base + "/healthz", self.proc, 300,
                       lambda: "server did not start:\n" + self.proc.stderr.read().decode()[-3000:])

    def stop(self) -> float:
        t = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -1.0
        return round(time.perf_counter() - t, 2)


def load(base: str, questions: list[str], clients: int, seconds: float, during=None) -> dict:
    """`clients` threads ask in turn for `seconds`; `during(t0)` runs beside them (the ingest)."""
    done: list[tuple[float, float, int]] = []  # (finished at, latency, status)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            i = n
            while time.monotonic() < stop_at:
                q = questions[i % len(questions)]
                i += clients
                t = time.monotonic()
                try:
                    status = http.post("/api/ask", json={"question": q}).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    done.append((time.monotonic(), time.monotonic() - t, status))

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for th in threads:
        th.start()
    extra = during(t0) if during else {}
    for th in threads:
        th.join()
    lat = sorted(x[1] for x in done)
    errors = sum(1 for x in done if x[2] != 200)
    per_second = [0] * int(seconds + 1)
    for at, _, status in done:
        if status == 200 and int(at - t0) < len(per_second):
            per_second[int(at - t0)] += 1
    out = {"requests": len(done), "errors": errors, "rps": round(len(done) / seconds, 1),
           "p50_s": round(statistics.median(lat), 3) if lat else None,
           "p95_s": round(percentile(lat, 0.95), 3) if lat else None, "max_s": round(lat[-1], 3) if lat else None}
    if extra.get("window"):
        a, b = extra.pop("window")
        window = per_second[int(a):int(b) + 1] or [0]
        out.update({"answers_per_s_during_ingest_min": min(window),
                    "answers_per_s_during_ingest_mean": round(sum(window) / len(window), 1)})
    out.update(extra)
    return out


def ingest_during(base: str, extra: Path):
    def run(t0: float) -> dict:
        headers = {"X-API-Key": EDITOR_KEY}
        time.sleep(5)
        start = time.monotonic()
        job = httpx.post(base + "/api/ingest", json={"paths": [str(extra)]}, headers=headers, timeout=60).json()
        while job.get("state") not in ("done", "failed"):
            time.sleep(0.2)
            job = httpx.get(f"{base}/api/jobs/{job['id']}", headers=headers, timeout=60).json()
        end = time.monotonic()
        result = job.get("result") or {}
        return {"ingest_s": round(end - start, 2), "ingest_state": job["state"],
                "ingested": len(result.get("added", [])) + len(result.get("updated", [])),
                "window": (start - t0, end - t0)}
    return run


def remove_extra(base: str, extra: Path) -> None:
    for f in sorted(extra.iterdir()):
        httpx.delete(f"{base}/api/documents/{extra.name}/{f.name}", headers={"X-API-Key": EDITOR_KEY}, timeout=120)


def fuzz_requests(n: int, seed: int) -> list[tuple[str, str, dict]]:
    """Random and malformed requests of every kind a reader can send."""
    rnd = random.Random(seed)
    alphabet = "abcåäöÅÄÖ0123456789 §/-,.?!\t\n€\u00a0\u2009" + "".join(chr(rnd.randrange(0x20, 0x2FFF)) for _ in range(200))

    def text(lo: int, hi: int) -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(lo, hi)))

    out = []
    for _ in range(n):
        kind = rnd.random()
        if kind < 0.3:
            body = {"question": text(1, 2100)}
            if rnd.random() < 0.4:
                body["filters"] = rnd.choice([{"date_from": text(1, 12)}, {"source": [text(1, 40)]},
                                              {"body": text(1, 30), "doc_type": rnd.choice(["md", "pdf", "x"])}])
            out.append(("POST", "/api/ask", {"json": body}))
        elif kind < 0.55:
            msgs = [{"role": rnd.choice(["user", "assistant"]), "content": text(1, 6000)}
                    for _ in range(rnd.randint(1, 40))] + [{"role": "user", "content": text(1, 300)}]
            out.append(("POST", "/api/chat", {"json": {"messages": msgs}}))
        elif kind < 0.7:
            out.append(("GET", "/api/search", {"params": {"q": text(0, 300), "k": rnd.randint(-5, 80)}}))
        elif kind < 0.8:
            out.append(("GET", "/api/facts", {"params": {"label": text(0, 20), "year": rnd.randint(1990, 2035),
                                                         "limit": rnd.randint(-1, 20000)}}))
        elif kind < 0.9:
            out.append(("GET", "/api/documents/" + quote(text(1, 80), safe="/"), {}))
        else:
            out.append(("POST", "/api/ask", {"content": os.urandom(rnd.randint(1, 3000)),
                                             "headers": {"Content-Type": "application/json"}}))
    return out


def fuzz(base: str, n: int, seed: int, clients: int = 20) -> dict:
    requests = fuzz_requests(n, seed)
    statuses: dict[int, int] = {}
    slowest = [0.0]
    lock = threading.Lock()

    def client(part: list) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for method, path, kw in part:
                t = time.monotonic()
                try:
                    status = http.request(method, path, **kw).status_code
                except httpx.TransportError:  # the connection failed or timed out: counted as a server error
                    status = 0
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    slowest[0] = max(slowest[0], time.monotonic() - t)

    t = time.monotonic()
    threads = [threading.Thread(target=client, args=(requests[i::clients],)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"requests": n, "seconds": round(time.monotonic() - t, 1), "server_errors": sum(
        v for k, v in statuses.items() if k >= 500 or k == 0), "statuses": dict(sorted(statuses.items())),
            "slowest_s": round(slowest[0], 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8401)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--fuzz", type=int, default=2000, help="requests per fuzz round")
    ap.add_argument("--fuzz-rounds", type=int, default=4)
    ap.add_argument("--store", default=str(ROOT / "data" / "bench-store"))
    ap.add_argument("--questions", default=str(ROOT / "eval" / "golden.jsonl"))
    ap.add_argument("--workers", type=int, default=1,
                    help="API worker processes; above 1 they share a `chroma run` server over the store's vectors")
    args = ap.parse_args()
    store = Path(args.store)
    extra = store.parent / "bench-extra"
    prepare(store, extra)
    questions = [q["question"] for q in load_questions(args.questions)]
    chroma = ChromaServer(store, args.port + 1) if args.workers > 1 else None
    server = Server(store, extra, args.port, args.workers, chroma.url if chroma else None)
    result: dict = {"clients": args.clients, "seconds": args.seconds, "workers": args.workers}
    try:
        remove_extra(server.base, extra)
        httpx.post(server.base + "/api/ask", json={"question": "uppvärmning"}, timeout=120)  # lazily built state
        result["idle"] = load(server.base, questions, args.clients, args.seconds)
        print("idle:", json.dumps(result["idle"]), flush=True)
        result["during_ingest"] = load(server.base, questions, args.clients, args.seconds,
                                       during=ingest_during(server.base, extra))
        print("during ingest:", json.dumps(result["during_ingest"]), flush=True)
        remove_extra(server.base, extra)
        rss = {"before_mb": round(tree_memory_mb(server.proc.pid)), "rounds": []}
        for seed in range(1, args.fuzz_rounds + 1):  # later rounds show whether it stays flat
            row = fuzz(server.base, args.fuzz, seed=seed)
            row["rss_after_mb"] = round(tree_memory_mb(server.proc.pid))
            rss["rounds"].append(row)
            print(f"fuzz round {seed}:", json.dumps(row), flush=True)
        result["memory"] = rss
        print("memory:", json.dumps(rss), flush=True)
    finally:
        result["sigterm_stop_s"] = server.stop()
        if chroma:
            chroma.stop()
    out = ROOT / "eval" / "results" / time.strftime("load-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    append_history({"run": out.name, "load": result})
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
