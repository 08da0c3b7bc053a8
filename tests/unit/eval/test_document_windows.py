"""Window scoring: long documents cut into windows the model reads whole, scored from lead and best window."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from adaptlab.eval import document_windows as dw
from adaptlab.eval.beir import BeirDataset
from adaptlab.eval.document_windows import document_windows, search_documents, window_scores, windowed_search
from adaptlab.eval.exact_search import exact_search
from adaptlab.eval.retrieval_eval import dense_run
from adaptlab.models.base import Embedder

VOCAB = ("wind", "solar", "tax", "water", "grid")


class KeywordEmbedder(Embedder):
    """A transparent fake that truncates like a real model: the vector counts the vocabulary words among a
    text's first `max_seq_length` words (one word = one token)."""

    name = "keywords"
    dim = len(VOCAB) + 1

    def __init__(self, limit: int | None = 8, tokenizer: bool = True) -> None:
        self.max_seq_length = limit
        self.tokenizer = tokenizer

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = text.lower().replace(".", " ").split()[: self.max_seq_length or None]
            for word in words:
                if word in VOCAB:
                    out[row, VOCAB.index(word)] += 1
            out[row, -1] = 0.1  # no text is a zero vector
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        return [len(t.split()) for t in texts] if self.tokenizer else None


LONG = "Wind parks feed the grid. Rules apply to every operator. Fees are paid yearly. The water tax is due in May."


def test_a_document_within_the_limit_is_one_window_unchanged() -> None:
    windows = document_windows(KeywordEmbedder(limit=50), ["short text.", LONG])
    assert windows.texts == ["short text.", LONG]
    assert windows.owners.tolist() == [0, 1] and windows.leads.tolist() == [0, 1]


def test_a_long_document_becomes_overlapping_windows_within_the_limit() -> None:
    windows = document_windows(KeywordEmbedder(limit=8), ["tiny.", LONG])
    assert windows.texts[0] == "tiny."
    long_windows = [t for t, o in zip(windows.texts, windows.owners) if o == 1]
    assert len(long_windows) >= 3
    assert all(len(t.split()) <= 8 for t in long_windows)
    assert long_windows[0].startswith("Wind parks")  # the lead is the opening
    for sentence in LONG.split(". "):  # nothing is lost
        assert any(sentence.rstrip(".") in t for t in long_windows)
    assert windows.leads.tolist() == [0, 1]


def test_without_a_tokenizer_or_limit_every_document_is_one_window() -> None:
    for embedder in (KeywordEmbedder(tokenizer=False), KeywordEmbedder(limit=None)):
        assert document_windows(embedder, [LONG, "x."]).owners.tolist() == [0, 1]


def test_score_mixes_lead_and_best_window() -> None:
    query = np.array([[1.0, 0.0]])
    vecs = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
    for weight, expected in ((0.0, 0.6), (1.0, 1.0), (0.5, 0.8)):
        windows = dw.DocumentWindows(["a", "b", "c"], np.array([0, 0, 1]), weight)
        assert window_scores(query, vecs, windows)[0].tolist() == pytest.approx([expected, 0.0])


def test_one_window_per_document_ranks_as_exact_search() -> None:
    rng = np.random.default_rng(0)
    queries, docs = rng.normal(size=(4, 6)), rng.normal(size=(9, 6))
    doc_ids, query_ids = [f"d{i}" for i in range(9)], [f"q{i}" for i in range(4)]
    windows = dw.DocumentWindows([str(i) for i in range(9)], np.arange(9), 0.5)
    windowed = search_documents(queries, docs, doc_ids, query_ids, k=5, windows=windows)
    exact = search_documents(queries, docs, doc_ids, query_ids, k=5)
    assert exact == exact_search(queries, docs, doc_ids, query_ids, k=5)
    for qid in query_ids:
        assert list(windowed[qid]) == list(exact[qid])
        assert list(windowed[qid].values()) == pytest.approx(list(exact[qid].values()), abs=1e-6)


def test_blocks_of_queries_give_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    queries, vecs = rng.normal(size=(7, 4)), rng.normal(size=(10, 4))
    windows = dw.DocumentWindows([str(i) for i in range(10)], np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3]))
    ids, qids = ["a", "b", "c", "d"], [f"q{i}" for i in range(7)]
    whole = windowed_search(queries, vecs, windows, ids, qids, k=3)
    monkeypatch.setattr(dw, "BLOCK_BYTES", 1)  # one query per block
    blocked = windowed_search(queries, vecs, windows, ids, qids, k=3)
    for qid in qids:
        assert list(blocked[qid]) == list(whole[qid])
        assert list(blocked[qid].values()) == pytest.approx(list(whole[qid].values()), abs=1e-6)


def test_dense_run_finds_what_a_long_document_says_past_the_limit() -> None:
    corpus = {"long": {"title": "", "text": LONG}, "other": {"title": "", "text": "Solar wind grid water."}}
    dataset = BeirDataset("toy", corpus, {"q": "water tax"}, {"q": {"long": 1}})
    embedder = KeywordEmbedder(limit=8)
    truncated = dense_run(embedder, dataset, k=2)
    windowed = dense_run(embedder, dataset, k=2, window_weight=0.5)
    assert next(iter(truncated["q"])) == "other"  # the tax sentence is past 8 tokens
    assert next(iter(windowed["q"])) == "long"


def test_counts_must_match() -> None:
    windows = dw.DocumentWindows(["a", "b"], np.array([0, 1]))
    with pytest.raises(ValueError, match="differ in count"):
        windowed_search(np.ones((1, 2)), np.ones((3, 2)), windows, ["a", "b"], ["q"])
