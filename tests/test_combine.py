"""Readers that need more than one line: sentences over wrapped lines, a passage's heading,
two statements side by side, and figures computed from stated values."""
from assistant import query as T
from assistant.candidates import read_sentences
from assistant.combine import asks_two, read_agreement, read_arithmetic, read_pairs
from assistant.compose import Citations, compose
from assistant.query import analyze
from assistant.ranker import Scored
from assistant.statements import split_sentences
from ingest.model import Chunk


class _Hit:
    def __init__(self, chunk, rank=0):
        self.chunk, self.dense_rank, self.bm25_rank = chunk, rank, rank


def _read(question, *passages):
    hits = [_Hit(Chunk(f"c{i}", source, "Protokoll", [section] if section else [], text, 1000 * i,
                       1000 * i + len(text)), i)
            for i, (source, section, text) in enumerate(passages)]
    q = analyze(question)
    return q, read_sentences(q, hits)


def test_a_wrapped_line_of_prose_goes_on_with_a_capital_or_a_digit():
    text = ("Under hösten gjorde utredaren besök i flera kommuner, bland annat i Arvika samt i\n"
            "Lycksele kommun. Därefter hölls en workshop.\n"
            "Nämnden sammanträder första gången klockan 9.00 tisdagen den\n"
            "3 mars.\n"
            "Beslut\n"
            "Nämnden godkänner rapporten.")
    got = [s.text for s in split_sentences(text)]
    assert got[0] == "Under hösten gjorde utredaren besök i flera kommuner, bland annat i Arvika samt i Lycksele kommun."
    assert "Nämnden sammanträder första gången klockan 9.00 tisdagen den 3 mars." in got
    assert "Beslut" in got   # a short line without a full stop is a heading: it stands alone
    assert got[-1] == "Nämnden godkänner rapporten."


def test_a_passage_heading_is_read_with_its_first_line():
    q, cands = _read("Vilket diarienummer har ärendet Parkeringsnorm 2030?",
                     ("p.md", "§ 12 Dnr BN-2029-00042", "Parkeringsnorm 2030\n\nBeslut\n\nNämnden antar normen."))
    head = [c for c in cands if c.evidence.startswith("§ 12")]
    assert head and "Parkeringsnorm 2030" in head[0].evidence
    assert any(v.kind == T.IDENTIFIER and "BN-2029-00042" in v.text for v in head[0].values)


def test_questions_that_ask_for_two_statements():
    assert asks_two(analyze("Vem var ordförande och vem var sekreterare vid mötet?"))
    assert asks_two(analyze("Vilka justerade protokollen den 3 mars och den 7 april 2031?"))
    assert asks_two(analyze("Stämmer beloppet i tabellen med beloppet i texten?"))
    assert asks_two(analyze("Hur har avgiften ändrats i planen 2029 jämfört med planen 2031?"))
    assert not asks_two(analyze("Vem var ordförande vid mötet?"))
    assert not asks_two(analyze("Vad kostar bygget under perioden 2029–2031?"))
    # a comparative asks for a difference, as does a change by an amount
    assert analyze("Hur mycket högre är hyran för hus A än för hus B?").operation == "diff"
    assert analyze("How much higher is the rent of house A than of house B?").operation == "diff"
    assert analyze("Hur mycket höjs taxan för tillsyn?").operation == "diff"
    assert analyze("Vem var ordförande vid mötet?").operation is None
    assert analyze("Hur hög är bron?").operation is None


