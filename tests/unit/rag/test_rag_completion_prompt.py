"""A base model (Gemma 3 270M) gets a completion prompt in the question's language and a citation by overlap."""

from __future__ import annotations

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.rag.generators import (
    GENERATOR_CHOICES,
    LOCAL_LLMS,
    best_overlap,
    check_generator,
    completion_prompt,
)
from adaptlab.retrieval.dense import SearchHit


def hit(rank: int, text: str, heading: str = "") -> SearchHit:
    return SearchHit(rank, 1.0 / rank, f"c{rank}", text, heading, "T", f"/docs/{rank}.md", None, "de", {})


HITS = [
    hit(1, "Eine Wärmepumpe nutzt Umweltwärme zum Heizen von Gebäuden."),
    hit(2, "Berlin ist die Hauptstadt von Deutschland. Sie hat 3,7 Millionen Einwohner.", "Berlin"),
]


def test_completion_prompt_ends_with_the_answer_start_in_the_question_language() -> None:
    german = completion_prompt("Wie viele Einwohner hat die Stadt Berlin?", HITS, chars_per_source=25)
    assert german.startswith("Quellen:\n[1] T\nEine Wärmepumpe nutzt Umw")
    assert "\n\n[2] Berlin\nBerlin ist die Hauptstadt\n\n" in german  # heading, then the cut text
    assert german.endswith("Frage: Wie viele Einwohner hat die Stadt Berlin?\nAntwort:")
    english = completion_prompt("How many people live in the city of Berlin?", HITS, chars_per_source=25)
    assert english.startswith("Sources:\n") and english.endswith("\nAnswer:")


def test_best_overlap_cites_the_source_the_answer_comes_from() -> None:
    assert best_overlap("Berlin hat 3,7 Millionen Einwohner.", HITS) == 2
    assert best_overlap("Umweltwärme", HITS) == 1
    assert best_overlap("Kernfusion auf dem Mond", HITS) is None  # shares nothing: no citation is invented
    assert best_overlap("Hauptstadt Wärmepumpe", HITS) == 1  # a tie goes to the better-ranked source
    assert best_overlap("", HITS) is None


def test_gemma_is_a_generator_choice_prompted_as_a_base_model() -> None:
    assert "gemma3-270m" in GENERATOR_CHOICES and not LOCAL_LLMS["gemma3-270m"].chat
    assert LOCAL_LLMS["smollm2-135m"].chat
    with pytest.raises(AdaptlabError, match="gemma3-270m"):
        check_generator("gemma-3")  # the error lists the choices
