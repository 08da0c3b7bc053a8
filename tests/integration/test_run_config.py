"""`adaptlab run CONFIG`: the whole pipeline from YAML; bad configs are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli


@pytest.mark.slow
def test_run_config_ingests_embeds_evaluates_and_searches(workspace: Path, docs_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(
        f"""
name: mini
corpus: {{name: mini, paths: ["{docs_dir}"]}}
chunking: {{unit: tokens, model: minilm}}
models: [minilm, minilm-onnx-int8]
vectors: {{index_type: FLAT}}
eval: {{datasets: ["{FIXTURES / 'beir-mini'}"]}}
search: {{queries: ["Wärmepumpe"], k: 2}}
""",
        encoding="utf-8",
    )
    result = run_cli("run", str(config))
    assert result.returncode in (0, 1), result.stderr  # 1 only if a fixture file was skipped
    assert "ndcg@10" in result.stdout and "beir-mini" in result.stdout and "Wärmepumpe" in result.stdout
    saved = json.loads((workspace / "results" / "experiment-mini.json").read_text(encoding="utf-8"))
    scores = {r["model"]: r["metrics"]["ndcg@10"] for r in saved["eval"]}
    assert set(scores) == {"minilm", "minilm-onnx-int8"} and min(scores.values()) > 0.5
    assert all(e["vectors_in_collection"] == e["chunks_in_corpus"] for e in saved["embed"])


def test_bad_config_is_a_one_line_error(workspace: Path, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("models: [minilm]\nvectors: {index_typ: HNSW}\n", encoding="utf-8")
    result = run_cli("run", str(config))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {config}: unknown key 'vectors.index_typ'"
