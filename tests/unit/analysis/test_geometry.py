"""Geometry, language bias and cluster terms on spaces whose answer is known by construction."""

from __future__ import annotations

import numpy as np

from adaptlab.analysis import (
    alignment,
    average_cosine,
    effective_rank,
    isotropy,
    language_bias,
    neighbour_overlap,
    uniformity,
)
from adaptlab.analysis.clusters import kmeans_clusters, top_terms
from adaptlab.models.base import l2_normalize

RNG = np.random.default_rng(0)
SPHERE = l2_normalize(RNG.standard_normal((600, 32)))
CONE = l2_normalize(RNG.standard_normal((600, 32)) * 0.3 + 3.0 * np.eye(32)[0])


def test_isotropic_sphere_versus_narrow_cone() -> None:
    assert abs(average_cosine(SPHERE)) < 0.02 and average_cosine(CONE) > 0.7
    assert isotropy(SPHERE) > 0.5 > isotropy(CONE)
    assert uniformity(SPHERE) < uniformity(CONE)  # more negative = spread more evenly


def test_effective_rank_counts_used_directions() -> None:
    low = l2_normalize(RNG.standard_normal((400, 3)) @ RNG.standard_normal((3, 32)))
    assert effective_rank(low) <= 3.01 and effective_rank(SPHERE) > 25


def test_alignment_and_neighbour_overlap() -> None:
    assert alignment(SPHERE, SPHERE) == 0.0 and alignment(SPHERE, SPHERE[::-1]) > 1.0
    assert neighbour_overlap(SPHERE, SPHERE) == 1.0
    assert neighbour_overlap(SPHERE, l2_normalize(SPHERE + 0.02 * RNG.standard_normal(SPHERE.shape))) > 0.7
    assert neighbour_overlap(SPHERE, SPHERE[RNG.permutation(len(SPHERE))]) < 0.1


def test_language_bias_separates_meaning_from_language() -> None:
    en = SPHERE[:100]
    agnostic = language_bias(en, l2_normalize(en + 0.05 * RNG.standard_normal(en.shape)))
    assert agnostic["translation_top1"] == 1.0 and agnostic["same_language_neighbours"] < 0.6
    english_cone = l2_normalize(en * 0.3 + 2.0 * np.eye(32)[0])
    split = language_bias(
        english_cone, l2_normalize(RNG.standard_normal(en.shape) * 0.3 + 2.0 * np.eye(32)[1])
    )
    assert split["translation_top1"] < 0.1 and split["same_language_neighbours"] > 0.95
    assert agnostic["parallel_cosine"] > agnostic["random_cross_cosine"]


def test_clusters_are_named_by_their_own_terms() -> None:
    texts = [f"solar panel module {i} sunlight" for i in range(20)] + [
        f"wind turbine rotor {i} blades" for i in range(20)
    ]
    vectors = np.vstack(
        [
            SPHERE[:1] + 0.01 * RNG.standard_normal((20, 32)),
            SPHERE[1:2] + 0.01 * RNG.standard_normal((20, 32)),
        ]
    )
    labels = kmeans_clusters(l2_normalize(vectors), 2)
    terms = top_terms(texts, labels, n=3)
    solar = labels[0]
    assert set(terms[solar]) <= {"solar", "panel", "module", "sunlight"}
    assert set(terms[1 - solar]) <= {"wind", "turbine", "rotor", "blades"}
