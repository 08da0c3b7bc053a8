from adaptlab.corpus.language import detect_language


def test_german_and_english_are_told_apart() -> None:
    assert (
        detect_language("Der Netzbetreiber ist verpflichtet, die Anlage unverzüglich anzuschließen.")[0]
        == "de"
    )
    assert detect_language("The grid operator must connect the installation without delay.")[0] == "en"


def test_too_short_text_is_undetermined() -> None:
    assert detect_language("§ 3 Abs. 1") == ("und", 0.0)


def test_allowed_share_in_one_pass_equals_sorting_the_candidates() -> None:
    import random

    from adaptlab.corpus.language import DEFAULT_LANGUAGES, _allowed_share

    def by_sorting(labels, scores, languages):  # noqa: ANN001, ANN202 - the earlier definition
        ranked = sorted(
            ((label.replace("__label__", ""), min(float(s), 1.0)) for label, s in zip(labels, scores)),
            key=lambda pair: pair[1],
            reverse=True,
        )
        allowed = [(lang, s) for lang, s in ranked if lang in languages]
        if not allowed:
            return None
        return allowed[0][0], allowed[0][1] / (sum(s for _, s in allowed) or 1.0)

    pool = [f"__label__{code}" for code in ("de", "en", "fr", "nl", "ru", "zh", "ja", "la", "eo", "sv")]
    rng = random.Random(5)
    for _ in range(3000):  # fastText lists candidates best first; ties and scores a hair over 1 included
        scores = sorted((rng.choice([rng.random(), 0.5, 1.0000001, 0.0]) for _ in range(5)), reverse=True)
        labels = rng.sample(pool, 5)
        assert _allowed_share(labels, scores, DEFAULT_LANGUAGES) == by_sorting(
            labels, scores, DEFAULT_LANGUAGES
        )
