"""/search with online features: a popularity boost and a rating filter, off unless the config asks.

`score + popularity_boost × ln(1 + document clicks)` re-orders a result page towards documents users
clicked; `min_rating` drops hits from documents rated below it (documents nobody rated stay). The weight
is in the units of the mode's score (cosine for dense, fused score for hybrid, BM25 for bm25), so it is
tuned per deployment. A failed read (Redis down) must not fail the search: the page goes out unboosted
and the failure is logged and counted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from adaptlab.config import FeaturesSection
from adaptlab.features.repo import FeatureRepo, OnlineFeatures
from adaptlab.retrieval.dense import SearchHit
from adaptlab.workspace import Workspace

log = logging.getLogger("adaptlab.serve")


def rerank(
    hits: Sequence[SearchHit], features: dict[str, dict[str, Any]], boost: float, min_rating: float | None
) -> list[SearchHit]:
    """Hits re-scored by popularity and filtered by rating, re-ranked 1..n (ties keep their order)."""
    kept: list[tuple[float, int, SearchHit]] = []
    for i, hit in enumerate(hits):
        row = features.get(hit.chunk_id) or {}
        ratings, mean = row.get("ratings") or 0, row.get("mean_rating")
        if min_rating is not None and ratings and mean is not None and mean < min_rating:
            continue
        popularity = row.get("popularity") or 0.0
        score = float(hit.score) + boost * popularity if math.isfinite(popularity) else float(hit.score)
        kept.append((score, i, hit))
    kept.sort(key=lambda t: (-t[0], t[1]))
    return [replace(hit, rank=rank, score=score) for rank, (score, _, hit) in enumerate(kept, 1)]


class PopularityRanker:
    """Reads a page's online features and applies `rerank`; built when `features` asks for it."""

    def __init__(self, reader: OnlineFeatures, settings: FeaturesSection) -> None:
        self.reader = reader
        self.settings = settings
        self.failures = 0
        self.last_error: str | None = None

    @classmethod
    def open(cls, workspace: Workspace, settings: FeaturesSection) -> PopularityRanker:
        """Fails with a one-line error when the feature repo was never applied or Redis is unreachable."""
        return cls(FeatureRepo(workspace, settings.online).reader(), settings)

    def __call__(self, hits: list[SearchHit]) -> list[SearchHit]:
        if not hits:
            return hits
        try:
            features = self.reader.popularity([h.chunk_id for h in hits])
        except Exception as exc:  # the search itself succeeded; serve it unboosted
            self.failures += 1
            self.last_error = str(exc)
            log.warning("online features unavailable (%s); serving the page unboosted", exc)
            return hits
        return rerank(hits, features, self.settings.popularity_boost, self.settings.min_rating)
