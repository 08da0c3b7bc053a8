"""Retrieval evaluation of one model on one BEIR set, with exact search (the reference ranking)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.corpus.types import content_hash
from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import BeirDataset, load_beir
from adaptlab.eval.document_windows import DocumentWindows, document_windows, search_documents
from adaptlab.eval.laws import laws_heading_to_beir
from adaptlab.eval.metrics import ir_metrics
from adaptlab.eval.oeo import oeo_to_beir
from adaptlab.eval.xquad import XQUAD_PAIRS, xquad_to_beir
from adaptlab.models.base import Embedder
from adaptlab.models.encode import encode_documents


@dataclass
class RetrievalResult:
    dataset: str
    model: str
    metrics: dict[str, float]
    stats: dict[str, int]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def document_text(doc: dict[str, Any]) -> str:
    """BEIR convention: the title, when there is one, precedes the text."""
    title = (doc.get("title") or "").strip()
    return f"{title}\n{doc.get('text', '')}" if title else str(doc.get("text", ""))


class DocumentVectorCache:
    """Sets that share a corpus (xquad en-en and de-en) encode it once per model."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def get(self, embedder: Embedder, texts: list[str], batch_size: int) -> np.ndarray:
        key = (embedder.name, content_hash(*texts))
        if key not in self._vectors:
            self._vectors[key] = encode_documents(embedder, texts, batch_size=batch_size)
        return self._vectors[key]


def evaluate_retrieval(
    embedder: Embedder,
    dataset: BeirDataset,
    k: int = 100,
    batch_size: int = 32,
    cache: DocumentVectorCache | None = None,
    window_weight: float | None = None,
) -> RetrievalResult:
    start = time.perf_counter()
    run = dense_run(embedder, dataset, k, batch_size, cache, window_weight)
    metrics = ir_metrics(dataset.qrels, run)
    return RetrievalResult(dataset.name, embedder.name, metrics, dataset.stats(), time.perf_counter() - start)


def dense_run(
    embedder: Embedder,
    dataset: BeirDataset,
    k: int = 100,
    batch_size: int = 32,
    cache: DocumentVectorCache | None = None,
    window_weight: float | None = None,
) -> dict[str, dict[str, float]]:
    """The model's exact top-`k` per query, as a ranx-style run {query id: {doc id: cosine}}; with
    `window_weight`, documents past the model's token limit are scored from windows (see document_windows)."""
    windows = None
    if window_weight is not None:
        texts = [document_text(dataset.corpus[d]) for d in dataset.corpus]
        windows = document_windows(embedder, texts, window_weight)
    return encoded_run(embedder, dataset, windows, k, batch_size, cache)


def encoded_run(
    embedder: Embedder,
    dataset: BeirDataset,
    windows: DocumentWindows | None = None,
    k: int = 100,
    batch_size: int = 32,
    cache: DocumentVectorCache | None = None,
) -> dict[str, dict[str, float]]:
    """`dense_run` for a caller that has already cut the documents into `windows` (None: one vector each)."""
    doc_ids = list(dataset.corpus)
    query_ids = list(dataset.queries)
    texts = windows.texts if windows else [document_text(dataset.corpus[d]) for d in doc_ids]
    doc_vecs = (cache or DocumentVectorCache()).get(embedder, texts, batch_size)
    query_vecs = embedder.encode_queries([dataset.queries[q] for q in query_ids], batch_size=batch_size)
    return search_documents(query_vecs, doc_vecs, doc_ids, query_ids, k, windows)


def resolve_datasets(names: list[str]) -> list[BeirDataset]:
    """'xquad' → the four XQuAD pairs; 'xquad-de-en' → one; 'laws-heading[-train|-all]' → the German laws
    set (test split by default); 'oeo-de-en[-SPLIT]' / 'oeo-en[-SPLIT]' → OEO term → definition (test split by
    default); anything else is a BEIR folder."""
    from adaptlab.datasets import dataset_dir

    found: list[BeirDataset] = []
    for name in names:
        if name == "xquad" or name.startswith("xquad-"):
            pairs = XQUAD_PAIRS if name == "xquad" else (name.removeprefix("xquad-"),)
            found.extend(xquad_to_beir(dataset_dir("xquad"), pair) for pair in pairs)
        elif name == "laws-heading" or name.startswith("laws-heading-"):
            split = name.removeprefix("laws-heading").removeprefix("-") or "test"
            found.append(laws_heading_to_beir(dataset_dir("gesetze"), split))
        elif name.startswith(("oeo-de-en", "oeo-en")):
            direction = "de-en" if name.startswith("oeo-de-en") else "en"
            split = name.removeprefix(f"oeo-{direction}").removeprefix("-") or "test"
            found.append(oeo_to_beir(dataset_dir("oeo"), direction, split))
        else:
            path = Path(name).expanduser()
            if not path.is_dir():
                raise AdaptlabError(
                    f"dataset '{name}' is neither 'xquad[-PAIR]', 'laws-heading[-SPLIT]', 'oeo-de-en[-SPLIT]', "
                    "'oeo-en[-SPLIT]' nor a BEIR folder"
                )
            found.append(load_beir(path))
    return found
