"""Each compressor: save/load round trip, sizes, and the quality each one must keep on clustered vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adaptlab.compress import DEFAULT_METHODS, Compressor, make_compressor
from adaptlab.compress.evaluate import single_thread
from adaptlab.compress.pq import ProductQuantizer
from adaptlab.errors import AdaptlabError

DIM = 64


def clustered(n: int, seed: int, noise: float = 0.4) -> np.ndarray:
    """Unit vectors around 12 random centres: random, but with the structure real embeddings have."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).normal(size=(12, DIM))
    vecs = centres[rng.integers(0, 12, n)] + noise * rng.normal(size=(n, DIM))
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(autouse=True)
def one_thread():
    """FAISS' OpenMP and torch spin on a busy 2-core machine; one thread keeps these tests to seconds."""
    with single_thread():
        yield


DOCS = clustered(600, seed=1)
QUERIES = clustered(50, seed=2)


def exact_top(queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ DOCS.T), axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("spec", DEFAULT_METHODS)
def test_save_load_round_trip(spec: str, tmp_path: Path) -> None:
    compressor = make_compressor(spec, DIM).fit(DOCS)
    codes = compressor.transform(DOCS)
    loaded = Compressor.load(compressor.save(tmp_path / "c.npz"))
    assert loaded.name == compressor.name and loaded.bytes_per_vector == compressor.bytes_per_vector
    np.testing.assert_array_equal(loaded.transform(DOCS), codes)
    np.testing.assert_array_equal(loaded.index(codes).search(QUERIES, 5)[1], compressor.index(codes).search(QUERIES, 5)[1])


def test_int8_keeps_rankings_nearly_identical() -> None:
    int8 = make_compressor("int8", DIM).fit(DOCS)
    _, idx = int8.index(int8.transform(DOCS)).search(QUERIES, 10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, exact_top(QUERIES, 10))])
    assert overlap >= 0.95
    assert int8.bytes_per_vector == DIM


@pytest.mark.parametrize(("spec", "share"), [("binary-rescore", 0.95), ("binary-rescore-int8", 1.0)])
def test_binary_rescoring_recovers_the_exact_top1(spec: str, share: float) -> None:
    rng = np.random.default_rng(3)
    near = DOCS[:40] + 0.03 * rng.normal(size=(40, DIM)).astype(np.float32)  # paraphrases of 40 documents
    queries = near / np.linalg.norm(near, axis=1, keepdims=True)
    binary = make_compressor(spec, DIM).fit(DOCS)
    _, idx = binary.index(binary.transform(DOCS)).search(queries, 10)  # shortlist 40 of 600 by Hamming
    assert np.mean(idx[:, 0] == exact_top(queries, 1)[:, 0]) >= share  # ±1 bits rescore coarser than int8
    assert binary.bytes_per_vector == DIM / 8


def test_binary_int8_counts_bits_in_memory_and_int8_on_disk() -> None:
    binary = make_compressor("binary-rescore-int8:8", DIM).fit(DOCS)
    assert (binary.bytes_per_vector, binary.stored_bytes_per_vector) == (DIM / 8, DIM / 8 + DIM)
    assert binary.transform(DOCS).shape == (len(DOCS), DIM // 8 + DIM)


@pytest.mark.parametrize(("m", "nbits"), [(16, 8), (16, 4), (8, 6)])
def test_pq_bytes_are_m_times_nbits_over_8(m: int, nbits: int) -> None:
    pq = ProductQuantizer(DIM, m, nbits).fit(DOCS)
    assert pq.bytes_per_vector == m * nbits / 8 == pq.transform(DOCS[:3]).shape[1]


def test_pq_picks_nbits_the_corpus_can_train_and_names_it() -> None:
    pq = make_compressor("pq:8", DIM).fit(DOCS[:200])
    assert pq.name == "pq:8x7"
    with pytest.raises(AdaptlabError, match="at least 256 training vectors"):
        make_compressor("pq:8x8", DIM).fit(DOCS[:200])


@pytest.mark.parametrize("method", ["pca", "matryoshka", "random-projection", "autoencoder"])
def test_reducers_output_unit_vectors_of_the_asked_dimension(method: str) -> None:
    reducer = make_compressor(f"{method}:16", DIM).fit(DOCS)
    codes = reducer.transform(DOCS)
    assert codes.shape == (len(DOCS), 16) and reducer.bytes_per_vector == 4 * 16
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)


def test_matryoshka_keeps_the_leading_dimensions() -> None:
    codes = make_compressor("matryoshka:8", DIM).fit(DOCS).transform(DOCS)
    lead = DOCS[:, :8] / np.linalg.norm(DOCS[:, :8], axis=1, keepdims=True)
    np.testing.assert_allclose(codes, lead, rtol=1e-6)


def test_pca_default_is_a_quarter_and_needs_enough_vectors() -> None:
    assert make_compressor("pca", DIM).fit(DOCS).transform(DOCS).shape[1] == DIM // 4
    with pytest.raises(AdaptlabError, match="needs at least 16"):
        make_compressor("pca", DIM).fit(DOCS[:10])
