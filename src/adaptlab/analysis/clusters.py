"""k-means clusters of an embedding space, each named by its most distinctive terms (class-based TF-IDF)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def kmeans_clusters(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    from sklearn.cluster import KMeans

    k = max(2, min(k, len(vectors) // 2))
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)


def top_terms(texts: Sequence[str], labels: np.ndarray, n: int = 6) -> dict[int, list[str]]:
    """Per cluster, the terms whose summed TF-IDF weight is highest relative to the other clusters."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        max_features=20000, min_df=2, token_pattern=r"(?u)\b[^\W\d_]{3,}\b", sublinear_tf=True
    )
    matrix = vectorizer.fit_transform(texts)
    terms = np.array(vectorizer.get_feature_names_out())
    clusters = sorted(set(labels.tolist()))
    weight = np.vstack([np.asarray(matrix[labels == c].mean(axis=0)).ravel() for c in clusters])
    distinct = weight - weight.mean(axis=0)  # what this cluster has more of than the average cluster
    return {c: terms[np.argsort(-distinct[i])[:n]].tolist() for i, c in enumerate(clusters)}