def test_two_roles_on_two_lines_are_paired_and_both_cited():
    q, cands = _read("Vem var ordförande och vem var sekreterare vid tekniska nämndens möte?",
                     ("a.md", "Sammanträde", "Ordförande    Eva Lind\n\nTekniska nämnden sammanträdde i rådhuset.\n\n"
                                             "Tekniska nämnden godkände dagordningen.\n\nSekreterare   Olle Berg\n\n"
                                             "Tekniska nämnden beslutade att lägga rapporten till handlingarna."))
    pairs = read_pairs(q, cands)
    both = [p for p in pairs if "Eva Lind" in p.evidence and "Olle Berg" in p.evidence]
    assert both and both[0].reader == "pair"
    answer, _, _ = compose(q, [Scored(both[0], (), 1.0)], cites := Citations())
    assert "Eva Lind" in answer and "Olle Berg" in answer and len(cites.items) == 2


def test_the_same_question_about_two_documents_pairs_them():
    q, cands = _read("Vilka var protokolljusterare den 3 mars och den 7 april 2031?",
                     ("mars.md", "Justering", "Protokolljusterare Anna Ek (C)"),
                     ("april.md", "Justering", "Protokolljusterare Bo Ström (M)"))
    pairs = read_pairs(q, cands)
    assert any({"Anna Ek", "Bo Ström"} <= {w for w in ("Anna Ek", "Bo Ström") if w in p.evidence} for p in pairs)
    assert not read_pairs(analyze("Vem var protokolljusterare?"), cands)   # one question, one statement


def test_the_same_question_about_two_documents_is_answered_by_the_same_reader_in_both():
    from assistant.candidates import Candidate
    from assistant.statements import values

    def cand(reader, source, start, text, context=""):
        return Candidate(reader=reader, source=source, start=start, end=start + len(text), evidence=text,
                         context=context, rank=0, values=tuple(values(text)))

    q = analyze("Vilka var protokolljusterare i tekniska nämnden den 3 mars respektive den 7 april 2031?")
    mars = cand("roles", "mars.md", 0, "Protokolljusterare: Anna Ek", "Tekniska nämnden, protokoll 3 mars 2031")
    april = cand("roles", "april.md", 0, "Protokolljusterare: Bo Ström")
    # sentences of the April protocol with more of the question's words, naming other persons
    others = [cand("sentence", "april.md", 500 + 100 * i, f"Tekniska nämnden utser den 7 april 2031 {name} till ombud.")
              for i, name in enumerate(("Eva Lind", "Olle Berg", "Kim Dahl", "Åsa Holm", "Per Falk", "Ida Sten"))]
    pairs = read_pairs(q, [mars, *others, april])
    assert any("Anna Ek" in p.evidence and "Bo Ström" in p.evidence for p in pairs)


def test_a_difference_of_two_stated_amounts_is_computed_with_both_cited():
    q, cands = _read("Hur många miljoner kronor högre var kostnaden för skolan än för biblioteket?",
                     ("a.md", "Investeringar", "Kostnaden för skolan uppgick till 48 mnkr."),
                     ("a.md", "Investeringar", "Kostnaden för biblioteket uppgick till 31 mnkr."))
    computed = read_arithmetic(q, cands)
    right = [c for c in computed if c.values[0].number == 17 and c.values[0].unit == "mnkr"]
    assert right and right[0].reader == "arithmetic"
    answer, figures, _ = compose(q, [Scored(right[0], (), 1.0)], cites := Citations())
    assert figures[0].value == 17 and figures[0].formula == "48 − 31" and len(cites.items) == 2
    assert "17 mnkr" in answer


def test_a_difference_within_one_statement_comes_before_one_across_two_that_only_add_words():
    # two statements together always have more of the question's words than one: the statement that
    # states both values decides, not the union of two unrelated ones
    q, cands = _read("Hur stor är sänkningen av färdtjänstavgiften för invånare över 65 år enligt beslutet?",
                     ("a.md", "Avgifter", "Beslutet innebär att avgiften sänks från 350 kronor till 300 kronor per resa."),
                     ("a.md", "Avgifter", "Färdtjänsten används av invånare över 65 år och kostar 120 kronor per invånare."))
    computed = read_arithmetic(q, cands)
    assert computed[0].values[0].number == 50 and computed[0].evidence.count("…") == 0


