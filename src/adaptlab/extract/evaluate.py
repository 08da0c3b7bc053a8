"""Field-level precision, recall and F1 of extracted records against gold records.

Records are paired in order (a table's rows keep their order; a document has one record). A field
counts as a true positive when both sides hold the same value, a false positive when the prediction
holds a value the gold record lacks or contradicts, a false negative when the gold value was not
predicted; a wrong value is both. Strings compare case- and space-insensitively, numbers to 1e-6.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class FieldCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}  # fmt: skip


def same(predicted: Any, gold: Any) -> bool:
    if isinstance(gold, (int, float)) and isinstance(predicted, (int, float)):
        return abs(float(predicted) - float(gold)) <= 1e-6 * max(1.0, abs(float(gold)))
    return " ".join(str(predicted).split()).casefold() == " ".join(str(gold).split()).casefold()


def score_records(
    fields: Sequence[str], pairs: Iterable[tuple[Sequence[dict[str, Any]], Sequence[dict[str, Any]]]]
) -> dict[str, FieldCounts]:
    """Counts per field (and `_all`, micro-averaged) over (predicted records, gold records) per document."""
    counts = {name: FieldCounts() for name in [*fields, "_all"]}
    for predicted, gold in pairs:
        for index in range(max(len(predicted), len(gold))):
            pred = predicted[index] if index < len(predicted) else {}
            true = gold[index] if index < len(gold) else {}
            for name in fields:
                p, g = pred.get(name), true.get(name)
                for key in (name, "_all"):
                    if p is not None and g is not None and same(p, g):
                        counts[key].tp += 1
                        continue
                    counts[key].fp += p is not None
                    counts[key].fn += g is not None
    return counts
