"""English question words matched to the passages' Swedish words (assistant/bridge.py)."""
import numpy as np

from assistant.bridge import bridge, english_words
from assistant.query import analyze
from index.vectors import VectorCache

# a fake embedder: each word's vector is its meaning's axis; translations share an axis
MEANING = {"renovated": 0, "renoverade": 0, "tenant": 1, "beviljar": 1, "contract": 2, "kontraktet": 2,
           "skolorna": 3, "fasaderna": 4}


def embed(words):
    out = np.zeros((len(words), 8), dtype=np.float32)
    for i, w in enumerate(words):
        out[i, MEANING.get(w, 5 + i % 2)] = 1.0
        out[i, 7] += 0.2  # nothing is orthogonal to everything
    return out / np.linalg.norm(out, axis=1, keepdims=True)


PASSAGES = ["Fasaderna på de renoverade skolorna och kontraktet med entreprenören gäller tio år.",
            "Nämnden beviljar ansökan."]


def test_an_english_word_becomes_the_passage_word_that_means_it_and_is_spelt_alike():
    q = analyze("How many schools were renovated under the contract?")
    assert {"renovated", "contract"} <= set(english_words(q))
    bridged = bridge(q, PASSAGES, embed)
    assert "renoverade" in bridged.terms and "kontraktet" in bridged.terms
    assert "renovated" not in bridged.terms
    # "tenant" means "beviljar" to this embedder, but the words are not spelt alike: no match
    q = analyze("Which tenant was decided?")
    assert "beviljar" not in bridge(q, PASSAGES, embed).terms


def test_a_swedish_question_and_a_word_the_passages_lack_are_left_alone():
    q = analyze("Hur många skolor renoverades?")
    assert bridge(q, PASSAGES, embed) is q
    q = analyze("How long was the school renovated by the consultant?")
    assert "consultant" in bridge(q, PASSAGES, embed).terms


def test_word_vectors_are_kept_for_a_bounded_number_of_words():
    calls = []

    def counting(words):
        calls.append(list(words))
        return embed(words)

    vectors = VectorCache(size=3)
    vectors.get(["skolorna", "fasaderna"], counting)
    vectors.get(["skolorna", "fasaderna"], counting)
    assert calls == [["skolorna", "fasaderna"]]  # the second time from the cache
    vectors.get(["renoverade", "kontraktet"], counting)
    assert len(vectors) == 3
    assert np.stack(vectors.get(["skolorna"], counting)).shape == (1, 8)
