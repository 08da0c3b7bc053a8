"""`adaptlab run` with a finetune: section: adapters on two zoo models become one registered ensemble
that embed and search use by name, and the before/after table names the best off-the-shelf model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow


def test_run_fits_an_adapter_ensemble_that_search_uses(workspace: Path, docs_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "ft.yaml"
    config.write_text(
        f"""
name: ft
corpus: {{name: mini, paths: ["{docs_dir}"]}}
chunking: {{unit: tokens, model: minilm}}
models: []
vectors: {{index_type: FLAT}}
finetune:
  base: minilm
  method: adapter
  ensemble: [minilm-onnx-int8]
  ensemble_weights: [1.0, 0.5]
  adapter_epochs: 3
  heldout_fraction: 0
  eval: ["{FIXTURES / 'beir-mini'}"]
  compare: [bm25, minilm]
  output: tinyens
""",
        encoding="utf-8",
    )
    result = run_cli("run", str(config))
    assert result.returncode in (0, 1), result.stderr  # 1 only if a fixture file was skipped
    assert "1/2 ingest" in result.stderr and "2/2 fine-tune" in result.stderr and "embed with" not in result.stderr
    assert "after vs best other" in result.stdout and "tinyens" in result.stdout
    saved = json.loads((workspace / "results" / "experiment-ft.json").read_text(encoding="utf-8"))
    roles = {(s["role"], s["model"]) for s in saved["finetune"]["scores"]}
    assert {("bm25", "bm25"), ("before", "minilm"), ("after", "tinyens")} <= roles
    folder = Path(saved["finetune"]["path"])
    ensemble = json.loads((folder / "ensemble.json").read_text(encoding="utf-8"))
    assert [m["weight"] for m in ensemble["members"]] == [1.0, 0.5]
    assert all((folder / m["folder"] / "adapter.json").is_file() for m in ensemble["members"])

    assert run_cli("embed", "--model", "tinyens").returncode == 0
    found = run_cli("search", "--model", "tinyens", "-k", "1", "Windenergie")
    assert found.returncode == 0, found.stderr
    assert "windenergie" in found.stdout.lower()