def test_a_value_stated_twice_with_a_small_difference_is_found_and_the_difference_computed():
    q, cands = _read("Stämmer hyran för lokalen Ekan mellan avtalet och beslutet?",
                     ("a.md", "Avtal", "Hyran för lokalen Ekan är 12 450 kronor per månad.\n\n"
                                       "Hyresgästen betalar el, 900 kronor per månad."),
                     ("a.md", "Beslut", "Nämnden godkänner avtalet om lokalen Ekan med en hyra på 12 540 kronor "
                                        "per månad."))
    found = read_agreement(q, cands)
    assert found and found[0].reader == "pair"
    assert "12 450" in found[0].evidence and "12 540" in found[0].evidence
    answer, figures, _ = compose(q, [Scored(found[0], (), 1.0)], cites := Citations())
    assert answer.startswith("Nej") and "90 kr" in answer and len(cites.items) == 2
    assert figures[0].value == 90 and figures[0].formula == "12 540 − 12 450"
    assert [r.citation for r in figures[0].rows] == [1, 2]


def test_a_value_stated_alike_twice_agrees_and_far_apart_values_are_not_compared():
    q, cands = _read("Stämmer bidraget till föreningen Lyktan i ansökan med det i nämndens beslut?",
                     ("b.md", "Beredning", "Föreningen Lyktan söker ett bidrag på 40 000 kronor. "
                                           "Föreningens omsättning är 2 300 000 kronor."),
                     ("b.md", "Förslag", "Nämnden beviljar föreningen Lyktan ett bidrag på 40 000 kronor."))
    found = read_agreement(q, cands)
    assert found and all("2 300 000" not in v.text for c in found for v in c.values[:2])
    answer, figures, _ = compose(q, [Scored(found[0], (), 1.0)], Citations())
    assert answer.startswith("Ja") and "40 000 kr" in answer and not figures
    # only a question whether values agree is answered this way
    assert not read_agreement(analyze("Hur stort bidrag söker föreningen Lyktan?"), cands)


def test_a_total_of_a_stated_list_is_summed():
    q, cands = _read("Hur mycket uppgår satsningarna till sammanlagt?",
                     ("b.md", "Satsningar", "Satsningarna är:\n- Läxhjälp 0,4 mnkr\n- Simskola 1,1 mnkr\n"
                                            "- Sommarjobb 2,0 mnkr"))
    sums = [c for c in read_arithmetic(q, cands) if c.values[0].number == 3.5]
    assert sums and sums[0].values[0].unit == "mnkr"
    _, figures, _ = compose(q, [Scored(sums[0], (), 1.0)], Citations())
    assert figures[0].formula == "0,4 + 1,1 + 2"


def test_a_sum_over_the_values_a_statement_names_by_the_questions_words():
    # made up: a statement that names three amounts for two purposes; the question names one purpose
    text = ("Nämnden föreslår att bygget finansieras med lånemedel om 4 000 000 kronor år 2029 samt "
            "underhållsmedel om 700 000 kronor år 2029 och med underhållsmedel 300 000 kronor år 2030.")
    q, cands = _read("Hur mycket underhållsmedel föreslås sammanlagt för bygget?", ("c.md", "Förslag", text))
    sums = read_arithmetic(q, cands)
    assert sums and sums[0].values[0].number == 1_000_000
    _, figures, _ = compose(q, [Scored(sums[0], (), 1.0)], Citations())
    assert figures[0].formula == "700 000 + 300 000"
    # both purposes named: all three amounts
    q, cands = _read("Hur stor är den sammanlagda kostnaden (lånemedel och underhållsmedel) för bygget?",
                     ("c.md", "Förslag", text))
    assert read_arithmetic(q, cands)[0].values[0].number == 5_000_000
    # nothing in the question tells the amounts apart: no sum of unlike things
    q, cands = _read("Hur mycket kostar bygget sammanlagt?", ("c.md", "Förslag", text))
    assert not read_arithmetic(q, cands)


