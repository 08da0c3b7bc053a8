"""Layer-drop distillation: fewer MiniLM layers, distilled towards the 6-layer teacher, saved and registered."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adaptlab.compress.layer_drop import (
    MANIFEST,
    distill,
    drop_layers,
    layer_count,
    parse_keep,
    spread_layers,
)
from adaptlab.errors import AdaptlabError
from adaptlab.models.resolve import minilm_dir
from adaptlab.train.model_store import load_model, registered_models
from adaptlab.workspace import Workspace
from conftest import run_cli

TEXTS = [
    "Photovoltaik wandelt Sonnenlicht in Strom um.",
    "Offshore wind farms need grid connections to the coast.",
    "§ 1 Zweck dieses Gesetzes ist eine sichere, preisgünstige und umweltverträgliche Energieversorgung.",
    "A heat pump moves heat from a cold place to a warm one.",
    "Der Netzbetreiber muss die Anlage unverzüglich an sein Netz anschließen.",
    "Battery storage shifts solar power into the evening.",
    "Biogas is produced by anaerobic digestion of organic matter.",
    "Die Bundesnetzagentur führt das Marktstammdatenregister.",
]


def test_spread_and_parse_choose_valid_layers() -> None:
    assert (
        spread_layers(6, 3) == [1, 3, 5]
        and spread_layers(6, 3, 0) == [0, 2, 4]
        and spread_layers(6, 2) == [2, 5]
    )
    assert parse_keep("5, 1,3", 6) == [1, 3, 5]
    for bad in ("0,6", "1,1", "a,b", ""):
        with pytest.raises(AdaptlabError, match="--keep"):
            parse_keep(bad, 6)
    with pytest.raises(AdaptlabError, match="--layers 7"):
        spread_layers(6, 7)


@pytest.mark.slow
def test_dropping_changes_vectors_and_distillation_moves_them_back(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    teacher = SentenceTransformer(str(minilm_dir()), device="cpu")
    target = teacher.encode(TEXTS, convert_to_numpy=True)
    every = drop_layers(SentenceTransformer(str(minilm_dir()), device="cpu"), range(6))
    assert np.allclose(every.encode(TEXTS, convert_to_numpy=True), target, atol=1e-5)  # keeping all = teacher
    student = drop_layers(SentenceTransformer(str(minilm_dir()), device="cpu"), [0, 2, 4])
    assert layer_count(student) == 3
    before = float(np.mean((student.encode(TEXTS, convert_to_numpy=True) - target) ** 2))
    steps, _, _, _ = distill(
        student,
        teacher,
        TEXTS,
        batch_size=8,
        learning_rate=5e-4,
        max_steps=2,
        checkpoints=tmp_path / "checkpoints",
    )
    after = float(np.mean((student.encode(TEXTS, convert_to_numpy=True) - target) ** 2))
    assert steps == 2 and before > 1e-4 and after < 0.8 * before, (before, after)


@pytest.mark.slow
def test_cli_layer_drop_saves_registers_and_loads(workspace: Path, shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "minilm-l2"
    done = run_cli(
        "compress",
        "model",
        "--model",
        "minilm",
        "--to",
        "layer-drop",
        "--layers",
        "2",
        "--sentences",
        "20",
        "--max-steps",
        "1",
        "--name",
        "tiny-student",
        str(out),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "tiny-student" in done.stdout
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["layers_kept"] == [2, 5] and manifest["train_sentences"] == 20 and manifest["steps"] == 1
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"] == 2
    ws = Workspace.resolve(workspace)
    assert registered_models(ws)["tiny-student"]["path"] == str(out.resolve())
    vectors = load_model(ws, "tiny-student").encode_documents(TEXTS[:2])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
