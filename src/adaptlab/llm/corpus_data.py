"""Instruction and preference data made from the corpus by rules: no labels and no LLM needed.

Rule `heading-question` (law sections): the section heading becomes a question about it ("Was regelt
§ 3 KSG (Nationale Klimaschutzziele)?"), the answer is the section's opening sentences, so every answer is
grounded in the text it came from. With `with_context` the section text is given in the prompt (the
open-book, RAG-style task); without, the model must know the law (closed book).
Preference pairs: chosen = that grounded answer, rejected = the answer of another section (wrong context).
Every pair keeps its provenance: the chunk or section ids, law and heading, and the rule.
Sections come from an ingested corpus store (chunk ids) or directly from a folder of law Markdown files
(section ids as in the `laws-heading` evaluation set).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from adaptlab.corpus.loaders.markdown import HEADING_SEPARATOR
from adaptlab.corpus.sentences import split_sentences
from adaptlab.corpus.types import content_hash
from adaptlab.eval.laws import _read_laws, heading_query
from adaptlab.llm.formats import Example, PreferencePair

RULE = "heading-question"
_NUMBER = re.compile(r"^(§§?\s*\d+\s*[a-z]?)\b")
MIN_ANSWER_WORDS = 6


@dataclass(frozen=True)
class SourceSection:
    """One law section: its ids (provenance), the law it belongs to, its heading and text."""

    ids: tuple[str, ...]
    law: str
    heading: str
    text: str


def sections_from_markdown(folder: Path) -> list[SourceSection]:
    """§ sections of every law Markdown file in `folder`, parsed as `ingest` parses them."""
    return [
        SourceSection((section_id,), law, heading, text)
        for law, sections in _read_laws(Path(folder)).items()
        for section_id, heading, text in sections
    ]


def sections_from_store(store) -> list[SourceSection]:  # noqa: ANN001  (CorpusStore, imported lazily)
    """§ sections of the ingested corpus; a section cut into several chunks keeps all their chunk ids."""
    grouped: dict[tuple[str, str], list] = {}
    for record in store.iter_chunks():
        heading = record.heading.split(HEADING_SEPARATOR)[-1] if record.heading else ""
        if heading.startswith("§"):
            grouped.setdefault((record.doc_id, heading), []).append(record)
    sections = []
    for (_, heading), records in grouped.items():
        law = str(records[0].doc_metadata.get("law") or records[0].title or Path(records[0].source).stem)
        text = "\n".join(r.text for r in sorted(records, key=lambda r: r.ordinal))
        sections.append(SourceSection(tuple(r.chunk_id for r in records), law, heading, text))
    return sections


def grounded_answer(text: str, max_words: int = 40) -> str:
    """The section's opening sentences, up to `max_words` words (the first sentence cut if it is longer)."""
    flat = " ".join(text.split())
    answer: list[str] = []
    for sentence in split_sentences(flat):
        words = sentence.split()
        if answer and len(" ".join(answer).split()) + len(words) > max_words:
            break
        answer.append(" ".join(words[:max_words]) if not answer else sentence)
    return " ".join(answer)


def question_for(section: SourceSection) -> str | None:
    """'Was regelt § 3 KSG (Nationale Klimaschutzziele)?'; None for repealed or heading-less sections."""
    topic = heading_query(section.heading)
    number = _NUMBER.match(section.heading)
    if not topic or not number:
        return None
    return f"Was regelt {' '.join(number.group(1).split())} {section.law} ({topic})?"


def task_prompt(section: SourceSection, question: str, with_context: bool, context_chars: int) -> str:
    """The user turn of a pair: the question, after the section text when `with_context` (open book)."""
    if not with_context:
        return question
    context = " ".join(section.text.split())[:context_chars]
    return f"Gesetzestext:\n{context}\n\nFrage: {question} Antworte mit dem Wortlaut des Gesetzes."


def instruction_examples(
    sections: Iterable[SourceSection],
    with_context: bool = True,
    max_words: int = 40,
    context_chars: int = 700,
) -> list[Example]:
    """One grounded question-answer Example per usable section; source = the law (for the split)."""
    examples = []
    for section in sections:
        question = question_for(section)
        answer = grounded_answer(section.text, max_words)
        if question is None or len(answer.split()) < MIN_ANSWER_WORDS:
            continue
        examples.append(
            Example(
                messages=[
                    {"role": "user", "content": task_prompt(section, question, with_context, context_chars)},
                    {"role": "assistant", "content": answer},
                ],
                source=section.law,
                id=content_hash(RULE, *section.ids),
                meta={
                    "rule": RULE,
                    "chunk_ids": list(section.ids),
                    "law": section.law,
                    "section": section.heading,
                },
            )
        )
    return examples


def preference_pairs(examples: list[Example]) -> list[PreferencePair]:
    """chosen = the grounded answer; rejected = the answer of another section of the same law (wrong context)."""
    by_law: dict[str, list[Example]] = {}
    for example in examples:
        by_law.setdefault(example.source, []).append(example)
    pairs = []
    for law_examples in by_law.values():
        for index, example in enumerate(law_examples):
            wrong = law_examples[(index + 1 + len(law_examples) // 2) % len(law_examples)]
            if wrong is example or wrong.answer == example.answer:
                continue
            pairs.append(
                PreferencePair(
                    prompt=example.prompt_messages,
                    chosen=example.answer,
                    rejected=wrong.answer,
                    source=example.source,
                    id=example.id,
                    meta={
                        **example.meta,
                        "rejected_from": wrong.meta.get("chunk_ids"),
                        "rejected_rule": "wrong-context",
                    },
                )
            )
    return pairs
