"""Cheap, deterministic augmentation of instruction rows (train split only; `prepare --augment`).

Three operations, each making at most one new row per row, never touching the answer:
- `paraphrase`: the question is rewritten by a German or English template ("Was regelt § 3 KSG (…)?" →
  "Worum geht es in § 3 KSG (…)?", "What is X?" → "What is meant by X?"; otherwise a polite wrapper
  such as "Beantworte die folgende Frage: …");
- `drop-sentence`: one context sentence that does not support the answer is removed;
- `shuffle`: the context's sentences are reordered, the sentences supporting the answer kept together
  in their order.
The context is every paragraph of the last user turn before the one holding the question. A sentence
supports the answer when half of its words occur in the answer. Choices come from a hash of (seed,
row id, operation), so the same input always gives the same rows. New rows keep the original's source
(so they stay in its split) and carry `meta.augmented = {op, of}`; `prepare` augments after splitting.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

from adaptlab.corpus.sentences import split_sentences
from adaptlab.corpus.types import content_hash
from adaptlab.llm.formats import Example
from adaptlab.llm.metrics import tokens

Op = Literal["paraphrase", "drop-sentence", "shuffle"]
OPS: tuple[Op, ...] = ("paraphrase", "drop-sentence", "shuffle")
SUPPORT = 0.5

_GERMAN_STARTS = {
    "was", "wer", "wie", "welche", "welcher", "welches", "welchen", "wann", "wo", "warum", "weshalb",
    "wozu", "wofür", "nenne", "erkläre", "beschreibe", "gibt", "ist", "sind", "kann", "darf", "muss",
}  # fmt: skip
_ENGLISH_STARTS = {
    "what", "who", "how", "which", "when", "where", "why", "name", "explain", "describe", "is", "are",
    "can", "does", "do", "list", "give",
}  # fmt: skip
_TEMPLATES: dict[str, list[tuple[re.Pattern[str], list[str]]]] = {
    "de": [
        (
            re.compile(r"^Was regelt (?P<x>.+)\?$"),
            ["Worum geht es in {x}?", "Welche Regelung trifft {x}?", "Was bestimmt {x}?"],
        ),
        (re.compile(r"^Was (?:ist|sind) (?P<x>.+)\?$"), ["Was versteht man unter {x}?"]),
        (re.compile(r".+"), ["Beantworte die folgende Frage: {q}", "{q} Bitte antworte knapp."]),
    ],
    "en": [
        (
            re.compile(r"^What does (?P<x>.+) regulate\?$"),
            ["What is {x} about?", "What are the rules of {x}?"],
        ),
        (re.compile(r"^What (?:is|are) (?P<x>.+)\?$"), ["What is meant by {x}?", "How is {x} defined?"]),
        (re.compile(r".+"), ["Answer the following question: {q}", "{q} Please answer briefly."]),
    ],
}
_QUESTION = re.compile(r"^(?P<label>(?:Frage|Question)\s*:\s*)?(?P<q>[^?\n]+\?)")


def _rng(seed: int, row_id: str, op: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{seed}:{row_id}:{op}".encode()).hexdigest()[:16], 16))


def _language(question: str) -> str | None:
    first = (tokens(question) or [""])[0]
    if first in _GERMAN_STARTS:
        return "de"
    return "en" if first in _ENGLISH_STARTS else None


def paraphrase_question(question: str, rng: random.Random) -> str | None:
    """A template rewrite of a German or English question; None when the language is not recognised."""
    language = _language(question)
    if language is None:
        return None
    for pattern, templates in _TEMPLATES[language]:
        match = pattern.match(question)
        if match:
            return rng.choice(templates).format(q=question, **match.groupdict())
    return None


def _supports(sentence: str, answer_words: set[str]) -> bool:
    words = tokens(sentence)
    return bool(words) and sum(w in answer_words for w in words) / len(words) >= SUPPORT


def _split_turn(text: str) -> tuple[str, list[str], str] | None:
    """(header, context sentences, question paragraph) of a user turn with context; None without."""
    paragraphs = text.split("\n\n")
    if len(paragraphs) < 2:
        return None
    context = "\n\n".join(paragraphs[:-1])
    header = ""
    first, _, rest = context.partition("\n")
    if first.rstrip().endswith(":") and rest:
        header, context = first + "\n", rest  # "Gesetzestext:" stays a label, not a sentence
    return header, split_sentences(" ".join(context.split())), paragraphs[-1]


def _with_context(header: str, sentences: Sequence[str], question: str) -> str:
    return f"{header}{' '.join(sentences)}\n\n{question}"


def _paraphrase(text: str, answer: str, rng: random.Random) -> str | None:
    paragraphs = text.split("\n\n")
    match = _QUESTION.match(paragraphs[-1])
    if not match:
        return None
    new = paraphrase_question(match.group("q").strip(), rng)
    if new is None:
        return None
    paragraphs[-1] = paragraphs[-1][: match.start("q")] + new + paragraphs[-1][match.end("q") :]
    return "\n\n".join(paragraphs)


def _drop_sentence(text: str, answer: str, rng: random.Random) -> str | None:
    parts = _split_turn(text)
    if parts is None:
        return None
    header, sentences, question = parts
    answer_words = set(tokens(answer))
    droppable = [i for i, s in enumerate(sentences) if not _supports(s, answer_words)]
    if len(sentences) < 2 or not droppable:
        return None
    drop = rng.choice(droppable)
    return _with_context(header, [s for i, s in enumerate(sentences) if i != drop], question)


def _shuffle(text: str, answer: str, rng: random.Random) -> str | None:
    parts = _split_turn(text)
    if parts is None:
        return None
    header, sentences, question = parts
    answer_words = set(tokens(answer))
    support = [s for s in sentences if _supports(s, answer_words)]
    units = ([support] if support else []) + [[s] for s in sentences if not _supports(s, answer_words)]
    if len(units) < 2:
        return None
    order = list(range(len(units)))
    while order == sorted(order):
        rng.shuffle(order)
    return _with_context(header, [s for i in order for s in units[i]], question)


_APPLY: dict[str, Callable[[str, str, random.Random], str | None]] = {
    "paraphrase": _paraphrase,
    "drop-sentence": _drop_sentence,
    "shuffle": _shuffle,
}


def augment_examples(
    examples: Sequence[Example], ops: Sequence[Op] = OPS, seed: int = 0
) -> tuple[list[Example], Counter[str]]:
    """New rows (at most one per row and op), and how many each op made; the originals are not returned."""
    made: list[Example] = []
    counts: Counter[str] = Counter()
    for example in examples:
        if not isinstance(example, Example) or len(example.messages) < 2:
            continue
        if example.messages[-2]["role"] != "user" or example.messages[-1]["role"] != "assistant":
            continue
        user = example.messages[-2]["content"]
        for op in ops:
            new = _APPLY[op](user, example.answer, _rng(seed, example.id, op))
            if new is None or new == user:
                continue
            messages = [*example.messages[:-2], {"role": "user", "content": new}, example.messages[-1]]
            made.append(
                Example(
                    messages,
                    example.source,
                    content_hash("augment", op, example.id),
                    {**example.meta, "augmented": {"op": op, "of": example.id}},
                )
            )
            counts[op] += 1
    return made, counts
