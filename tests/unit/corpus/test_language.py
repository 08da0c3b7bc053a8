from adaptlab.corpus.language import detect_language


def test_german_and_english_are_told_apart() -> None:
    assert detect_language("Der Netzbetreiber ist verpflichtet, die Anlage unverzüglich anzuschließen.")[0] == "de"
    assert detect_language("The grid operator must connect the installation without delay.")[0] == "en"


def test_too_short_text_is_undetermined() -> None:
    assert detect_language("§ 3 Abs. 1") == ("und", 0.0)
