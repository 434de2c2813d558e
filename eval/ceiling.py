"""The candidate ceiling: which questions no reader proposes a right candidate for, and where
the answer was lost.

    python -m eval.ceiling --questions eval/golden.jsonl --questions eval/heldout.jsonl [--json out.json]

Candidates are collected exactly as `eval/fit_ranker.py` collects them (the same readers, gates
and labels: a candidate is right when, composed alone as the lead of an answer, it passes the
question's checks). For every answerable question with no right candidate the expected strings
and number are looked for, in order, in the source document as ingested, in the retrieved
passages and in the candidates' evidence, which places the loss:

- `not in document`: the reader of the file lost it (or the expectation is computed/absent),
- `not retrieved`: the document has it, the passages read do not,
- `not a candidate`: a retrieved passage has it, no candidate's evidence does (sentence cut,
  table cell, list),
- `candidate, answer fails`: some candidate holds it, but composed alone it fails (wrong value
  picked, a second document or value needed, a missing citation).

Abstention questions are not part of the ceiling (no candidate can be right for them). The
per-question lines say what the retrieved passages and best candidates look like, to name the
mechanism that is missing; that naming is done by a person, not here.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict

from assistant.settings import Settings
from eval.fit_ranker import _response, collect
from eval.runner import check, norm, number_matches, numbers_in

PASSAGES = 10   # the passages the sentence reader reads (SENTENCE_PASSAGES)


def needles(item: dict) -> tuple[list[str], dict | None]:
    texts = list(item.get("expect_all") or []) + list(item.get("expect_any") or [])
    number = item.get("expect_number") or ((item.get("expect_number_any") or [None])[0])
    return texts, number


def holds_part(text: str, item: dict) -> bool:
    """Whether a text holds at least one of the expected pieces."""
    t = norm(text)
    texts, number = needles(item)
    if any(norm(s) in t for s in texts):
        return True
    return bool(number) and number_matches(number, numbers_in(text))


def locate(assistant, row: dict) -> str:
    item = row["item"]
    texts = assistant._sync().texts
    doc = texts.get(next((s for s in texts if s.endswith(item.get("source", "\0"))), ""), "")
    passages = [h.chunk.text for h in row["hits"][:PASSAGES]]
    evidence = [s.candidate.evidence for s in row["scored"]]
    if doc and not holds_part(doc, item):
        return "not in document"
    if not any(holds_part(p, item) for p in passages):
        return "not retrieved"
    if not any(holds_part(e, item) for e in evidence):
        return "not a candidate"
    return "candidate, answer fails"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", action="append", required=True)
    ap.add_argument("--json", help="write the misses with their evidence to this file")
    ap.add_argument("--quiet", action="store_true", help="only the counts")
    args = ap.parse_args(argv)
    from assistant.service import Assistant
    from index.store import CouncilIndex

    questions = [json.loads(line) for p in args.questions for line in open(p, encoding="utf-8") if line.strip()]
    assistant = Assistant(CouncilIndex(Settings()))
    rows = collect(assistant, questions)
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    where = Counter()
    misses = []
    for r in rows:
        item = r["item"]
        if item.get("abstain"):
            continue
        ok = any(r["labels"])
        by_kind[item["kind"]][0] += ok
        by_kind[item["kind"]][1] += 1
        if ok:
            continue
        loss = locate(assistant, r)
        where[loss] += 1
        ranked = sorted(r["scored"], key=lambda s: -assistant.ranker.score(s.features))
        best = []
        for s in ranked[:3]:
            c = s.candidate
            best.append({"reader": c.reader, "source": c.source, "rank": c.rank, "evidence": c.evidence[:240],
                         "fails": check(item, _response(r["q"], [s]))})
        holding = [s.candidate for s in r["scored"] if holds_part(s.candidate.evidence, item)]
        misses.append({
            "id": item["id"], "kind": item["kind"], "question": item["question"], "loss": loss,
            "expected": {k: v for k, v in item.items() if k.startswith("expect") or k in ("formula", "also_source")},
            "source": item.get("source"), "answer_type": r["q"].answer_type, "operation": r["q"].operation,
            "passages": [{"source": h.chunk.source, "section": h.chunk.section[:80],
                          "holds": holds_part(h.chunk.text, item)} for h in r["hits"][:PASSAGES]],
            "holding_candidates": [{"reader": c.reader, "evidence": c.evidence[:300]} for c in holding[:4]],
            "best": best,
        })
    total = sum(v[0] for v in by_kind.values())
    print(f"ceiling: {total}/{sum(v[1] for v in by_kind.values())} answerable questions have a right candidate "
          f"({len(rows)} questions in all)")
    print("   " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_kind.items())))
    print("misses by where the answer was lost: " + ", ".join(f"{k} {n}" for k, n in where.most_common()))
    if not args.quiet:
        for m in misses:
            print(f"\n{m['id']} [{m['kind']}, {m['answer_type']}/{m['operation']}] {m['loss']}: {m['question']}")
            print(f"   expected {json.dumps(m['expected'], ensure_ascii=False)}")
            print("   passages: " + ", ".join(f"{p['source'].split('/')[-1][:28]}{'*' if p['holds'] else ''}"
                                              for p in m["passages"]))
            for c in m["holding_candidates"][:2]:
                print(f"   holds ({c['reader']}): {c['evidence'][:200]!r}")
            for b in m["best"][:2]:
                print(f"   best ({b['reader']}, r{b['rank']}): {b['evidence'][:160]!r} -> {'; '.join(b['fails'])[:120]}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(misses, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
