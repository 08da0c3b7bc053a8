"""Embedding-space analysis: isotropy, effective rank, alignment/uniformity, model agreement, language bias,
clusters with top terms, 2-D maps, and one self-contained HTML report (`adaptlab analyze`)."""

from adaptlab.analysis.geometry import (
    alignment,
    average_cosine,
    effective_rank,
    isotropy,
    neighbour_overlap,
    uniformity,
)
from adaptlab.analysis.language import language_bias

__all__ = [
    "alignment",
    "average_cosine",
    "effective_rank",
    "isotropy",
    "language_bias",
    "neighbour_overlap",
    "uniformity",
]
