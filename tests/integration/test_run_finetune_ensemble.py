"""`adaptlab run` with a finetune: section: adapters on two zoo models become one registered ensemble
that embed and search use by name, and the before/after table names the best off-the-shelf model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES, run_cli, write_topic_pairs

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


def test_auto_ensemble_weights_are_chosen_on_held_out_pairs(tmp_path: Path) -> None:
    from adaptlab.config import ExperimentConfig
    from adaptlab.pipeline import Session
    from adaptlab.train.finetune_config import FinetuneConfig
    from adaptlab.train.finetune_stage import finetune

    pairs_file = write_topic_pairs(tmp_path / "pairs.jsonl")
    config = FinetuneConfig(base="minilm", method="adapter", ensemble=["minilm-onnx-int8"], adapter_epochs=2,
                            pairs=str(pairs_file), heldout_fraction=0.5, eval=[], compare=[], output="weighed",
                            ensemble_weights="auto")
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as session:
        report = finetune(session, config)
        saved = json.loads((report.path / "ensemble.json").read_text(encoding="utf-8"))
        chosen = saved["weights_chosen_on_heldout"]
        assert chosen["queries"] == report.heldout_pairs >= 10 and len(chosen["scores"]) == 5
        weights = [m["weight"] for m in saved["members"]]
        assert weights and all(w > 0 for w in weights) and sum(weights) <= 1.0
        best = max(chosen["scores"].values())
        label = "/".join(f"{w:g}" for w in weights) if len(weights) == 2 else None
        assert (label == "0.5/0.5" and best < chosen["equal_score"] + chosen["min_gain"]) or (
            (label is None or chosen["scores"][label] == best) and best >= chosen["equal_score"] + chosen["min_gain"])
        # a member weighted 0 is not kept: its folder is gone and serving does not encode with it
        assert sorted(p.name for p in (report.path / "members").iterdir()) == sorted(
            Path(m["folder"]).name for m in saved["members"])
        assert session.embedder("weighed").encode_queries(["Windenergie Regel 1"]).shape[0] == 1


def test_a_fully_trained_base_joins_adapter_members_in_one_ensemble(tmp_path: Path) -> None:
    from adaptlab.config import ExperimentConfig
    from adaptlab.pipeline import Session
    from adaptlab.train.finetune_config import FinetuneConfig
    from adaptlab.train.finetune_stage import finetune, heldout_dataset

    pairs_file = write_topic_pairs(tmp_path / "pairs.jsonl")
    config = FinetuneConfig(base="minilm", method="full", ensemble=["minilm-onnx-int8"], ensemble_weights=[1.0, 0.5],
                            max_steps=1, batch_size=4, max_seq_length=32, learning_rate=5e-5, adapter_epochs=2,
                            pairs=str(pairs_file), heldout_fraction=0.5, eval=[str(FIXTURES / "beir-mini")],
                            compare=["hybrid"], output="fullens")
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as session:
        report = finetune(session, config)
        saved = json.loads((report.path / "ensemble.json").read_text(encoding="utf-8"))
        assert saved["method"] == "full" and [m["weight"] for m in saved["members"]] == [1.0, 0.5]
        trained, adapted = (report.path / m["folder"] for m in saved["members"])
        assert (trained / "modules.json").is_file() and not (trained / "adapter.json").exists()
        adapter = json.loads((adapted / "adapter.json").read_text(encoding="utf-8"))
        assert adapter["base"] == "minilm-onnx-int8"
        # the member adapter trains at the adapter default (1e-3), not at the full fine-tune's rate
        assert adapter["params"]["learning_rate"] == 1e-3
        assert not (report.path.parent / "fullens.checkpoints").exists()
        assert (report.path / "hybrid.json").is_file()
        card = (report.path / "README.md").read_text(encoding="utf-8")
        assert "## Ensemble" in card and "`members/minilm-onnx-int8`: weight 0.5" in card
        heldout = heldout_dataset(session, config)  # what the weights were chosen on, rebuilt for benchmarks
        assert len(heldout.queries) == report.heldout_pairs and set(heldout.queries.values()) <= {
            json.loads(line)["query"] for line in pairs_file.read_text(encoding="utf-8").splitlines()}
        after = [s for s in report.scores if s.role == "after"]
        assert after and after[0].result.model == "fullens"
        # served like any registered model: embedded into Milvus, searched with the calibrated hybrid weight
        from adaptlab.pipeline import embed, search

        session.ingest([FIXTURES / "docs"])
        assert embed(session, "fullens").embedded_now > 0
        assert session.hybrid_retriever("fullens").weights == report.hybrid_weights
        hits = search(session, "fullens", ["Windenergie an Land"], k=3, mode="hybrid")[0]
        assert hits and "wind" in " ".join(h.text for h in hits).lower()
        served = session.embedder("fullens")
        assert served.dim == 2 * 384
        vectors = served.encode_queries(["Windenergie Regel 1"])
        # the trained member's half is the trained model's own vector (weighted, renormalised)
        own = session.embedder(str(trained)).encode_queries(["Windenergie Regel 1"])
        half = vectors[0, :384] / np.linalg.norm(vectors[0, :384])
        assert float(half @ own[0]) > 0.999
