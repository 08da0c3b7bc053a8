"""Answer metrics: SQuAD EM / token F1 over gold answers without citation markers, citation accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.eval.answer_eval import (
    AnswerReport,
    answer_scores,
    citation_scores,
    held_out,
    latency_stats,
    strip_citations,
    xquad_qa,
)


def test_answer_scores_take_the_best_gold_and_ignore_citations() -> None:
    assert strip_citations("Denver Broncos [1][2].") == "Denver Broncos."
    scores = answer_scores("Denver Broncos [1]", ["the Denver Broncos", "Denver Broncos"])
    assert scores == {"exact_match": 1.0, "token_f1": 1.0, "answer_in_text": 1.0}
    long = answer_scores("Die Broncos aus Denver gewannen 2016 den Titel. [2]", ["Denver Broncos"])
    assert long["exact_match"] == 0.0 and long["answer_in_text"] == 0.0
    assert long["token_f1"] == pytest.approx(0.4)  # 2 of 8 predicted tokens, both gold tokens
    assert answer_scores("Es war 1995. [1]", ["1995"])["answer_in_text"] == 1.0
    assert answer_scores("Es war 19951. [1]", ["1995"])["answer_in_text"] == 0.0  # whole tokens only


def test_citation_scores() -> None:
    sources = ["0-1", "3-2", "0-4"]
    assert citation_scores([2, 1], sources, "3-2") == {
        "cites_gold": 1.0,
        "citation_precision": 0.5,
        "cited_any": 1.0,
        "gold_in_sources": 1.0,
    }
    assert citation_scores([], sources, "0-4")["cites_gold"] == 0.0
    assert citation_scores([1, 9], sources, "9-9") == {
        "cites_gold": 0.0,
        "citation_precision": 0.0,
        "cited_any": 1.0,
        "gold_in_sources": 0.0,
    }


def test_report_summary_and_latency_percentiles() -> None:
    report = AnswerReport("x")
    for i in range(1, 21):
        report.add({"token_f1": i / 20}, {"generate": float(i)})
    summary = report.summary()
    assert summary["n"] == 20 and summary["metrics"]["token_f1"] == 0.525
    assert summary["latency_ms"]["generate"] == latency_stats([float(i) for i in range(1, 21)])
    assert latency_stats([float(i) for i in range(1, 21)])["p95"] == 19.0


def test_xquad_reader_and_held_out_subset(tmp_path: Path) -> None:
    squad = {
        "data": [
            {
                "title": "Super_Bowl",
                "paragraphs": [
                    {
                        "context": "Die Broncos gewannen.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Wer gewann?",
                                "answers": [{"text": "Die Broncos", "answer_start": 0}] * 2,
                            },
                            {
                                "id": "q2",
                                "question": "Was taten sie?",
                                "answers": [{"text": "gewannen", "answer_start": 12}],
                            },
                        ],
                    },
                ],
            }
        ]
    }
    (tmp_path / "xquad.de.json").write_text(json.dumps(squad), encoding="utf-8")
    items, paragraphs = xquad_qa(tmp_path, "de")
    assert paragraphs == {"0-0": {"title": "Super Bowl", "text": "Die Broncos gewannen."}}
    assert items[0].answers == ("Die Broncos",) and items[0].doc_id == "0-0"
    assert held_out(items, 1) == held_out(list(reversed(items)), 1)  # by hash, not by file order
    (tmp_path / "xquad.en.json").write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    with pytest.raises(AdaptlabError, match="not in SQuAD format"):
        xquad_qa(tmp_path, "en")