def test_a_difference_of_counts_is_of_counts_of_one_thing():
    q, cands = _read("Med hur mycket sänks antalet cykelplatser per radhus enligt avtalet?",
                     ("d.md", "Avtal", "Avtalet sänker kravet till 1,5 cykelplatser/lägenhet och 2,0 "
                                       "cykelplatser/radhus."),
                     ("d.md", "Avtal", "Tidigare gällde 2,5 cykelplatser/lägenhet och 3,0 cykelplatser/radhus."))
    found = read_arithmetic(q, cands)
    assert found and found[0].values[0].number == 1.0
    assert "3,0" in found[0].evidence and "2,0" in found[0].evidence
    # never a difference of the places per flat and per house
    assert all(c.values[0].number not in (0.5, 1.5) for c in found)


def test_numbers_the_question_gives_are_no_operands_of_a_difference():
    # made up: "zon 4" and "zon 2" name what is compared; their numbers are not subtracted
    q, cands = _read("Hur många procentenheter högre är taxan i zon 4 än i zon 2?",
                     ("e.md", "Taxor", "Taxan är 18 % i zon 2 och 27 % i zon 4."))
    found = read_arithmetic(q, cands)
    assert found and found[0].values[0].number == 9
    assert all(c.values[0].number != 2 for c in found)


def test_how_long_is_answered_by_the_length_of_a_span_of_clock_time():
    q, cands = _read("Hur länge varade mötet med byalaget?",
                     ("f.md", "Protokoll", "Mötet med byalaget hölls klockan 09.30–11.15 i Bygdegården."))
    best = next(c for c in cands if c.states(T.DURATION))
    answer, _, _ = compose(q, [Scored(best, (), 1.0)], Citations())
    assert answer.startswith("1 timme 45 minuter (09.30–11.15) [1]")


def test_protocol_roles_are_read_in_their_usual_layouts():
    from assistant.roles import asked_roles, read_document_roles

    text = ("SAMMANTRÄDESPROTOKOLL\nTekniska nämnden\n\n"
            "Beslutande   Eva Holmgren (S)\n"
            "Lisa Strand, nämndsekreterare\n\n"
            "Protokolljusterare Nils Åkesson (M)\n\n"
            "Karl Wikström (C) deltar inte i handläggningen av ärendet på grund av jäv.\n\n"
            "Sven Lindqvist (S)          Anna Sjöberg (L)\n"
            "Ordförande                  Vice ordförande\n\n"
            "ordförande Sven Lindqvist (S) finner att nämnden bifaller förslaget.\n")
    roles = {(r.family, r.name) for r in read_document_roles(text)}
    assert ("sekreterare", "Lisa Strand") in roles
    assert ("justerare", "Nils Åkesson (M)") in roles
    assert ("jäv", "Karl Wikström (C)") in roles
    assert ("ordförande", "Sven Lindqvist (S)") in roles and ("vice ordförande", "Anna Sjöberg (L)") in roles
    assert not any(name.startswith("Beslutande") or "finner" in name for _, name in roles)
    assert asked_roles("Vem justerade protokollet?") == ["justerare"]
    assert asked_roles("Vem var ordförande och vem var sekreterare?") == ["ordförande", "sekreterare"]
    assert asked_roles("Vem anmälde jäv?") == ["jäv"] and asked_roles("Vad kostar bygget?") == []


