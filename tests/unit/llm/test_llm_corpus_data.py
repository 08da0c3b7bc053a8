"""Rule-based instruction and preference pairs from law sections, with provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.llm.corpus_data import (
    SourceSection,
    grounded_answer,
    instruction_examples,
    preference_pairs,
    question_for,
    sections_from_markdown,
    sections_from_store,
)

LAW = """---
Title: Testgesetz
jurabk: TG
---

# Testgesetz (TG)

## Abschnitt 1 - Allgemeines

### § 1 Zweck des Gesetzes

Zweck dieses Gesetzes ist eine sichere und umweltverträgliche Versorgung mit Elektrizität.
Es dient auch dem Klimaschutz und der Versorgungssicherheit in ganz Deutschland.

### § 2 Begriffsbestimmungen

Im Sinne dieses Gesetzes ist Netzbetreiber jeder Betreiber eines Netzes für die allgemeine Versorgung.

### § 3 (weggefallen)

### § 4 Anschluss von Anlagen

Netzbetreiber müssen Anlagen unverzüglich und vorrangig an ihr Netz anschließen, soweit das technisch möglich ist.
"""


def _law_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "gesetze"
    folder.mkdir()
    (folder / "tg.md").write_text(LAW, encoding="utf-8")
    return folder


def test_heading_becomes_a_question_and_the_answer_is_grounded(tmp_path: Path) -> None:
    sections = sections_from_markdown(_law_dir(tmp_path))
    examples = instruction_examples(sections, with_context=True, max_words=12)
    assert [e.meta["section"] for e in examples] == [
        "§ 1 Zweck des Gesetzes",
        "§ 2 Begriffsbestimmungen",
        "§ 4 Anschluss von Anlagen",
    ]  # repealed § 3 left out
    first = examples[0]
    assert "Frage: Was regelt § 1 TG (Zweck des Gesetzes)?" in first.prompt_messages[0]["content"]
    assert (
        first.answer
        == "Zweck dieses Gesetzes ist eine sichere und umweltverträgliche Versorgung mit Elektrizität."
    )
    assert " ".join(first.answer.split()) in " ".join(
        sections[0].text.split()
    )  # grounded: quoted from the source
    assert first.source == "TG" and first.meta["rule"] == "heading-question"
    assert first.meta["chunk_ids"] == [sections[0].ids[0]]
    closed = instruction_examples(sections, with_context=False)
    assert closed[0].prompt_messages[0]["content"] == "Was regelt § 1 TG (Zweck des Gesetzes)?"


def test_preference_pairs_reject_an_answer_from_the_wrong_context(tmp_path: Path) -> None:
    examples = instruction_examples(sections_from_markdown(_law_dir(tmp_path)))
    pairs = preference_pairs(examples)
    assert len(pairs) == len(examples)
    for pair, example in zip(pairs, examples):
        assert pair.chosen == example.answer and pair.rejected != pair.chosen
        assert pair.rejected in {e.answer for e in examples}
        assert pair.meta["rejected_from"] != pair.meta["chunk_ids"]


def test_answers_are_cut_at_sentences_and_words() -> None:
    text = "Erster Satz hat genau sechs Wörter. Zweiter Satz ist auch noch da."
    assert grounded_answer(text, max_words=8) == "Erster Satz hat genau sechs Wörter."
    assert grounded_answer(text, max_words=3) == "Erster Satz hat"
    assert (
        question_for(SourceSection(("x",), "EEG", "§ 8a Anschluss", "t"))
        == "Was regelt § 8a EEG (Anschluss)?"
    )
    assert question_for(SourceSection(("x",), "EEG", "Anlage 1", "t")) is None


@pytest.mark.slow
def test_sections_from_the_ingested_corpus_keep_chunk_ids(tmp_path: Path) -> None:
    from adaptlab.corpus.store import CorpusStore
    from adaptlab.pipeline import Session

    law_dir = _law_dir(tmp_path)
    with Session.open(tmp_path / "ws", tracking_uri="none") as session:
        session.ingest([law_dir])
    with CorpusStore(tmp_path / "ws" / "corpus.sqlite") as store:
        chunk_ids = set(store.chunk_ids())
        sections = sections_from_store(store)
    assert {s.heading for s in sections} >= {"§ 1 Zweck des Gesetzes", "§ 4 Anschluss von Anlagen"}
    assert all(s.law == "TG" and set(s.ids) <= chunk_ids for s in sections)
    examples = instruction_examples(sections)
    assert examples and all(set(e.meta["chunk_ids"]) <= chunk_ids for e in examples)
