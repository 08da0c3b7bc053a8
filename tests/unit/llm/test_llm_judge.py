"""Judge verdicts are parsed strictly: three integers 1-5 or the verdict counts as unparsable."""

from __future__ import annotations

import math

import pytest

from adaptlab.llm.judge import JudgeResult, UnparsableVerdict, Verdict, judge_messages, parse_verdict


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"faithfulness": 4, "correctness": 3, "language": 5}', (4, 3, 5)),
        ('```json\n{"faithfulness": 1, "correctness": 1, "language": 2, "why": "off topic"}\n```', (1, 1, 2)),
        ('{"faithfulness": 5, "correctness": 5, "language": 5} The answer is perfect.', (5, 5, 5)),
        ("Faithfulness: 2\nCorrectness: 1\nLanguage: 5", (2, 1, 5)),
    ],
)
def test_verdicts_parse(reply: str, expected: tuple[int, int, int]) -> None:
    verdict = parse_verdict(reply)
    assert (verdict.faithfulness, verdict.correctness, verdict.language) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("The answer looks good to me.", "no JSON verdict"),
        ('{"faithfulness": 6, "correctness": 3, "language": 5}', "less than or equal to 5"),
        ('{"faithfulness": 0, "correctness": 3, "language": 5}', "greater than or equal to 1"),
        ('{"faithfulness": "4", "correctness": 3, "language": 5}', "valid integer"),
        ('{"faithfulness": 4.5, "correctness": 3, "language": 5}', "valid integer"),
        ('{"faithfulness": true, "correctness": 3, "language": 5}', "valid integer"),
        ('{"faithfulness": 4, "correctness": 3}', "language: Field required"),
        ('{"faithfulness": 4, "correctness": 3, "lang', "language: Field required"),
    ],
)
def test_bad_verdicts_are_unparsable_never_guessed(reply: str, reason: str) -> None:
    with pytest.raises(UnparsableVerdict, match=reason):
        parse_verdict(reply)


def test_summary_counts_unparsable_and_gives_the_distribution() -> None:
    verdicts = [
        Verdict(faithfulness=5, correctness=5, language=5),
        None,
        Verdict(faithfulness=1, correctness=2, language=3),
    ]
    metrics = JudgeResult("j", verdicts, ["", "", ""]).metrics()
    assert metrics["judge_score"] == pytest.approx((5 + 2) / 2)
    assert metrics["judge_correctness"] == pytest.approx(3.5)
    assert metrics["judge_distribution"] == "1:0 2:1 3:0 4:0 5:1" and metrics["judge_unparsable"] == 1
    nothing = JudgeResult("j", [None], ["?"]).metrics()
    assert math.isnan(nothing["judge_score"]) and nothing["judge_unparsable"] == 1


def test_the_judge_sees_question_reference_and_answer() -> None:
    system, user = judge_messages("Was regelt § 1?", "Den Zweck.", "Die Sonne.")
    assert all(c in system["content"] for c in ("faithfulness", "correctness", "language", "1 (bad)"))
    assert (
        user["content"].index("Was regelt")
        < user["content"].index("Den Zweck")
        < user["content"].index("Die Sonne")
    )
