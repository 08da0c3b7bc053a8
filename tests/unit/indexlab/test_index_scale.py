"""The 1 M-vector benchmark's glue on 3,000 synthetic vectors: exact truth, every row, shared coarse quantizer."""

from __future__ import annotations

import numpy as np
import pytest

from adaptlab.indexlab.data import exact_topk, synthetic
from adaptlab.indexlab.scale import ScaleRow, Timing, run_scale

FIELDS = {
    "index",
    "params",
    "search_params",
    "vectors",
    "build_s",
    "memory_mb",
    "recall_at_10",
    "qps_1",
    "p50_ms",
    "p99_ms",
    "qps_batch",
    "note",
}


@pytest.fixture(scope="module")
def result() -> dict:
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 32)) + 3 * rng.standard_normal((12, 32))[rng.integers(0, 12, 300)]
    vectors = synthetic(real.astype(np.float32), 3040, noise=0.6)
    queries, corpus = vectors[:40].copy(), vectors[40:].copy()
    out = run_scale(
        corpus,
        queries,
        nlist=32,
        nprobes=(1, 32),
        efs=(8, 64),
        hnsw=(8, 40),
        rescores=(0, 8),
        pq_m=8,
        coarse_sample=3000,
        timing=Timing(batch=20, singles=5),
        flat_singles=5,
        hnsw_trial=1500,
        hnsw_max_build_s=0.0,
        progress=lambda _m: None,
    )
    out["corpus"], out["queries"] = corpus, queries
    return out


def rows(result: dict, index: str) -> list[ScaleRow]:
    return [r for r in result["rows"] if r.index == index]


def test_synthetic_rows_are_unit_length() -> None:
    real = np.random.default_rng(1).standard_normal((100, 16)).astype(np.float32)
    out = synthetic(real, 25_000, noise=0.5)
    assert out.shape == (25_000, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_truth_is_exact_and_flat_recall_is_one(result: dict) -> None:
    expected = exact_topk(result["queries"], result["corpus"], np.arange(len(result["corpus"])), 10)
    assert all(set(a) == set(b) for a, b in zip(result["truth"], expected))
    flat = [r for r in rows(result, "FLAT") if r.vectors == 3000]
    assert len(flat) == 1 and flat[0].recall_at_10 == 1.0


def test_every_row_has_the_fields_and_sane_values(result: dict) -> None:
    assert {r.index for r in result["rows"]} == {"FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "BINARY"}
    for row in result["rows"]:
        assert set(row.as_dict()) == FIELDS
        assert 0.0 <= row.recall_at_10 <= 1.0 and row.qps_1 > 0 and row.qps_batch > 0 and row.memory_mb > 0
        assert row.p99_ms >= row.p50_ms


def test_recall_rises_with_search_effort(result: dict) -> None:
    ivf = {r.search_params["nprobe"]: r.recall_at_10 for r in rows(result, "IVF_FLAT")}
    assert ivf[32] == 1.0 and ivf[32] > ivf[1]  # every list probed: exact
    pq = rows(result, "IVF_PQ")
    plain = next(r for r in pq if r.search_params == {"nprobe": 32})
    refined = next(
        r for r in pq if r.search_params.get("refine_k_factor") and r.search_params["nprobe"] == 32
    )
    assert refined.recall_at_10 > plain.recall_at_10
    binary = {r.search_params["rescore"]: r.recall_at_10 for r in rows(result, "BINARY")}
    assert binary[8] > binary[0]


def test_hnsw_over_budget_is_reported_on_the_trial_subset(result: dict) -> None:
    decision = result["hnsw"]
    assert decision["built_on"] == 1500 and decision["extrapolated_build_s"] > decision["trial_build_s"]
    assert all(r.vectors == 1500 for r in rows(result, "HNSW"))
    sub_flat = [r for r in rows(result, "FLAT") if r.vectors == 1500]
    assert len(sub_flat) == 1 and sub_flat[0].recall_at_10 == 1.0
    assert max(r.recall_at_10 for r in rows(result, "HNSW")) >= 0.9
