"""Instruction pairs written by an LLM from law sections, validated, with the rule-based pair as fallback.

The writer (a local causal LM or an OpenAI-compatible endpoint, see `chat_models`) gets a section's text
and is asked for one question the text answers and the answer, as JSON. Its reply is parsed into a
`WrittenPair` (pydantic): a JSON object (code fences and chatter around it are tolerated) or
`Question:` / `Answer:` lines (`Frage:` / `Antwort:`). A reply is rejected, with the reason counted, when
it does not parse, fails validation (no question mark, answer too short, answer = question), or when the
answer is not grounded: fewer than `MIN_GROUNDED` of its words occur in the section. A rejected section
gets the rule-based pair instead (meta `writer: rules`, `fallback_reason`) when the rule applies.
Local models get their reply started with `{"question": "` (a small model then writes the JSON).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adaptlab.corpus.types import content_hash
from adaptlab.llm.corpus_data import SourceSection, instruction_examples, task_prompt
from adaptlab.llm.formats import Example
from adaptlab.llm.metrics import tokens

WRITER_RULE = "llm-written"
MIN_ANSWER_WORDS = 3
MIN_GROUNDED = 0.6
"""Share of the answer's words that must occur in the section text."""
_LINES = re.compile(
    r"(?:question|frage|q)\s*[:：]\s*(?P<q>.+?)\s*(?:answer|antwort|a)\s*[:：]\s*(?P<a>.+)",
    re.IGNORECASE | re.DOTALL,
)
_FENCE = re.compile(r"```(?:json)?", re.IGNORECASE)

LOCAL_PREFILL = '{"question": "'
"""Local writers get their reply started with this, so a small model writes the JSON asked for."""
SYSTEM = (
    "You write training data for a question-answering model. Use only the given text. "
    'Reply with one JSON object and nothing else: {"question": "...", "answer": "..."}'
)


class PairRejected(ValueError):
    """Why a writer's reply was not used; the message is the reason counted in the report."""


class WrittenPair(BaseModel):
    """One question-answer pair as the writer must return it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    question: str = Field(min_length=8, max_length=400)
    answer: str = Field(min_length=1, max_length=2000)

    @field_validator("question")
    @classmethod
    def _is_a_question(cls, value: str) -> str:
        if "?" not in value:
            raise ValueError("is not a question (no '?')")
        return value

    @field_validator("answer")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if len(value.split()) < MIN_ANSWER_WORDS:
            raise ValueError(f"has fewer than {MIN_ANSWER_WORDS} words")
        return value

    @model_validator(mode="after")
    def _answer_is_not_the_question(self) -> WrittenPair:
        if tokens(self.answer) == tokens(self.question):
            raise ValueError("answer repeats the question")
        return self


def writer_messages(section: SourceSection, context_chars: int) -> list[dict[str, str]]:
    """The request for one section: its text, and what to write (in the text's language)."""
    text = " ".join(section.text.split())[:context_chars]
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f"Text ({section.law}, {section.heading}):\n{text}\n\n"
            "Write one question that this text answers, and its answer taken from the text, "
            "in the language of the text. JSON only.",
        },
    ]


def _candidate(reply: str) -> dict[str, Any]:
    text = _FENCE.sub("", reply).strip()
    start = text.find("{")
    if start >= 0:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError as exc:
            raise PairRejected(f"invalid JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise PairRejected("JSON is not an object")
        return value
    match = _LINES.search(text)
    if match:
        return {"question": match.group("q"), "answer": match.group("a")}
    raise PairRejected("no JSON object and no Question:/Answer: lines")


def grounded_share(answer: str, text: str) -> float:
    """Share of the answer's words that occur in the text (lower-cased Unicode words)."""
    words = tokens(answer)
    vocabulary = set(tokens(text))
    return sum(w in vocabulary for w in words) / max(1, len(words))


def parse_pair(reply: str, section_text: str) -> WrittenPair:
    """A validated, grounded pair from the writer's reply; PairRejected names what is wrong."""
    data = _candidate(reply)
    try:
        pair = WrittenPair.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "reply"
        message = problem["msg"].removeprefix("Value error, ")
        raise PairRejected(f"{where}: {message}") from None
    share = grounded_share(pair.answer, section_text)
    if share < MIN_GROUNDED:
        raise PairRejected(f"answer not grounded in the section (below {MIN_GROUNDED:.0%} of its words)")
    return pair


@dataclass
class WriteReport:
    """How each section's pair was made: by the LLM, by the rule after a rejected reply, or not at all."""

    written: int = 0
    fallback: int = 0
    dropped: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "fallback": self.fallback,
            "dropped": self.dropped,
            "rejected": dict(self.rejected.most_common()),
        }


def written_examples(
    sections: Sequence[SourceSection],
    writer: Any,
    with_context: bool = True,
    max_words: int = 40,
    context_chars: int = 700,
    max_tokens: int = 160,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Example], WriteReport]:
    """One Example per section, written by `writer` (a ChatModel), the rule-based pair as its fallback."""
    replies = writer.complete_many(
        [writer_messages(s, context_chars) for s in sections], max_tokens, progress=progress
    )
    report = WriteReport()
    examples: list[Example] = []
    for section, reply in zip(sections, replies):
        try:
            pair = parse_pair(reply, section.text)
        except PairRejected as exc:
            report.rejected[str(exc)] += 1
            fallback = instruction_examples([section], with_context, max_words, context_chars)
            if not fallback:
                report.dropped += 1
                continue
            example = fallback[0]
            example.meta.update({"writer": "rules", "fallback_reason": str(exc)})
            examples.append(example)
            report.fallback += 1
            continue
        report.written += 1
        examples.append(
            Example(
                messages=[
                    {
                        "role": "user",
                        "content": task_prompt(section, pair.question, with_context, context_chars),
                    },
                    {"role": "assistant", "content": pair.answer},
                ],
                source=section.law,
                id=content_hash(WRITER_RULE, writer.name, *section.ids),
                meta={
                    "rule": WRITER_RULE,
                    "writer": writer.name,
                    "chunk_ids": list(section.ids),
                    "law": section.law,
                    "section": section.heading,
                },
            )
        )
    return examples, report
