"""Golden-set runner: accuracy by kind, citation hits, abstentions, retrieval hit@k/MRR, latency.

The checks are the same as ../shared/eval/score.py (text, numbers within 0.5 %, cited source,
abstention), implemented here so the project runs without the shared folder.
"""
from __future__ import annotations

import json
import re
import statistics
import time
import urllib.request
from pathlib import Path

MONEY = {"kr": 1, "kronor": 1, "sek": 1, "tkr": 1e3, "tusen kronor": 1e3, "mnkr": 1e6, "mkr": 1e6,
         "mknr": 1e6, "miljoner kronor": 1e6, "miljoner": 1e6, "mdkr": 1e9}
NUM = re.compile(r"(?<![\w,.])(-?\d{1,3}(?:[ \u00a0\u202f]\d{3})+|-?\d+)(?:[,.](\d+))?\s*"
                 r"(miljoner kronor|tusen kronor|mnkr|mkr|mknr|mdkr|tkr|kronor|kr|sek|miljoner|procent|%)?", re.I)


def norm(text) -> str:
    text = str(text).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def _kind(unit):
    u = norm(unit or "")
    if u in MONEY:
        return "money", MONEY[u]
    if u in ("%", "procent", "pct"):
        return "percent", 1
    return ("count", 1) if u else (None, 1)


def numbers_in(text) -> list[tuple[float, str]]:
    out = []
    for m in NUM.finditer(str(text).replace("\u2212", "-")):
        whole = re.sub(r"[ \u00a0\u202f]", "", m.group(1))
        out.append((float(whole + ("." + m.group(2) if m.group(2) else "")), m.group(3) or ""))
    return out


def number_matches(expected: dict, candidates) -> bool:
    ekind, escale = _kind(expected["unit"])
    for value, unit in candidates:
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        ckind, cscale = _kind(unit)
        if ckind is None or ekind in (None, "count"):
            got, want = value, expected["value"]
        elif ckind != ekind:
            continue
        else:
            got, want = value * cscale, expected["value"] * escale
        if abs(got - want) <= max(abs(want) * 0.005, 0.051):
            return True
    return False


def check(q: dict, resp: dict) -> list[str]:
    text = norm(resp.get("answer") or "")
    failures = []
    if q.get("abstain"):
        return [] if resp.get("abstained") else ["should abstain"]
    if resp.get("abstained"):
        failures.append("abstained")
    if "expect_any" in q and not any(norm(s) in text for s in q["expect_any"]):
        failures.append(f"text: none of {q['expect_any']}")
    if "expect_all" in q:
        missing = [s for s in q["expect_all"] if norm(s) not in text]
        if missing:
            failures.append(f"text: missing {missing}")
    wanted = q.get("expect_number_any") or ([q["expect_number"]] if "expect_number" in q else [])
    if wanted:
        cands = [(f.get("value"), f.get("unit")) for f in resp.get("figures") or []] + numbers_in(resp.get("answer"))
        if not any(number_matches(w, cands) for w in wanted):
            failures.append(f"number: {wanted} not found")
    sources = [str(c.get("source", "")) for c in resp.get("citations") or []]
    for key in ("source", "also_source"):
        if key in q and not any(s.endswith(q[key]) for s in sources):
            failures.append(f"{key}: {q[key]} not cited")
    return failures


