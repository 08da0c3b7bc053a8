"""Drift of a query stream: a window of queries against a reference window, in embeddings and languages.

Two tests, each at alpha/2 (Bonferroni), so a window drawn from the reference's distribution raises an
alarm with probability at most alpha: the MMD permutation test on the query embeddings (topic, phrasing,
language all move them) and a chi-square test on the language mix (the share of German vs English queries,
which a mostly monolingual embedding model may see only weakly; an exact permutation test when a window is
too small for chi-square). Embeddings come from a fixed model,
not the served one, so a promotion does not look like drift.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.corpus.language import detect_language
from adaptlab.errors import AdaptlabError
from adaptlab.monitor.mmd import mmd_permutation_test

MIN_EXPECTED = 5.0


@dataclass
class DriftResult:
    """One tested window."""

    at: float
    n_reference: int
    n_window: int
    mmd2: float
    p_value: float
    language_p_value: float
    languages: dict[str, int]
    reference_languages: dict[str, int]
    alpha: float
    drift: bool
    kinds: list[str] = field(default_factory=list)
    bandwidth: float = 0.0
    seconds: float = 0.0
    model: str = ""
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def query_languages(queries: Sequence[str]) -> list[str]:
    """Language per query: German or English decide short queries; 'und' when too short to tell."""
    return [detect_language(q, languages=("de", "en"), min_letters=6)[0] for q in queries]


def language_p_value(reference: Counter[str], window: Counter[str]) -> float:
    """Chi-square test of homogeneity of the two language mixes; rare languages pooled as 'other'."""
    from scipy.stats import chi2_contingency

    n_ref, n_win = sum(reference.values()), sum(window.values())
    total = reference + window
    common = [
        lang for lang, count in total.items() if min(n_ref, n_win) * count / (n_ref + n_win) >= MIN_EXPECTED
    ]
    if not common:  # windows too small for chi-square: an exact permutation test of the same question
        return _permutation_p_value(reference, window)

    def row(counts: Counter[str]) -> list[int]:
        return [counts[lang] for lang in common] + [sum(v for k, v in counts.items() if k not in common)]

    table = np.array([row(reference), row(window)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table)[1])


def _permutation_p_value(reference: Counter[str], window: Counter[str], permutations: int = 1000) -> float:
    """P-value of the total variation distance between the two language mixes under random relabelling."""
    labels = np.array(
        [lang for counts in (reference, window) for lang, n in counts.items() for _ in range(n)]
    )
    m = sum(reference.values())
    if len(set(labels)) < 2:
        return 1.0
    onehot = (labels[:, None] == np.unique(labels)[None, :]).astype(float)
    rng = np.random.default_rng(0)
    splits = np.zeros((len(labels), permutations + 1))
    splits[:m, 0] = 1.0
    for j in range(1, permutations + 1):
        splits[rng.permutation(len(labels))[:m], j] = 1.0
    first = splits.T @ onehot
    second = onehot.sum(axis=0) - first
    distance = 0.5 * np.abs(first / m - second / (len(labels) - m)).sum(axis=1)
    return float((1 + np.sum(distance[1:] >= distance[0] - 1e-12)) / (1 + permutations))


@dataclass
class Reference:
    """The window the stream is compared with: embeddings and languages of known-good queries."""

    embeddings: np.ndarray
    languages: list[str]
    model: str
    created: float

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            embeddings=self.embeddings.astype(np.float32),
            languages=np.array(self.languages),
            meta=np.array(json.dumps({"model": self.model, "created": self.created})),
        )
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Reference:
        if not path.is_file():
            raise AdaptlabError(
                f"no drift reference at {path}; create one with `adaptlab monitor reference QUERIES`"
            )
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return cls(
                data["embeddings"], [str(x) for x in data["languages"]], meta["model"], meta["created"]
            )


class DriftDetector:
    """Tests windows against one reference; `alpha` bounds the false-alarm rate per window."""

    def __init__(
        self, reference: Reference, alpha: float = 0.01, permutations: int = 500, seed: int = 0
    ) -> None:
        if not 0 < alpha < 1:
            raise AdaptlabError(f"alpha {alpha}: must be between 0 and 1")
        if (permutations + 1) * alpha / 2 < 1:  # the smallest p-value a permutation test can give is 1/(P+1)
            raise AdaptlabError(
                f"{permutations} permutations cannot reach p < {alpha / 2}; use at least {int(2 / alpha)}"
            )
        if len(reference.embeddings) < 10:
            raise AdaptlabError(
                f"the drift reference has {len(reference.embeddings)} queries; use at least 10"
            )
        self.reference = reference
        self.alpha = alpha
        self.permutations = permutations
        self.seed = seed
        self._ref_langs = Counter(reference.languages)

    def test(self, embeddings: np.ndarray, languages: Sequence[str], label: str = "") -> DriftResult:
        start = time.perf_counter()
        if len(embeddings) < 2:
            raise AdaptlabError("a drift window needs at least two queries")
        mmd = mmd_permutation_test(self.reference.embeddings, embeddings, self.permutations, self.seed)
        window_langs = Counter(languages)
        lang_p = language_p_value(self._ref_langs, window_langs)
        kinds = [k for k, p in (("embedding", mmd.p_value), ("language", lang_p)) if p < self.alpha / 2]
        return DriftResult(
            time.time(),
            len(self.reference.embeddings),
            len(embeddings),
            mmd.statistic,
            mmd.p_value,
            lang_p,
            dict(window_langs),
            dict(self._ref_langs),
            self.alpha,
            bool(kinds),
            kinds,
            mmd.bandwidth,
            time.perf_counter() - start,
            self.reference.model,
            label,
        )
