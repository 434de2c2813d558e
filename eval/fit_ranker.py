"""Fit the answer ranker and report leave-one-document-out accuracy.

    python -m eval.fit_ranker --questions eval/golden.jsonl [--questions eval/heldout.jsonl] [--write]

For every question the readers propose their candidates (the same code path as `ask`). A
candidate is *positive* when, written as the lead of an answer on its own, it passes the
question's checks (text, number, cited source): the label is what the user would see, not a
hand-made notion of relevance. A logistic regression over `assistant.ranker.FEATURES` is fitted
on pairs of candidates (right minus wrong), then again with each question's hardest wrong
candidates paired once more, and the abstention threshold is the one that maximises accuracy on the same
training questions (answer when the best candidate scores at or above it).

Leave-one-document-out: questions are grouped by their `source` document (questions without
one, such as out-of-corpus abstentions, are spread over the groups); each group is scored by
a model fitted on all other groups. `--write` fits on everything and writes
`assistant/ranker.json` (weights, bias, threshold, the data it was fitted on).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from assistant.compose import Citations, compose
from assistant.ranker import FEATURES, MODEL_PATH, Ranker, Scored, answer_features
from assistant.settings import Settings
from eval.runner import check

C = 1.0  # inverse regularisation strength of the logistic regression
HARD_NEGATIVES = 5  # per question, the wrong candidates scoring highest after the first fit, paired again
ANSWER_FOLDS = 5    # document groups the answerability model's rankings are cross-fitted over


def _response(q, ranked):
    cites = Citations()
    answer, figures, _ = compose(q, ranked, cites)
    return {"answer": answer, "abstained": False, "figures": [f.model_dump() for f in figures],
            "citations": [c.model_dump() for c in cites.items]}


def collect(assistant, questions: list[dict]) -> list[dict]:
    """Each question's candidates with features and labels."""
    ev = assistant.evidence()
    rows = []
    for item in questions:
        q, hits, candidates = assistant.read(item["question"])
        candidates, _ = assistant.admit(q, candidates)  # the same gates as `ask`
        ev = assistant.evidence()
        # in an order of their own, not the shipped model's: ties in the fit and in the rankings it
        # scores are then broken the same way whatever `assistant/ranker.json` holds
        scored = sorted((Scored(s.candidate, s.features, 0.0) for s in assistant.ranker.rank(q, candidates, ev)),
                        key=lambda s: (s.candidate.source, s.candidate.start, s.candidate.end, s.candidate.reader,
                                       s.candidate.evidence))
        labels = []
        for s in scored:
            if item.get("abstain"):
                labels.append(0)
                continue
            resp = _response(q, [s])
            labels.append(int(not check(item, resp)))
        rows.append({"item": item, "q": q, "scored": scored, "labels": labels, "hits": hits})
    return rows


