"""Do German and English texts about the same thing land together? Measured on parallel paragraphs."""

from __future__ import annotations

import numpy as np

from adaptlab.analysis.geometry import alignment, knn


def language_bias(en: np.ndarray, de: np.ndarray, k: int = 10) -> dict[str, float]:
    """`en[i]` and `de[i]` are translations of each other.

    * `parallel_cosine`: mean cosine of translation pairs; `random_cross_cosine`: of non-translation DE/EN pairs;
    * `translation_top1`: share of English paragraphs whose nearest German paragraph is their translation
      (and the other way round, averaged); 1.0 = language-agnostic meaning;
    * `same_language_neighbours`: share of each text's k nearest neighbours in its own language over the
      mixed set (0.5 = no language bias for balanced sets, 1.0 = the space is split by language);
    * `alignment`: Wang & Isola alignment of translation pairs.
    """
    sims = en @ de.T
    n = len(en)
    off = ~np.eye(n, dtype=bool)
    top1 = (
        np.mean(np.argmax(sims, axis=1) == np.arange(n)) + np.mean(np.argmax(sims, axis=0) == np.arange(n))
    ) / 2
    both = np.vstack([en, de])
    lang = np.array([0] * n + [1] * n)
    neighbours = knn(both, min(k, 2 * n - 1))
    same = float(np.mean(lang[neighbours] == lang[:, None]))
    return {
        "parallel_cosine": float(np.mean(np.diag(sims))),
        "random_cross_cosine": float(np.mean(sims[off])),
        "translation_top1": float(top1),
        "same_language_neighbours": same,
        "alignment": alignment(en, de),
    }
