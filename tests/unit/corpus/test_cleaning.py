from adaptlab.corpus.cleaning import clean_text, dehyphenate, drop_page_furniture, normalize_unicode


def test_unicode_normalisation_keeps_superscripts_and_expands_ligatures() -> None:
    text = normalize_unicode("Fla\u0308che 5\u00a0m² \ufb01nanziert\u00ad")
    assert text == "Fläche 5 m² finanziert"


def test_dehyphenation_joins_words_split_at_line_breaks() -> None:
    assert dehyphenate("Energie-\nwirtschaft") == "Energiewirtschaft"
    assert dehyphenate("Nord-\nSüd-Leitung") == "Nord-Süd-Leitung"


def test_dehyphenation_keeps_german_ellipsis_with_conjunction() -> None:
    assert clean_text("Wind-\nund Solarenergie") == "Wind- und Solarenergie"


def test_wrapped_lines_join_but_lists_and_paragraphs_stay() -> None:
    text = "Der Betreiber\nist verpflichtet,\n1. zu melden,\n2. zu zahlen.\n\n\n\nNeuer   Absatz."
    assert clean_text(text) == "Der Betreiber ist verpflichtet,\n1. zu melden,\n2. zu zahlen.\n\nNeuer Absatz."


def test_repeated_headers_and_page_numbers_are_dropped() -> None:
    pages = [f"Bundesgesetzblatt 2021\nInhalt der Seite {i}\n- {i} -" for i in range(1, 5)]
    cleaned = drop_page_furniture(pages)
    assert cleaned == [f"Inhalt der Seite {i}" for i in range(1, 5)]