def test_a_roles_candidate_per_document_cites_each_line():
    from assistant.roles import read_roles

    docs = [{"source": "a.md", "title": "Protokoll", "metadata": {"body": "Tekniska nämnden", "date": "2031-03-03"}},
            {"source": "b.md", "title": "Protokoll", "metadata": {"date": "2031-04-07"}}]
    texts = {"a.md": "Protokolljusterare Nils Åkesson (M)\n", "b.md": "Protokolljusterare Eva Holmgren (S)\n"}
    q = analyze("Vem var protokolljusterare den 3 mars 2031?")
    cands = read_roles(q, docs, texts, {"a.md": 0})
    assert [c.source for c in cands] == ["a.md", "b.md"] and cands[0].rank == 0 and cands[1].rank == 99
    assert "3 mars 2031" in cands[0].context      # the document's date as a question writes it
    answer, _, _ = compose(q, [Scored(cands[0], (), 1.0)], cites := Citations())
    assert "Nils Åkesson (M)" in answer and cites.items[0].quote == "Protokolljusterare Nils Åkesson (M)"


def test_a_vote_tally_is_read_with_the_abstentions_stated_after_it():
    from assistant.statements import tally

    t = tally("Med 6 ja-röster mot 1 nej-röst vinner yttrande från (C).\n\n4 stycken avstod från att rösta.")
    assert (t.yes, t.no, t.abstain) == (6, 1, 4)
    t = tally("Med fem ja-röster (S, V och MP) mot sex nej-röster (M, L, SD, KD och C) beslutar nämnden")
    assert (t.yes, t.no, t.abstain) == (5, 6, None)
    # the abstentions of the next result are not this one's
    t = tally("Med 5 ja mot 4 nej bifalls förslaget. Med 3 ja mot 2 nej avslås yrkandet. 1 avstod.")
    assert (t.yes, t.no, t.abstain) == (5, 4, None)
    assert tally("Nämnden beslutar enligt förslaget.") is None


def test_how_many_took_part_and_the_share_of_ja_votes_are_computed_from_the_tally():
    from assistant.combine import read_tallies
    from assistant.compose import Citations

    text = "Med 6 ja-röster mot 1 nej-röst vinner yttrande från (C). 4 stycken avstod från att rösta."
    q, cands = _read("Hur många deltog sammanlagt i omröstningen?", ("p.pdf", "§ 64", text))
    total = read_tallies(q, cands)
    assert total and total[0].values[0].number == 11
    rendered = total[0].render(Citations())
    assert "6 + 1 + 4" in rendered.text and rendered.figures[0].value == 11
    assert [r.value for r in rendered.figures[0].rows] == [6, 1, 4]
    q, cands = _read("Hur stor andel av de röstande röstade ja i omröstningen?", ("p.pdf", "§ 64", text))
    share = read_tallies(q, cands)
    assert share and share[0].values[0].number == 85.71 and share[0].values[0].unit == "%"
    q, cands = _read("Hur gick omröstningen?", ("p.pdf", "§ 64", text))
    assert read_tallies(q, cands) == []  # the result itself is stated: nothing to compute


def test_a_roll_call_is_read_as_a_list_or_a_table_and_counted_whole():
    from assistant.votes import roll_calls

    listed = ("Omröstning gällande yttrande från (SD) mot yttrande från (C)\n\nÅsa Hartzell (M): Avstår\n"
              "Emma Öman (V): Ja\nPia Rönnesjö (S): Ja\n\nGöteborgs Stad, protokollsutdrag\n"
              "Mattias Gerdås (L): Nej\n\nOmröstning gällande (S) mot (C)\n\nÅsa Hartzell (M): Nej\nEmma Öman (V): Ja\n"
              "Pia Rönnesjö (S): Ja\n")
    calls = roll_calls(listed)
    assert [[v.choice for v in c] for c in calls] == [["avstår", "ja", "ja", "nej"], ["nej", "ja", "ja"]]
    table = ("| Ledamot | Ja-röst | Nej-röst | Avstår från att rösta |\n| --- | --- | --- | --- |\n"
             "| Emanuel Forsell (M) | X |  |  |\n| Magdalena Sundqvist (S) |  | X |  |\n"
             "| Annika Hedman (C) | X |  |  |\n| Johan Tolinsson (S) |  |  | X |\n")
    (call,) = roll_calls(table)
    assert [(v.member, v.choice) for v in call] == [("Emanuel Forsell (M)", "ja"), ("Magdalena Sundqvist (S)", "nej"),
                                                   ("Annika Hedman (C)", "ja"), ("Johan Tolinsson (S)", "avstår")]


