"""The training pair every data source yields, and the split by document that keeps test data unseen."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from adaptlab.corpus.types import content_hash


@dataclass(frozen=True)
class Pair:
    """(query, positive) plus where it came from: the document and chunk, and the rule that made it."""

    query: str
    positive: str
    doc_id: str
    rule: str
    chunk_id: str = ""
    negatives: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["negatives"] = list(self.negatives)
        return data


def document_split(doc_id: str, heldout_fraction: float, seed: int = 0) -> str:
    """'heldout' for a stable `heldout_fraction` of documents (hash of the id), else 'train'."""
    bucket = int(content_hash("split", str(seed), doc_id), 16) % 10_000
    return "heldout" if bucket < heldout_fraction * 10_000 else "train"


def split_by_document(
    pairs: Sequence[Pair], heldout_fraction: float, seed: int = 0
) -> tuple[list[Pair], list[Pair]]:
    """(train, heldout): all pairs of one document land on the same side, so no held-out text is trained on."""
    train: list[Pair] = []
    heldout: list[Pair] = []
    for pair in pairs:
        (heldout if document_split(pair.doc_id, heldout_fraction, seed) == "heldout" else train).append(pair)
    return train, heldout


def dedupe(pairs: Iterable[Pair]) -> list[Pair]:
    """Drop repeated (query, positive) pairs and trivial ones whose query is the positive."""
    seen: set[tuple[str, str]] = set()
    kept: list[Pair] = []
    for pair in pairs:
        key = (pair.query.casefold(), pair.positive)
        if key in seen or pair.query.strip() == pair.positive.strip():
            continue
        seen.add(key)
        kept.append(pair)
    return kept


def write_pairs(pairs: Sequence[Pair], path: Path) -> Path:
    """The pairs with provenance as JSONL (logged with the run, so a model's training data is inspectable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for pair in pairs:
            f.write(json.dumps(pair.as_dict(), ensure_ascii=False) + "\n")
    return path
