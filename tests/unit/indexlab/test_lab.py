"""Index lab without Milvus: exact ground truth, FAISS IVF_PQ and binary sweeps, recommendation, frontier, config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adaptlab.config import load_config
from adaptlab.errors import AdaptlabError, ConfigError
from adaptlab.indexlab.candidates import default_grid
from adaptlab.indexlab.config_writer import write_index_config
from adaptlab.indexlab.data import exact_topk, from_arrays, recall_at_k
from adaptlab.indexlab.lab import LabResult, frontier, recommend, run_lab


def clustered(n: int = 1200, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    return centres[rng.integers(0, 20, n)] + 0.6 * rng.standard_normal((n, dim))


def result(
    index_type: str, recall: float, qps: float, engine: str = "milvus", filtered: float | None = None
) -> LabResult:
    return LabResult(
        engine,
        index_type,
        index_type,
        {"M": 16} if index_type == "HNSW" else {},
        {"ef": 64},
        1.0,
        100.0,
        recall,
        qps,
        1.0,
        2.0,
        qps * 5,
        recall if filtered is None else filtered,
        qps,
        1.0,
        2.0,
        qps,
    )


def test_exact_topk_matches_full_sort_and_respects_row_subset() -> None:
    data = from_arrays(clustered(300), n_queries=20)
    scores = data.queries @ data.vectors.T
    assert np.array_equal(
        exact_topk(data.queries, data.vectors, np.arange(len(data.vectors)), 10),
        np.argsort(-scores, axis=1)[:, :10],
    )
    filtered = data.truth(True)
    assert np.all(data.tags[filtered] == data.filter_tag)
    assert recall_at_k(filtered, filtered) == 1.0 and recall_at_k(filtered[:, ::-1], filtered) == 1.0
    assert recall_at_k(np.full_like(filtered, -1), filtered) == 0.0


def test_labels_choose_a_filter_near_thirty_percent() -> None:
    labels = ["de"] * 700 + ["en"] * 300 + ["fr"] * 50
    data = from_arrays(clustered(1050), labels=labels, n_queries=50)
    assert data.tag_names[data.filter_tag] == "en" and abs(data.filter_share - 0.3) < 0.05
    with pytest.raises(AdaptlabError, match="at least 20 vectors"):
        from_arrays(np.zeros((5, 8)))


def test_faiss_sweep_measures_recall_and_speed() -> None:
    import faiss

    faiss.omp_set_num_threads(1)  # OpenMP spinning on a busy 2-core runner costs more than it gains here
    data = from_arrays(clustered(800), n_queries=40)
    grid = default_grid(len(data.vectors), data.dim, ("IVF_PQ", "BINARY"))
    results, skipped, confirm, cache = run_lab(data, grid, batch=20, singles=5)
    assert not skipped and not cache and not confirm  # no Milvus setting: nothing to confirm or cache-test
    by = {r.setting: r for r in results}
    assert {r.index_type for r in results} == {"IVF_PQ", "BINARY"}
    assert by["BINARY rescore=10"].recall_at_10 > by["BINARY rescore=0"].recall_at_10
    assert (
        by["BINARY rescore=10"].recall_at_10 >= 0.9 and by["BINARY rescore=10"].filtered_recall_at_10 >= 0.9
    )
    assert by["BINARY rescore=0"].bytes_per_vector < data.dim  # sign bits: dim/8 bytes plus the index header
    for r in results:
        assert r.qps_1 > 0 and r.qps_batch > 0 and r.p99_ms >= r.p50_ms > 0


def test_recommend_picks_fastest_milvus_meeting_target_and_frontier() -> None:
    rows = [
        result("AUTOINDEX", 1.0, 100),
        result("HNSW", 0.97, 300),
        result("HNSW", 0.90, 900),
        result("IVF_FLAT", 0.99, 400, filtered=0.5),
        result("IVF_PQ", 0.96, 5000, engine="faiss"),
    ]
    best, base = recommend(rows, 0.95)
    assert (
        best is rows[1] and base is rows[0]
    )  # IVF_FLAT fails filtered recall; FAISS is never written to config
    assert recommend(rows, 1.01)[0] is None
    front = frontier(rows)
    assert rows[4] in front and rows[0] in front and rows[1] not in front


def test_write_index_config_keeps_other_sections(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("name: mine\nmodels: [minilm]\nvectors:\n  uri: /tmp/m.db\n", encoding="utf-8")
    write_index_config(path, result("HNSW", 0.97, 300))
    config = load_config(path)
    assert config.name == "mine" and config.vectors.uri == "/tmp/m.db"
    assert (config.vectors.index_type, config.vectors.params, config.vectors.search_params) == (
        "HNSW",
        {"M": 16},
        {"ef": 64},
    )
    with pytest.raises(ConfigError, match="FAISS"):
        write_index_config(path, result("IVF_PQ", 0.97, 300, engine="faiss"))


def test_unknown_index_type_is_named() -> None:
    with pytest.raises(AdaptlabError, match="IVF_PQQ"):
        default_grid(1000, 32, ("HNSW", "IVF_PQQ"))
