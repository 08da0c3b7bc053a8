"""Extractive answers cite the chunks their sentences come from; citations index into the sources."""

from __future__ import annotations

from adaptlab.rag.answer import citations_in, extractive_answer
from adaptlab.rag.ask import make_answer
from adaptlab.rag.generators import ExtractiveGenerator, load_generator, prompt_messages
from adaptlab.retrieval.dense import SearchHit


def hit(rank: int, text: str, heading: str = "") -> SearchHit:
    return SearchHit(rank, 1.0 / rank, f"c{rank}", text, heading, "T", f"/docs/{rank}.md", None, "de", {})


HITS = [
    hit(1, "Alte Anlagen werden durch leistungsstärkere ersetzt. Das heißt Repowering."),
    hit(2, "Die Länder legen Mindestabstände zu Wohngebieten fest. Sie gelten für neue Anlagen.", "Abstände"),
    hit(3, "Eine Wärmepumpe nutzt Umweltwärme zum Heizen von Gebäuden."),
]


def test_extractive_answer_quotes_matching_sentences_with_their_source() -> None:
    text = extractive_answer("Wer legt Mindestabstände zu Wohngebieten fest?", HITS)
    assert text.startswith("Die Länder legen Mindestabstände zu Wohngebieten fest. [2]")
    assert "Wärmepumpe" not in text  # shares no term with the question


def test_without_any_shared_term_the_top_chunk_speaks() -> None:
    text = extractive_answer("completely unrelated english words", HITS, max_sentences=1)
    assert text.endswith("[1]")


def test_citations_are_distinct_and_in_range() -> None:
    assert citations_in("a [2] b [1] c [2] d [7] e [0]", 3) == [2, 1]


def test_make_answer_and_generator() -> None:
    generator = load_generator("extractive")
    assert isinstance(generator, ExtractiveGenerator) and generator.extractive
    question = "Was gilt für Mindestabstände?"
    answer = make_answer(question, "".join(generator.stream(question, HITS)), HITS, generator)
    assert answer.citations == [2]
    payload = answer.as_dict()
    assert [s["n"] for s in payload["sources"]] == [1, 2, 3] and payload["extractive"]
    assert make_answer(question, "  ", [], generator).text.startswith("No passage")


def test_prompt_numbers_the_sources() -> None:
    messages = prompt_messages("Frage?", HITS, chars_per_source=30)
    assert messages[0]["role"] == "system" and "[1]" in messages[0]["content"]
    user = messages[1]["content"]
    assert "[1] T\n" in user and "[2] Abstände\n" in user and user.endswith("Question: Frage?")