def _pairwise(X: list, y: list, w: list) -> Ranker:
    """The order model: a logistic regression on feature differences (right minus wrong), no bias."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=3000, fit_intercept=False)
    weights = np.asarray(w)
    model.fit(np.asarray(X), np.asarray(y), sample_weight=weights * len(weights) / weights.sum())
    return Ranker(dict(zip(FEATURES, model.coef_[0].tolist())), 0.0)


def _order(rows: list[dict]) -> Ranker:
    """The candidate model: which candidate of a question is the answer."""
    # stage 1, pairwise: within a question, a right candidate should score above a wrong one
    # every question weighs the same, however many candidates its readers proposed
    X, y, w = [], [], []
    for r in rows:
        pos = [s.features for s, lab in zip(r["scored"], r["labels"]) if lab]
        neg = [s.features for s, lab in zip(r["scored"], r["labels"]) if not lab]
        for p in pos:
            for n in neg:
                d = np.subtract(p, n)
                X.extend([d, -d])
                y.extend([1, 0])
                w.extend([1.0 / (len(pos) * len(neg))] * 2)
    if not X:
        return Ranker.load(Path("/nonexistent"))
    ranker = _pairwise(X, y, w)
    # stage 1b, the hard negatives: only the top of a ranking is read, so the pairs that matter most
    # are a question's best right candidate against the wrong ones scoring highest so far. They are
    # added to all pairs (not instead of them), and the model is fitted once more.
    for r in rows:
        scored = [(ranker.score(s.features), s.features, lab) for s, lab in zip(r["scored"], r["labels"])]
        pos = [x for x in scored if x[2]]
        if not pos:
            continue
        best = max(pos, key=lambda x: x[0])[1]
        hardest = sorted((x for x in scored if not x[2]), key=lambda x: -x[0])[:HARD_NEGATIVES]
        for _, n, _ in hardest:
            d = np.subtract(best, n)
            X.extend([d, -d])
            y.extend([1, 0])
            w.extend([1.0 / len(hardest)] * 2)
    return _pairwise(X, y, w)


def _held_out_orders(rows: list[dict], folds: int) -> dict[int, Ranker]:
    """For each row, a candidate model fitted without its document's questions (`folds` groups of
    documents): the rankings the answerability model learns from are then as good as the ones it
    will meet on new documents, not the better ones of questions the candidate model was fitted on."""
    by = groups(rows)
    names = sorted(by)
    parts = [[r for n in names[k::folds] for r in by[n]] for k in range(min(folds, len(names)))]
    models: dict[int, Ranker] = {}
    for k, part in enumerate(parts):
        model = _order([r for j, p in enumerate(parts) if j != k for r in p])
        models.update({id(r): model for r in part})
    return models


def fit(rows: list[dict], folds: int = ANSWER_FOLDS) -> Ranker:
    from sklearn.linear_model import LogisticRegression

    ranker = _order(rows)
    # stage 2: is the best candidate right? (per question; abstention questions are never right),
    # learnt from rankings of candidate models that did not see the question's document
    held = _held_out_orders(rows, folds) if folds > 1 else {}
    AX, ay, tops = [], [], []
    for r in rows:
        ranked = _rank(held.get(id(r), ranker), r["scored"])
        if not ranked:
            continue
        ok = not r["item"].get("abstain") and not check(r["item"], _response(r["q"], ranked))
        AX.append(answer_features(r["q"], ranked))
        ay.append(int(ok))
        tops.append((bool(r["item"].get("abstain")), ok))
    if len(set(ay)) == 2:
        second = LogisticRegression(C=C, max_iter=3000)
        second.fit(np.asarray(AX), np.asarray(ay))
        ranker.answer_weights = second.coef_[0].tolist()
        ranker.answer_bias = float(second.intercept_[0])
    ranker.threshold = _threshold(ranker, AX, tops)
    return ranker


def _rank(ranker: Ranker, scored: list[Scored]) -> list[Scored]:
    return sorted((Scored(s.candidate, s.features, ranker.score(s.features)) for s in scored), key=lambda s: -s.score)


def _threshold(ranker: Ranker, features: list[tuple], tops: list[tuple[bool, bool]]) -> float:
    """The answerability below which abstaining is right more often than answering (on these rows:
    each row's answerability features and whether it should abstain, whether its best is right)."""
    scored = [(ranker.answerability(x), a, ok) for x, (a, ok) in zip(features, tops)]
    best, best_t = -1, 0.5
    for t in sorted({round(x[0], 4) for x in scored} | {0.0, 1.01}):
        correct = sum((a and p < t) or (ok and p >= t) for p, a, ok in scored)
        if correct > best or (correct == best and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = correct, t
    return best_t


def evaluate(ranker: Ranker, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        ranked = _rank(ranker, r["scored"])
        item = r["item"]
        if not ranked or ranker.abstains(r["q"], ranked):
            resp = {"answer": "", "abstained": True, "figures": [], "citations": []}
        else:
            resp = _response(r["q"], ranked)
        failures = check(item, resp)
        out.append({"id": item["id"], "kind": item["kind"], "source": item.get("source"), "ok": not failures,
                    "failures": failures, "answer": resp["answer"][:300], "chars": len(resp["answer"])})
    return out


def groups(rows: list[dict]) -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = defaultdict(list)
    loose = []
    for r in rows:
        (by[r["item"]["source"]] if r["item"].get("source") else loose).append(r)
    names = sorted(by)
    for i, r in enumerate(loose):
        by[names[i % len(names)] if names else "-"].append(r)
    return by


def report(title: str, results: list[dict]) -> float:
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        kinds[r["kind"]][0] += r["ok"]
        kinds[r["kind"]][1] += 1
    acc = sum(r["ok"] for r in results) / max(1, len(results))
    med = statistics.median([r["chars"] for r in results]) if results else 0
    print(f"{title}: {sum(r['ok'] for r in results)}/{len(results)} = {acc:.3f}  (median answer {med:.0f} chars)")
    print("   " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(kinds.items())))
    return acc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", action="append", required=True)
    ap.add_argument("--write", action="store_true", help="fit on all questions and write assistant/ranker.json")
    ap.add_argument("--failures", action="store_true")
    ap.add_argument("--test", action="append", default=[],
                    help="a held-out question file scored with the model fitted on --questions (never fitted on)")
    args = ap.parse_args(argv)
    from assistant.service import Assistant
    from index.store import CouncilIndex

    questions = [json.loads(line) for p in args.questions for line in open(p, encoding="utf-8") if line.strip()]
    assistant = Assistant(CouncilIndex(Settings()))
    t = time.time()
    rows = collect(assistant, questions)
    print(f"collected {sum(len(r['scored']) for r in rows)} candidates for {len(rows)} questions "
          f"({sum(1 for r in rows if any(r['labels']))} with a correct candidate) in {time.time() - t:.0f} s")
    by = groups(rows)
    held: list[dict] = []
    for name, part in sorted(by.items()):
        train = [r for n, p in by.items() if n != name for r in p]
        held.extend(evaluate(fit(train), part))
    report("leave-one-document-out", held)
    full = fit(rows)
    results = evaluate(full, rows)
    report("fitted on all (training accuracy)", results)
    if args.failures:
        for r in held:
            if not r["ok"]:
                print(f"  FAIL {r['id']} {r['kind']}: {'; '.join(r['failures'])} | {r['answer'][:160]!r}")
    for path in args.test:
        test_rows = collect(assistant, [json.loads(x) for x in open(path, encoding="utf-8") if x.strip()])
        tested = evaluate(full, test_rows)
        report(f"test {path}", tested)
        if args.failures:
            for r in tested:
                if not r["ok"]:
                    print(f"  FAIL {r['id']} {r['kind']}: {'; '.join(r['failures'])} | {r['answer'][:200]!r}")
    if args.write:
        MODEL_PATH.write_text(json.dumps({
            **full.to_dict(), "fitted_on": [str(p) for p in args.questions], "questions": len(rows), "C": C,
        }, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