def _ask_http(base: str, question: str) -> dict:
    req = urllib.request.Request(base.rstrip("/") + "/api/ask", data=json.dumps({"question": question}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read().decode())


def run(questions: list[dict], ask, search=None) -> dict:
    results, latencies = [], []
    for q in questions:
        start = time.perf_counter()
        try:
            resp = ask(q["question"])
            failures = check(q, resp)
        except Exception as exc:  # a failed request is a failed question
            resp, failures = {}, [f"request failed: {exc}"]
        latencies.append(time.perf_counter() - start)
        rank = None
        searched = bool(search and q.get("source") and not q.get("abstain"))
        if searched:
            rank = next((i + 1 for i, s in enumerate(search(q["question"])) if s.endswith(q["source"])), None)
        cited = bool(q.get("source")) and any(str(c.get("source", "")).endswith(q["source"])
                                               for c in resp.get("citations") or [])
        results.append({"id": q["id"], "kind": q["kind"], "ok": not failures, "failures": failures,
                        "cited_source": cited, "source_rank": rank, "searched": searched,
                        "abstained": bool(resp.get("abstained")), "answer": (resp.get("answer") or "")[:400]})
    return summarise(results, latencies)


def summarise(results: list[dict], latencies: list[float]) -> dict:
    by_kind: dict[str, list[int]] = {}
    for r in results:
        k = by_kind.setdefault(r["kind"], [0, 0])
        k[0] += r["ok"]
        k[1] += 1
    lat = sorted(latencies)
    answerable = [r for r in results if r["kind"] != "abstain"]
    ranked = [r for r in answerable if r["searched"]]  # a miss (no rank) counts against hit@k and MRR

    def hit(k: int) -> float | None:
        return round(sum(1 for r in ranked if r["source_rank"] and r["source_rank"] <= k) / len(ranked), 3) \
            if ranked else None
    return {
        "passed": sum(r["ok"] for r in results), "total": len(results),
        "score": round(sum(r["ok"] for r in results) / max(1, len(results)), 3),
        "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
        "citation_hit": round(sum(r["cited_source"] for r in answerable) / max(1, len(answerable)), 3),
        "abstained_when_answerable": sum(r["abstained"] for r in answerable),
        "abstain_correct": f"{sum(r['ok'] for r in results if r['kind'] == 'abstain')}/"
                           f"{sum(1 for r in results if r['kind'] == 'abstain')}",
        "retrieval_hit@1": hit(1), "retrieval_hit@5": hit(5),  # None over HTTP (no search to rank)
        "retrieval_mrr": round(sum(1 / r["source_rank"] for r in ranked if r["source_rank"]) / len(ranked), 3)
        if ranked else None,
        "latency_p50_s": round(statistics.median(lat), 3) if lat else None,
        "latency_p95_s": round(percentile(lat, 0.95), 3) if lat else None,
        "results": results,
    }


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (p95: `percentile(xs, 0.95)`)."""
    return sorted_values[min(len(sorted_values) - 1, int(round(p * (len(sorted_values) - 1))))]


def memory_mb(field: str = "VmRSS", pid: int | str = "self") -> float:
    """A process's memory from /proc (`VmRSS` now, `VmHWM` its peak), in MB; 0 where /proc is absent."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def load_questions(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


HISTORY = Path(__file__).resolve().parent / "results" / "history.jsonl"


def append_history(row: dict) -> None:
    """One line per run in a tracked file, so trends survive beside the (untracked) full results."""
    HISTORY.parent.mkdir(parents=True, exist_ok=True)
    with HISTORY.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **row}, ensure_ascii=False) + "\n")


def main(args) -> int:
    questions = load_questions(args.questions)
    if args.base_url:
        summary = run(questions, lambda q: _ask_http(args.base_url, q))
    else:
        from assistant.service import Assistant
        from assistant.settings import get_settings
        from index.store import CouncilIndex

        assistant = Assistant(CouncilIndex(get_settings()))
        search = lambda q: [h.chunk.source for h, _ in assistant.search(q, k=10)]
        summary = run(questions, lambda q: assistant.ask(q).model_dump(), search)
    out = Path(args.out) if args.out else Path(__file__).resolve().parent / "results" / \
        time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    append_history({"run": out.name, "questions": Path(args.questions).name,
                    **{k: v for k, v in summary.items() if k != "results"}})
    for r in summary["results"]:
        if args.verbose or not r["ok"]:
            print(f"{r['id']:5} {r['kind']:12} {'PASS' if r['ok'] else 'FAIL'} {'; '.join(r['failures'])}")
    print("by kind: " + ", ".join(f"{k} {v}" for k, v in summary["by_kind"].items()))
    print(f"citation hit {summary['citation_hit']}, abstain {summary['abstain_correct']}, "
          f"retrieval hit@1 {summary['retrieval_hit@1']} hit@5 {summary['retrieval_hit@5']} "
          f"MRR {summary['retrieval_mrr']}")
    print(f"latency p50 {summary['latency_p50_s']} s, p95 {summary['latency_p95_s']} s")
    print(f"score {summary['passed']}/{summary['total']} = {summary['score']}  (results: {out})")
    return 0
