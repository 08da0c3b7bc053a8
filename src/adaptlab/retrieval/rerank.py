"""Second-stage reranking: re-score the first stage's top-N (query, chunk) pairs, keep the rest below.

A cross-encoder reads query and passage together and judges them better than a vector comparison, but
costs one model pass per pair, so it only re-sorts the head of a BM25, dense or hybrid ranking. None
ships with weights offline: `adaptlab finetune-reranker` trains one from the MiniLM weights. Without
one, `BiEncoderRescorer` re-sorts the head by the cosine of a (served) embedding model instead.

Spec strings (`--rerank`, the API's `rerank` field): `auto` (the newest registered cross-encoder, else
bi-encoder rescoring), a registered reranker name or a cross-encoder folder, `bi` (the search's model)
or `bi:MODEL`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder, l2_normalize
from adaptlab.retrieval.dense import SearchHit

DEFAULT_TOP_N = 30
"""Candidates re-scored per query: enough to lift a relevant chunk from the tail, cheap enough on CPU."""
Ranking = list[tuple[str, float]]
"""(document id, score), best first."""


class Reranker(Protocol):
    """Scores (query, text) pairs; higher is more relevant. Scores compare within one query only."""

    name: str
    blend: float
    """Default weight of the first-stage score mixed into the new one (0: the reranker's order alone)."""

    def score_pairs(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """One score per pair (queries[i], texts[i])."""
        ...


class CrossEncoderReranker:
    """A trained sentence-transformers CrossEncoder folder (one relevance logit per pair)."""

    def __init__(
        self, path: str | Path, max_length: int | None = 256, batch_size: int = 32, name: str | None = None
    ) -> None:
        from sentence_transformers import CrossEncoder

        self.path = Path(path)
        self.name = name or self.path.name
        self.blend = 0.0
        self.batch_size = batch_size
        self.model = CrossEncoder(str(self.path), max_length=max_length, local_files_only=True)

    def score_pairs(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        if not queries:
            return np.zeros(0, dtype=np.float32)
        scores = self.model.predict(
            list(zip(queries, texts)), batch_size=self.batch_size, show_progress_bar=False
        )
        return np.asarray(scores, dtype=np.float32).reshape(-1)


class BiEncoderRescorer:
    """Cosine of query and chunk embeddings: the fallback when no cross-encoder is available.

    Useful after BM25 (it adds the semantic view) or to let a multilingual model judge what an
    English-centric first stage found; after dense search with the same model it changes nothing.
    """

    def __init__(self, embedder: Embedder, blend: float = 0.5) -> None:
        self.embedder = embedder
        self.name = f"bi:{embedder.name}"
        self.blend = blend
        """Half the first stage by default: a second model's cosine alone would drop what BM25 found
        (benchmarks/rescore.py picks 0.3-0.7 on dev queries; 0.5 is the middle)."""

    def score_pairs(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        if not queries:
            return np.zeros(0, dtype=np.float32)
        unique_q, unique_t = list(dict.fromkeys(queries)), list(dict.fromkeys(texts))
        qv = l2_normalize(self.embedder.encode_queries(unique_q))
        tv = l2_normalize(self.embedder.encode_documents(unique_t))
        q_pos = {q: i for i, q in enumerate(unique_q)}
        t_pos = {t: i for i, t in enumerate(unique_t)}
        qi = np.fromiter((q_pos[q] for q in queries), dtype=np.int64, count=len(queries))
        ti = np.fromiter((t_pos[t] for t in texts), dtype=np.int64, count=len(texts))
        return np.einsum("ij,ij->i", qv[qi], tv[ti]).astype(np.float32)


def _minmax(values: np.ndarray) -> np.ndarray:
    span = float(values.max() - values.min()) if len(values) else 0.0
    return (values - values.min()) / span if span > 1e-9 else np.ones_like(values)


def reorder(ranking: Ranking, new_scores: np.ndarray, top_n: int, blend: float = 0.0) -> Ranking:
    """The first `top_n` of `ranking` sorted by `new_scores` (one per head item), the rest after in order.

    `blend` > 0 mixes in the first stage: (1 − blend)·minmax(new) + blend·minmax(first stage) over the
    head. Items below the head get scores under the head's lowest, falling, so any score sort keeps
    the order (ranx, the API). Ties keep the first stage's order.
    """
    head, tail = ranking[:top_n], ranking[top_n:]
    if len(new_scores) != len(head):
        raise ValueError(f"{len(new_scores)} scores for {len(head)} candidates")
    if not head:
        return []
    scores = np.asarray(new_scores, dtype=np.float64)
    if blend > 0:
        first = np.array([s for _, s in head], dtype=np.float64)
        scores = (1 - blend) * _minmax(scores) + blend * _minmax(first)
    order = sorted(range(len(head)), key=lambda i: -scores[i])  # stable: ties keep first-stage order
    ranked = [(head[i][0], float(scores[i])) for i in order]
    floor = ranked[-1][1]
    return ranked + [(doc, floor - 1.0 - j * 1e-3) for j, (doc, _) in enumerate(tail)]


def rerank_rankings(
    reranker: Reranker,
    queries: Sequence[str],
    rankings: Sequence[Ranking],
    text_of: Callable[[str], str],
    top_n: int = DEFAULT_TOP_N,
    blend: float = 0.0,
) -> list[Ranking]:
    """Each query's ranking with its head re-scored; all pairs of all queries go to the model in one call."""
    pair_q: list[str] = []
    pair_t: list[str] = []
    for query, ranking in zip(queries, rankings):
        for doc, _ in ranking[:top_n]:
            pair_q.append(query)
            pair_t.append(text_of(doc))
    scores = reranker.score_pairs(pair_q, pair_t)
    out: list[Ranking] = []
    start = 0
    for ranking in rankings:
        n = min(top_n, len(ranking))
        out.append(reorder(ranking, scores[start : start + n], top_n, blend))
        start += n
    return out


def hit_text(hit: SearchHit) -> str:
    """What the reranker reads: the section heading (it often names the topic) and the chunk text."""
    return f"{hit.heading}\n{hit.text}" if hit.heading else hit.text


def rerank_hits(
    reranker: Reranker,
    queries: Sequence[str],
    hits: Sequence[list[SearchHit]],
    top_n: int = DEFAULT_TOP_N,
    k: int | None = None,
    blend: float | None = None,
) -> list[list[SearchHit]]:
    """Search hits re-sorted per query (ranks renumbered, scores the reranker's), cut to `k`.

    `blend`: weight of the first-stage score (default: the reranker's own `blend`)."""
    blend = getattr(reranker, "blend", 0.0) if blend is None else blend
    by_id = [{h.chunk_id: h for h in query_hits} for query_hits in hits]
    rankings = [[(h.chunk_id, h.score) for h in query_hits] for query_hits in hits]
    texts = {h.chunk_id: hit_text(h) for query_hits in hits for h in query_hits}
    reranked = rerank_rankings(reranker, queries, rankings, texts.__getitem__, top_n, blend)
    return [
        [replace(found[doc], rank=rank, score=score) for rank, (doc, score) in enumerate(ranking[:k], 1)]
        for found, ranking in zip(by_id, reranked)
    ]


def is_cross_encoder_dir(path: Path) -> bool:
    """A folder saved by sentence-transformers' CrossEncoder (its config names the model type)."""
    config = Path(path) / "config_sentence_transformers.json"
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type") == "CrossEncoder"
    except (OSError, ValueError, AttributeError):
        return False


def load_reranker(
    spec: str, registered: dict[str, dict[str, str]], embedder: Callable[[str], Embedder], search_model: str
) -> Reranker:
    """The reranker a spec names (see the module doc); `registered` is the workspace's model registry."""
    cross = {name: entry for name, entry in registered.items() if entry.get("kind") == "cross-encoder"}
    if spec == "auto":
        if cross:
            name = max(cross, key=lambda n: _mtime(Path(cross[n]["path"])))
            return CrossEncoderReranker(cross[name]["path"], name=name)
        return BiEncoderRescorer(embedder(search_model))
    if spec in ("bi", "bi-encoder"):
        return BiEncoderRescorer(embedder(search_model))
    if spec.startswith("bi:"):
        return BiEncoderRescorer(embedder(spec.removeprefix("bi:")))
    if spec in cross:
        return CrossEncoderReranker(cross[spec]["path"], name=spec)
    path = Path(spec).expanduser()
    if is_cross_encoder_dir(path):
        return CrossEncoderReranker(path)
    known = ", ".join(["auto", "bi", "bi:MODEL", *cross]) or "auto"
    raise AdaptlabError(
        f"reranker '{spec}' is neither a registered cross-encoder nor a cross-encoder folder; "
        f"use one of: {known} (train one with `adaptlab finetune-reranker`)"
    )


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
