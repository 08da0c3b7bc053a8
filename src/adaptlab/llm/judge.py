"""LLM-as-judge: a model scores each (question, reference, answer) on a 1-5 rubric, parsed strictly.

Rubric (each 1-5): `faithfulness` (the answer says nothing the question's context does not support),
`correctness` (it agrees with the reference answer), `language` (it is in the question's language).
The verdict must be a JSON object with those three integers (code fences and text around it are
tolerated; `criterion: N` lines are read the same way), validated by pydantic; anything else is
counted as unparsable, never guessed. The row's score is the mean of the three. Local judges get the
reply started with `{"faithfulness":` so that a small model writes JSON; endpoints are asked plainly.
A 135M judge is weak: see docs/llm.md for its measured agreement with token F1.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CRITERIA = ("faithfulness", "correctness", "language")
LOCAL_PREFILL = '{"faithfulness":'
_LINE = re.compile(r"\b(faithfulness|correctness|language)\b\W{0,3}\s*([1-5])\b", re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?", re.IGNORECASE)

RUBRIC = (
    "You are a strict grader. Score the ANSWER to the QUESTION from 1 (bad) to 5 (perfect) on:\n"
    "faithfulness: it only states what the question's text supports;\n"
    "correctness: it agrees with the REFERENCE answer;\n"
    "language: it is written in the language of the question.\n"
    'Reply with JSON only: {"faithfulness": N, "correctness": N, "language": N}'
)


class Verdict(BaseModel):
    """A judge's scores; integers 1-5, nothing else accepted."""

    model_config = ConfigDict(extra="ignore", strict=True)

    faithfulness: int = Field(ge=1, le=5)
    correctness: int = Field(ge=1, le=5)
    language: int = Field(ge=1, le=5)

    @property
    def score(self) -> float:
        return (self.faithfulness + self.correctness + self.language) / 3


class UnparsableVerdict(ValueError):
    """The judge's reply holds no valid verdict; the message says why."""


def judge_messages(question: str, reference: str, answer: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": RUBRIC},
        {
            "role": "user",
            "content": f"QUESTION:\n{question}\n\nREFERENCE:\n{reference}\n\nANSWER:\n{answer}\n\nJSON:",
        },
    ]


def parse_verdict(reply: str) -> Verdict:
    """The verdict in a judge's reply; UnparsableVerdict when there is none (never a guess)."""
    text = _FENCE.sub("", reply).strip()
    start = text.find("{")
    data: Any = None
    if start >= 0:
        try:
            data, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            data = None
    if not isinstance(data, dict):
        found = {name.lower(): int(value) for name, value in _LINE.findall(text)}
        if not found:
            raise UnparsableVerdict("no JSON verdict and no 'criterion: N' lines")
        data = found
    try:
        return Verdict.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "verdict"
        raise UnparsableVerdict(f"{where}: {problem['msg']}") from None


@dataclass
class JudgeResult:
    """Per-row verdicts (None when unparsable) and their summary."""

    judge: str
    verdicts: list[Verdict | None]
    replies: list[str]
    failures: Counter[str] = field(default_factory=Counter)

    def metrics(self) -> dict[str, Any]:
        """Mean score, per criterion means, the distribution of rounded scores, and the unparsable count."""
        good = [v for v in self.verdicts if v is not None]
        n = max(1, len(good))
        dist = Counter(int(v.score + 0.5) for v in good)
        return {
            "judge_score": sum(v.score for v in good) / n if good else float("nan"),
            **{
                f"judge_{c}": sum(getattr(v, c) for v in good) / n if good else float("nan") for c in CRITERIA
            },
            "judge_distribution": " ".join(f"{s}:{dist.get(s, 0)}" for s in range(1, 6)),
            "judge_unparsable": len(self.verdicts) - len(good),
        }


def judge_answers(
    judge: Any,
    questions: Sequence[str],
    references: Sequence[str],
    answers: Sequence[str],
    max_tokens: int = 48,
    progress: Any = None,
) -> JudgeResult:
    """Every (question, reference, answer) scored by `judge` (a ChatModel)."""
    replies = judge.complete_many(
        [judge_messages(q, r, a) for q, r, a in zip(questions, references, answers)],
        max_tokens,
        progress=progress,
    )
    verdicts: list[Verdict | None] = []
    failures: Counter[str] = Counter()
    for reply in replies:
        try:
            verdicts.append(parse_verdict(reply))
        except UnparsableVerdict as exc:
            verdicts.append(None)
            failures[str(exc)] += 1
    return JudgeResult(judge.name, verdicts, list(replies), failures)
