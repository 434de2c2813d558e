"""Our reader, retriever and query engine in a small LlamaIndex pipeline, fully offline: no
default LLM or embedding model may be resolved on the way."""
import numpy as np
import pytest
from llama_index.core import Settings as LISettings
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.postprocessor import SimilarityPostprocessor
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import ResponseMode, get_response_synthesizer
from llama_index.core.schema import QueryBundle

from assistant.llamaindex import CouncilEmbedding, CouncilQueryEngine, CouncilReader, CouncilRetriever
from conftest import FIXTURES, TINY_CORPUS, HashEmbedder

GLANTAN_2027 = "Hur mycket betalar Exempelby kommun till Föreningen Gläntan 2027?"


@pytest.fixture(autouse=True)
def no_default_models():
    """Fail if anything asks LlamaIndex for its default (online) LLM or embedding model (it would
    also fail to import: llama-index-llms-openai is not installed); a test may set a mock itself."""
    LISettings._llm = LISettings._embed_model = None
    yield
    assert LISettings._llm is None or isinstance(LISettings._llm, MockLLM), "a LlamaIndex default LLM was resolved"
    assert LISettings._embed_model is None, "a LlamaIndex default embedding model was resolved"
    LISettings._llm = None


@pytest.fixture(scope="module")
def faces(tiny_settings):
    from conftest import tiny_app

    return tiny_app(tiny_settings).state.faces


def test_reader_yields_passages_with_council_metadata():
    docs = CouncilReader().load_data(FIXTURES / "protokoll_exempelby.txt", extra_info={"kommun": "Exempelby"})
    assert docs and len({d.id_ for d in docs}) == len(docs)
    text = (FIXTURES / "protokoll_exempelby.txt").read_text()
    for d in docs:
        m = d.metadata
        assert m["source"] == "protokoll_exempelby.txt" and m["kommun"] == "Exempelby" and m["format"] == "txt"
        assert text[m["start"]:m["end"]] == d.text  # offsets point at the passage as printed
        assert "start" not in d.get_content(metadata_mode="embed")
    reservation = next(d for d in docs if "reserverar sig" in d.text)
    assert reservation.metadata["paragraph"] == "§ 12" and reservation.metadata["body"] == "Kommunfullmäktige"
    assert reservation.metadata["date"] == "2025-11-24"
    iop = CouncilReader().load_data(FIXTURES / "iop_exempelby.md")
    assert {d.metadata.get("party") for d in iop} == {"Föreningen Gläntan"}


def test_reader_as_a_file_extractor_into_a_vector_index():
    reader = SimpleDirectoryReader(input_files=[str(p) for p in TINY_CORPUS],
                                   file_extractor={".md": CouncilReader(), ".txt": CouncilReader()})
    docs = reader.load_data()
    assert {d.metadata["source"] for d in docs} == {p.name for p in TINY_CORPUS}
    assert all("file_path" in d.metadata for d in docs)  # SimpleDirectoryReader's own metadata is kept
    index = VectorStoreIndex.from_documents(docs, embed_model=CouncilEmbedding(HashEmbedder()))
    hits = index.as_retriever(similarity_top_k=1).retrieve("Vilka reserverar sig mot beslutet?")
    assert "reserverar sig" in hits[0].node.get_content()


def test_retriever_in_a_retriever_query_engine(faces):
    retriever = CouncilRetriever(faces, k=4)
    nodes = retriever.retrieve(QueryBundle("Bo Berg reserverar sig"))
    assert nodes and nodes[0].node.metadata["source"] == "fixtures/protokoll_exempelby.txt"
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
    top = nodes[0].node.metadata
    assert top["url"].endswith(f"/dokument/fixtures/protokoll_exempelby.txt?start={top['start']}&end={top['end']}#markering")
    assert top["paragraph"] == "§ 12"
    # LlamaIndex's NO_TEXT synthesizer looks up Settings.llm although it never calls it: a mock, explicitly
    LISettings.llm = MockLLM()
    engine = RetrieverQueryEngine(retriever=retriever, node_postprocessors=[SimilarityPostprocessor(similarity_cutoff=0.0)],
                                  response_synthesizer=get_response_synthesizer(response_mode=ResponseMode.NO_TEXT))
    response = engine.query("Vilka reserverade sig mot budgeten?")
    assert response.source_nodes and response.source_nodes[0].node.metadata["source"] == "fixtures/protokoll_exempelby.txt"


def test_query_engine_returns_the_cited_answer(faces):
    response = CouncilQueryEngine(faces=faces).query(GLANTAN_2027)
    assert "462 000 kr [1]" in str(response)
    assert response.metadata["figures"][0]["value"] == 462000 and not response.metadata["abstained"]
    first = response.source_nodes[0].node
    assert first.metadata["citation"] == 1 and "462 000" in first.get_content()
    assert first.metadata["url"].startswith("http://127.0.0.1:8000/dokument/fixtures/iop_exempelby.md?start=")
    none = CouncilQueryEngine(faces=faces, base_url="https://rad.example.se").query("Hur bakar man kanelbullar?")
    assert none.metadata["abstained"] and not none.source_nodes


def test_embedding_adapter_uses_our_embedder():
    class Counting:
        name, dim = "fake", 2

        def __init__(self):
            self.calls = 0

        def embed_passages(self, texts):
            self.calls += len(texts)
            return np.ones((len(texts), 2), dtype=np.float32)

        def embed_query(self, text):
            return np.ones(2, dtype=np.float32)

    inner = Counting()
    emb = CouncilEmbedding(inner)
    assert emb.get_text_embedding("ett stycke") == [1.0, 1.0] and inner.calls == 1
    assert emb.get_query_embedding("en fråga") == [1.0, 1.0]
    assert emb.get_text_embedding_batch(["a", "b"]) == [[1.0, 1.0]] * 2 and inner.calls == 3
    assert emb.model_name == "fake"