def test_a_roll_call_table_goes_on_over_a_page_break_with_notes_between():
    """The next page's table opens with a member's row (no header of its own) and is as wide:
    the same roll call, however many lines of page header and notes stand between; a table of
    another width, or one after no roll call, is not."""
    from assistant.votes import roll_calls

    head = "| Ledamot | Ja-röst | Nej-röst | Avstår |\n| --- | --- | --- | --- |\n"
    page1 = head + "| Emanuel Forsell (M) | X |  |  |\n| Magdalena Sundqvist (S) |  | X |  |\n| Annika Hedman (C) | X |  |  |\n"
    between = "\nKUNGSBACKA KOMMUN   PROTOKOLL   19 (64)\nKommunstyrelsen\nDatum\n2025-11-25\n\nProtokollsanteckning\n" \
              "Ermin Škorić (S) stödjer yrkandet.\n\nBeslutet skickas till\nNämnden för Individ & Familjeomsorg\n\n"
    page2 = "| Monica Neptun (L) | X |  |  |\n| --- | --- | --- | --- |\n| Maria Losman (MP) |  | X |  |\n"
    (call,) = roll_calls(page1 + between + page2)
    assert [v.choice for v in call] == ["ja", "nej", "ja", "ja", "nej"]
    assert [len(c) for c in roll_calls(page1 + between + page2.replace(" |  |  |\n", " |  |\n"))] == [3]
    assert roll_calls(between + page2 + page2.replace("Monica Neptun", "Ola Ek")) == []


def test_a_named_members_vote_and_the_roll_call_counted_are_candidates():
    from assistant.votes import read_named_votes

    text = ("Omröstning\n\nÅsa Hartzell (M): Avstår\nEmma Öman (V): Ja\nPia Rönnesjö (S): Ja\nMattias Gerdås (L): Nej")
    q, cands = _read("Hur röstade Emma Öman (V) i omröstningen?", ("p.pdf", "§ 64", text))
    found = read_named_votes(q, cands, {"p.pdf": text})
    assert [c.evidence.split(":")[0] for c in found] == ["Emma Öman (V) röstade ja"]
    assert text[found[0].start:found[0].end] == "Emma Öman (V): Ja"   # cited at her line
    q, cands = _read("Hur många röstade ja i omröstningen?", ("p.pdf", "§ 64", text))
    (counted,) = read_named_votes(q, cands, {"p.pdf": text})
    assert counted.evidence.startswith("Voteringslistan räknad: 2 ja, 1 nej, 1 avstår (4 namn)")
    q, cands = _read("Hur röstade Fredrik Hansson (C) i omröstningen?", ("p.pdf", "§ 64", text))
    assert read_named_votes(q, cands, {"p.pdf": text}) == []   # not in the roll call: nothing to say about him
    # who voted one way: the members of that choice, cited at the roll call
    q, cands = _read("Vilka ledamöter röstade ja i omröstningen?", ("p.pdf", "§ 64", text))
    found = read_named_votes(q, cands, {"p.pdf": text})
    assert found[0].evidence.startswith("Röstade ja (2): Emma Öman (V), Pia Rönnesjö (S)")
    assert [v.text for v in found[0].states(T.PERSON)] == ["Emma Öman (V)", "Pia Rönnesjö (S)"]
    q, cands = _read("Who abstained in the vote?", ("p.pdf", "§ 64", text))
    assert read_named_votes(q, cands, {"p.pdf": text})[0].evidence.startswith("Abstained (1): Åsa Hartzell (M)")
