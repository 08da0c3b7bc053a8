"""Context assembly: near-duplicates dropped, sources within the token budget, citations still line up."""

from __future__ import annotations

from adaptlab.rag.ask import make_answer
from adaptlab.rag.context import SOURCE_OVERHEAD, assemble_context, counter_for, word_estimate
from adaptlab.rag.generators import ExtractiveGenerator
from adaptlab.retrieval.dense import SearchHit

PARAGRAPH = (
    "Anlagen über 50 Meter Gesamthöhe brauchen eine Genehmigung nach dem Bundes-Immissionsschutzgesetz, "
    "und die Behörde prüft dabei Lärm, Schattenwurf und den Schutz der Vögel in der Umgebung."
)


def hit(rank: int, text: str, heading: str = "") -> SearchHit:
    return SearchHit(rank, 1.0 / rank, f"c{rank}", text, heading, "T", f"/docs/{rank}.md", None, "de", {})


def test_near_duplicates_are_dropped_and_citations_follow_the_kept_sources() -> None:
    hits = [
        hit(1, PARAGRAPH),
        hit(2, PARAGRAPH.replace("Umgebung.", "Umgebung!")),  # the same chunk ingested twice
        hit(3, "Die Länder legen Mindestabstände zu Wohngebieten fest. Sie gelten für neue Anlagen."),
    ]
    context = assemble_context(hits)
    assert [h.chunk_id for h in context.sources] == ["c1", "c3"]
    assert context.dropped == [{"chunk_id": "c2", "reason": "near-duplicate of [1]"}]
    answer = make_answer(
        "Wer legt Mindestabstände fest?", "Die Länder [2].", context.sources, ExtractiveGenerator()
    )
    assert answer.citations == [2] and answer.sources[1].chunk_id == "c3"  # [2] is the third hit, renumbered


def test_sources_fit_the_budget_and_the_overflowing_one_is_cut() -> None:
    long_text = " ".join(f"wort{i}" for i in range(200))
    hits = [
        hit(1, PARAGRAPH, "§ 4"),
        hit(2, long_text),
        hit(3, "noch ein kurzer Text über Anlagen und Netze"),
    ]
    first = word_estimate(f"§ 4\n{PARAGRAPH}") + SOURCE_OVERHEAD
    context = assemble_context(hits, budget=first + 80)
    assert context.tokens <= first + 80
    assert [h.chunk_id for h in context.sources] == ["c1", "c2"] and context.cut == ["c2"]
    assert context.sources[1].text.endswith(" …") and context.sources[1].text.startswith("wort0 wort1")
    assert context.dropped == [{"chunk_id": "c3", "reason": "over the token budget"}]
    tight = assemble_context(hits, budget=first + 20)  # too little room left to be worth a cut
    assert [h.chunk_id for h in tight.sources] == ["c1", "c3"] and tight.cut == []


def test_no_budget_keeps_everything_and_the_tokenizer_counts_when_there_is_one() -> None:
    hits = [hit(1, PARAGRAPH), hit(2, "ganz anderer Inhalt über Wasserstoff und Elektrolyse")]
    assert len(assemble_context(hits).sources) == 2

    class Tokenizer:  # a real callable with the Hugging Face call shape: one token per character
        def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
            return {"input_ids": list(range(len(text)))}

    class WithTokenizer:
        tokenizer = Tokenizer()

    count = counter_for(WithTokenizer())
    assert count("abc") == 3
    assert counter_for(ExtractiveGenerator()) is word_estimate
    context = assemble_context(hits, budget=60, count=count)
    assert context.tokens <= 60 and context.cut == ["c1"]
