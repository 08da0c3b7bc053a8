import pytest

from adaptlab.corpus.sentences import split_sentences


@pytest.mark.parametrize(
    "text",
    [
        "Nach § 3 Abs. 1 Nr. 2 EnWG gilt dies.",
        "Die Anlage kostet z. B. 5 Mio. Euro.",
        "Das ist ggf. teuer und bzw. Teil des Plans.",
        "Am 1. Januar 2020 trat das Gesetz in Kraft.",
        "Siehe Art. 3 Satz 2 und Anl. 1 sowie vgl. Nr. 4.",
        "Use e.g. Milvus or i.e. a vector database.",
    ],
)
def test_abbreviations_do_not_split(text: str) -> None:
    assert split_sentences(text) == [text]


def test_real_sentence_ends_split() -> None:
    text = "Der Netzbetreiber ist verpflichtet. Die Frist beträgt 3 Monate! Gilt das? Ja. The end."
    assert split_sentences(text) == [
        "Der Netzbetreiber ist verpflichtet.",
        "Die Frist beträgt 3 Monate!",
        "Gilt das?",
        "Ja.",
        "The end.",
    ]


def test_newlines_always_end_a_sentence() -> None:
    assert split_sentences("1. erstens\n2. zweitens") == ["1. erstens", "2. zweitens"]
