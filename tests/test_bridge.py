"""English question words matched to the passages' Swedish words (assistant/bridge.py)."""
import numpy as np

from assistant.bridge import WordVectors, bridge, english_words
from assistant.query import analyze

# a fake embedder: each word's vector is its meaning's axis; translations share an axis
MEANING = {"inspected": 0, "inspekterade": 0, "lease": 1, "skickar": 1, "length": 2, "vägarna": 3, "gatorna": 4,
           "privata": 5, "private": 5}


def embed(words):
    out = np.zeros((len(words), 8), dtype=np.float32)
    for i, w in enumerate(words):
        out[i, MEANING.get(w, 6 + i % 2)] = 1.0
        out[i, 7] += 0.2  # nothing is orthogonal to everything
    return out / np.linalg.norm(out, axis=1, keepdims=True)


PASSAGES = ["Längden av de inspekterade gatorna och de privata vägarna var 204,2 km.",
            "Stadsstyrelsen skickar ärendet till nämnden."]


def test_an_english_word_becomes_the_passage_word_that_means_it_and_is_spelt_alike():
    q = analyze("How many km of private roads were inspected in the survey?")
    assert {"inspected", "private"} <= set(english_words(q))
    bridged = bridge(q, PASSAGES, WordVectors(embed))
    assert "inspekterade" in bridged.terms and "privata" in bridged.terms
    assert "inspected" not in bridged.terms
    # "lease" means "skickar" to this embedder, but the words are not spelt alike: no match
    q = analyze("Which lease was decided?")
    assert "skickar" not in bridge(q, PASSAGES, WordVectors(embed)).terms


def test_a_swedish_question_and_a_word_the_passages_lack_are_left_alone():
    q = analyze("Hur många km privata vägar inspekterades?")
    assert bridge(q, PASSAGES, WordVectors(embed)) is q
    q = analyze("How long was the street inspected by the consultant?")
    assert "consultant" in bridge(q, PASSAGES, WordVectors(embed)).terms


def test_word_vectors_are_kept_for_a_bounded_number_of_words():
    calls = []

    def counting(words):
        calls.append(list(words))
        return embed(words)

    vectors = WordVectors(counting, size=3)
    vectors(["privata", "gatorna"])
    vectors(["privata", "gatorna"])
    assert calls == [["privata", "gatorna"]]  # the second time from the cache
    vectors(["inspekterade", "vägarna"])
    assert len(vectors._cache) == 3
    assert vectors(["privata"]).shape == (1, 8)
