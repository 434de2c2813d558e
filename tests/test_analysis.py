"""Pure query-analysis and answer-support helpers (no index needed)."""
import numpy as np

from assistant.analysis import analyse, detect_language
from assistant.conversation import resolve_follow_up
from eval.bench import ReplicaEmbedder
from ingest.facts import text_facts
from ingest.model import Block


def test_language_detection():
    assert detect_language("What is the last day to register for Inera's annual general meeting?") == "en"
    assert detect_language("How much does the municipality pay Vän i Umeå in 2026?") == "en"  # a name with ä
    assert detect_language("Who reserved against § 76?") == "en"
    assert detect_language("vad kostar lokaler for umea pastorat 2027") == "sv"  # Swedish without å/ä/ö
    assert detect_language("Hur mycket far Pingstkyrkn fran komunen 2026?") == "sv"
    assert detect_language("Hur bakar man kanelbullar?") == "sv"


def test_change_questions_are_differences():
    assert analyse("Hur har finansieringen förändrats mellan perioderna?").operation == "diff"
    assert analyse("Hur mycket väntas antalet anställda öka?").operation == "diff"
    assert analyse("Hur mycket betalar kommunen 2027?").operation is None


def test_taking_one_amount_from_another_is_a_difference():
    assert analyse("Vad återstår av anslaget om man drar av hyran?").operation == "diff"
    assert analyse("Vad blir kostnaden efter avdrag för statsbidraget?").operation == "diff"
    assert analyse("Vad är budgeten minus personalkostnaderna?").operation == "diff"


def test_follow_up_year_is_replaced():
    assert resolve_follow_up(["Hur mycket får Vän i Umeå 2027?"], "Och 2028?") == "Hur mycket får Vän i Umeå 2028?"


def test_year_in_parentheses_and_from_to_units():
    text = ("Umeå kommuns finansiering uppgår till 1,98 mkr (2022) och 2,6 mkr (2023). "
            "Antalet anställda väntas öka från 1 905 till 2 293 medarbetare.")
    facts = text_facts(Block("text", 0, len(text), text), "x.md", "", None)
    by_value = {f.value: f for f in facts}
    assert by_value[1.98].year == 2022 and by_value[2.6].year == 2023
    assert by_value[2.6].label.startswith("och 2,6")  # not "2022) och 2,6 mkr"
    assert by_value[1905].unit == "st" and by_value[2293].unit == "st"


class _Counting:
    name, dim = "fake", 2

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += len(texts)
        return np.ones((len(texts), 2), dtype=np.float32)

    def embed_query(self, text):
        return np.ones(2, dtype=np.float32)


def test_bench_replicas_reuse_vectors_only_when_asked():
    inner = _Counting()
    emb = ReplicaEmbedder(inner)
    emb.embed_passages(["Ärende 191/26 pistmaskin"])
    emb.embed_passages(["Ärende 191/27 pistmaskin"])  # a replica, but reuse is off: embedded
    assert inner.calls == 2
    emb.reuse = True
    emb.embed_passages(["Ärende 191/28 pistmaskin", "något helt annat"])
    assert inner.calls == 3 and emb.reused == 1
