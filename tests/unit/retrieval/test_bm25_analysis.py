from adaptlab.retrieval.analysis import analyze, analyze_mixed, analyze_query


def test_german_stemming_matches_inflected_forms() -> None:
    (anlage,), (anlagen,), (netz,), (netzes,) = analyze(["Anlage", "Anlagen", "Netz", "Netzes"], "de")
    assert anlage == anlagen and netz == netzes


def test_stopwords_are_removed_and_case_is_folded() -> None:
    assert analyze(["Die Anlage und der Betreiber"], "de") == [["anlag", "betreib"]]
    assert analyze(["The Turbines of the wind farm"], "en") == [["turbin", "wind", "farm"]]


def test_unknown_language_keeps_plain_lowercase_tokens() -> None:
    assert analyze(["Les Éoliennes"], "fr") == [["les", "éoliennes"]]


def test_each_text_is_analysed_in_its_own_language() -> None:
    assert analyze_mixed(["Anlagen", "turbines"], ["de", "en"]) == [["anlag"], ["turbin"]]


def test_a_query_gets_the_terms_of_every_corpus_language_once() -> None:
    assert analyze_query("Anlagen Anlagen", ["de", "en", "de"]) == ["anlag", "anlagen"]
