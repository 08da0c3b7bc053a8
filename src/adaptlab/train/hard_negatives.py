"""Hard negatives for mined or labelled training pairs: passages the current model ranks high but that are
not the pair's positive.

In-batch negatives are mostly easy (another law's section is rarely confused with this one). Negatives
mined with the model being trained are the ones it actually confuses. sentence-transformers'
`mine_hard_negatives` does the mining. A relative margin guards against false negatives: a candidate
scoring above (1 − margin) × the positive's score is probably an unlabelled relevant passage and is
skipped. The corpus embeddings are cached on disk in the workspace, so a re-run does not encode the
corpus again.
"""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adaptlab.train.pairs import Pair

if TYPE_CHECKING:
    from adaptlab.workspace import Workspace


def negative_pool(chunks: list[tuple[str, str]], train: list[Pair], heldout_docs: set[str], limit: int | None,
                  seed: int) -> list[str]:
    """Texts negatives come from: (doc_id, text) chunks outside held-out documents, plus every positive."""
    texts = [text.strip() for doc_id, text in chunks if doc_id not in heldout_docs and text.strip()]
    if limit and len(texts) > limit:
        texts = random.Random(seed).sample(texts, limit)
    return list(dict.fromkeys([*texts, *(p.positive for p in train)]))


def negative_cache(workspace: Workspace, name: str, max_length: int | None) -> Path:
    """Where the miner's corpus vectors are cached: sentence-transformers keys its cache by texts and the
    model's card name only, so the folder keeps models (and token limits) apart."""
    from adaptlab.train.model_store import model_key

    label = re.sub(r"[^0-9A-Za-z._-]+", "_", f"{model_key(workspace, name)}-{max_length}")[-80:]
    return workspace.vector_cache / "hard-negatives" / label


def labelled_columns(pairs: list[Pair]) -> dict[str, list[Any]]:
    """(query, passage, label) columns for a cross-encoder: each positive (1.0) and its negatives (0.0)."""
    rows = [(p.query, text, label) for p in pairs
            for text, label in [(p.positive, 1.0), *((n, 0.0) for n in p.negatives)]]
    return {"query": [r[0] for r in rows], "passage": [r[1] for r in rows], "label": [r[2] for r in rows]}


def mine_negatives(model: Any, pairs: list[Pair], pool: list[str], count: int, relative_margin: float,
                   candidates: int, cache_folder: Path | None = None, batch_size: int = 32,
                   seed: int = 42) -> tuple[list[Pair], int]:
    """(every pair with `count` negatives, how many pairs had too few mined ones and were topped up at random).

    A pair whose candidates all fall inside the margin keeps training: its missing negatives are random pool
    passages (as easy as in-batch ones), so a strict margin never shrinks the training set. The model's
    `query`/`document` prompts (e5) are used, as at search time.
    """
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives
    prompts = getattr(model, "prompts", None) or {}
    data = Dataset.from_dict({"query": [p.query for p in pairs], "positive": [p.positive for p in pairs]})
    mined = mine_hard_negatives(
        data, model, anchor_column_name="query", positive_column_name="positive", corpus=pool,
        range_max=min(candidates, len(pool)), relative_margin=relative_margin, num_negatives=count,
        sampling_strategy="top", output_format="n-tuple", batch_size=batch_size, verbose=False,
        query_prompt_name="query" if "query" in prompts else None,
        corpus_prompt_name="document" if "document" in prompts else None,
        cache_folder=str(cache_folder) if cache_folder else None,
    )
    columns = [c for c in mined.column_names if c.startswith("negative")]
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for row in mined:
        found.setdefault((row["query"], row["positive"]), tuple(row[c] for c in columns))
    rng = random.Random(seed)
    out, topped_up = [], 0
    for pair in pairs:
        negatives = list(found.get((pair.query, pair.positive), ()))
        if len(negatives) < count:
            topped_up += 1
            spare = [t for t in rng.sample(pool, min(len(pool), 4 * count + 1)) if t != pair.positive]
            negatives += [t for t in spare if t not in negatives][: count - len(negatives)]
        out.append(dataclasses.replace(pair, negatives=tuple(negatives)))
    return out, topped_up


__all__ = ["labelled_columns", "mine_negatives", "negative_cache", "negative_pool"]
