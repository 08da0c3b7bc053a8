"""The real harness with MiniLM on the tiny BEIR fixture: results, files, MLflow run, and the vector cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adaptlab.compress import compress
from adaptlab.pipeline import Session
from conftest import FIXTURES

pytestmark = pytest.mark.slow


def test_harness_writes_results_plot_and_reuses_cached_vectors(tmp_path: Path) -> None:
    with Session.open(tmp_path / "ws") as session:
        report = compress(session, ["minilm"], [str(FIXTURES / "beir-mini")], ["int8", "binary-rescore", "pca:4"],
                          output=tmp_path / "out", repeats=1)
        cached = sorted((session.workspace.root / "cache" / "vectors").glob("*.npy"))
        again = compress(session, ["minilm"], [str(FIXTURES / "beir-mini")], ["int8"], output=tmp_path / "out2",
                         repeats=1)
        runs = session.workspace.root / "mlflow.sqlite"
    assert [r.method for r in report.results] == ["float32", "int8", "binary-rescore:4", "pca:4"]
    reference = report.results[0]
    assert reference.quality_kept == 1.0 and reference.ndcg_at_10 > 0.9 and reference.compression == 1.0
    assert report.results[1].bytes_per_vector == 384 and report.results[2].compression == 32.0
    assert json.loads(report.json_path.read_text())["results"][1]["method"] == "int8"
    assert report.plot_path.read_bytes()[:4] == b"\x89PNG"
    assert len(cached) == 2 and sorted((tmp_path / "ws" / "cache" / "vectors").glob("*.npy")) == cached
    assert again.results[1].ndcg_at_10 == report.results[1].ndcg_at_10
    assert runs.is_file()
