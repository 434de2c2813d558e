"""Hybrid retrieval: BM25 (Swedish stems) and dense (e5) fused by reciprocal rank fusion,
with identifiers in the question (`195/26`, `§ 76`, `KS-2025/00667`) pinned first."""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.store import CouncilIndex
from ingest.model import Chunk

from .analysis import Query

RRF_K = 60


@dataclass
class Hit:
    chunk: Chunk
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None


def _id_pattern(identifier: str) -> re.Pattern:
    if identifier.startswith("§"):
        return re.compile(r"§\s*" + re.escape(identifier[1:].strip()) + r"\b")
    if re.fullmatch(r"\d+/\d+", identifier):
        return re.compile(r"(?<![\d/])" + re.escape(identifier) + r"(?!\d)")
    body = re.escape(identifier).replace(r"\-", r"[-\s]?")
    return re.compile(body, re.I)


def retrieve(index: CouncilIndex, q: Query, k: int = 8, sources: set[str] | None = None,
             pool: int = 40) -> list[Hit]:
    """`sources`: the documents the hits may come from; None is every document, an empty set none."""
    if sources is not None and not sources:
        return []
    bm = index.bm25.search(q.search_text, k=pool * 2 if sources else pool, query_tokens=q.tokens)
    where = {"source": {"$in": sorted(sources)}} if sources else None
    dense = index.dense_search(q.search_text, k=pool, where=where, vector=q.vector)
    hits: dict[str, Hit] = {}
    for rank, (cid, _) in enumerate(x for x in bm if not sources or index.chunks[x[0]].source in sources):
        h = hits.setdefault(cid, Hit(index.chunks[cid], 0.0))
        h.bm25_rank = rank
        h.score += 1.0 / (RRF_K + rank)
    for rank, (cid, _) in enumerate(dense):
        h = hits.setdefault(cid, Hit(index.chunks[cid], 0.0))
        h.dense_rank = rank
        h.score += 1.0 / (RRF_K + rank)
    if q.identifiers:
        patterns = [_id_pattern(i) for i in q.identifiers]
        numbers = index.numbers_index()
        maybe: set[str] = set()
        for ident in q.identifiers:  # only passages holding the identifier's number can hold it
            core = max(re.findall(r"\d+", ident) or [""], key=len)
            maybe |= numbers.get(core.lstrip("0") or core, set())
        for cid in sorted(maybe):
            chunk = index.chunks[cid]
            if sources and chunk.source not in sources:
                continue
            n = sum(bool(p.search(chunk.text) or p.search(chunk.section)) for p in patterns)
            if n:
                h = hits.setdefault(cid, Hit(chunk, 0.0))
                h.score += 0.05 * n + (0.02 if any(p.search(chunk.section) for p in patterns) else 0)
    return sorted(hits.values(), key=lambda h: -h.score)[:k]
