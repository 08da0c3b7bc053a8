"""Answer quality of RAG on XQuAD: token F1 / EM against the gold answers, citation accuracy, stage latency.

SQuAD's metrics take the best score over a question's gold answers; citation markers ([1], [2]) are
removed before scoring, since they are not part of the answer. A citation is correct when the cited
source is the gold paragraph (XQuAD paragraphs are single chunks, so chunk and paragraph coincide;
for longer documents `gold_of` maps a source to its paragraph). Latency is kept per stage so a slow
answer can be blamed on retrieval, context assembly or generation.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adaptlab.corpus.types import content_hash
from adaptlab.errors import AdaptlabError
from adaptlab.eval.xquad import _read_json
from adaptlab.llm.metrics import exact_match, token_f1, tokens

_CITATION = re.compile(r"\s*\[\d{1,3}\]")


@dataclass(frozen=True)
class QAItem:
    """One XQuAD question with its gold answers and the paragraph that holds them (`<article>-<paragraph>`)."""

    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str


def xquad_qa(xquad_dir: Path, lang: str) -> tuple[list[QAItem], dict[str, dict[str, str]]]:
    """Questions with answers, and the paragraphs as {doc id: {"title", "text"}}, of `xquad.<lang>.json`."""
    file = Path(xquad_dir) / f"xquad.{lang}.json"
    data = _read_json(file)
    items: list[QAItem] = []
    paragraphs: dict[str, dict[str, str]] = {}
    try:
        for a, article in enumerate(data["data"]):
            for p, paragraph in enumerate(article["paragraphs"]):
                doc_id = f"{a}-{p}"
                paragraphs[doc_id] = {
                    "title": article["title"].replace("_", " "),
                    "text": paragraph["context"],
                }
                for qa in paragraph["qas"]:
                    answers = tuple(dict.fromkeys(x["text"] for x in qa["answers"]))
                    items.append(QAItem(qa["id"], qa["question"], answers, doc_id))
    except (KeyError, TypeError) as exc:
        raise AdaptlabError(f"{file}: not in SQuAD format (missing {exc})") from None
    return items, paragraphs


def held_out(items: Sequence[QAItem], n: int, salt: str = "rag-answers") -> list[QAItem]:
    """`n` questions chosen by a hash of their id: the same subset on every run and in both languages."""
    return sorted(items, key=lambda item: content_hash(salt, item.qid))[:n]


def strip_citations(text: str) -> str:
    return _CITATION.sub("", text).strip()


def answer_scores(prediction: str, golds: Sequence[str]) -> dict[str, float]:
    """Best EM and token F1 over the gold answers, and whether a gold answer occurs in the prediction."""
    text = strip_citations(prediction)
    said = f" {' '.join(tokens(text))} "
    return {
        "exact_match": max(exact_match(text, g) for g in golds),
        "token_f1": max(token_f1(text, g) for g in golds),
        "answer_in_text": float(any(f" {' '.join(tokens(g))} " in said for g in golds)),
    }


def citation_scores(citations: Sequence[int], source_docs: Sequence[str], gold: str) -> dict[str, float]:
    """Whether the answer cites the gold paragraph, the share of its citations that do, and whether the
    gold paragraph was among the sources at all (the ceiling for the first)."""
    cited = [source_docs[n - 1] for n in citations if 1 <= n <= len(source_docs)]
    return {
        "cites_gold": float(gold in cited),
        "citation_precision": sum(d == gold for d in cited) / len(cited) if cited else 0.0,
        "cited_any": float(bool(cited)),
        "gold_in_sources": float(gold in source_docs),
    }


@dataclass
class AnswerReport:
    """Per-question scores and stage timings, summarised as means and latency percentiles."""

    name: str
    rows: list[dict[str, float]] = field(default_factory=list)
    timings: dict[str, list[float]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, scores: dict[str, float], timings_ms: dict[str, float]) -> None:
        self.rows.append(scores)
        for stage, ms in timings_ms.items():
            self.timings.setdefault(stage, []).append(ms)

    def summary(self) -> dict[str, Any]:
        if not self.rows:
            return {"n": 0}
        metrics = {key: round(statistics.fmean(r[key] for r in self.rows), 4) for key in self.rows[0]}
        latency = {stage: latency_stats(values) for stage, values in self.timings.items()}
        return {"n": len(self.rows), "metrics": metrics, "latency_ms": latency, "examples": self.examples[:3]}


def latency_stats(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {
        "mean": round(statistics.fmean(ordered), 2),
        "p50": round(pick(0.5), 2),
        "p95": round(pick(0.95), 2),
    }
