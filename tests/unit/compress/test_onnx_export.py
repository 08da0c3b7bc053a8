"""`adaptlab compress model`: MiniLM → fused ONNX → dynamic int8, a folder that loads as a model and searches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adaptlab.compress.onnx_export import MANIFEST, MODEL_FILE
from adaptlab.models.loading import load_embedder
from adaptlab.models.registry import get_spec
from adaptlab.models.resolve import minilm_dir
from conftest import run_cli

pytestmark = pytest.mark.slow

TEXTS = [
    "Photovoltaik wandelt Sonnenlicht in Strom um.",
    "Offshore wind farms need grid connections to the coast.",
    "§ 1 Zweck dieses Gesetzes ist eine sichere, preisgünstige und umweltverträgliche Energieversorgung.",
]


@pytest.fixture(scope="module")
def int8_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "minilm-int8"
    done = run_cli("compress", "model", "--model", "minilm", "--to", "onnx-int8", str(out), timeout=900)
    assert done.returncode == 0, done.stderr
    assert "MB" in done.stdout and "Traceback" not in done.stderr
    return out


def test_export_writes_a_small_self_describing_folder(int8_folder: Path) -> None:
    manifest = json.loads((int8_folder / MANIFEST).read_text(encoding="utf-8"))
    assert (
        manifest["pooling"] == "mean" and manifest["normalize"] is True and manifest["max_seq_length"] == 256
    )
    assert manifest["fused"] is True and manifest["quantization"]["per_channel"] is True
    assert (int8_folder / "tokenizer.json").is_file()
    fp32_mb = (minilm_dir() / "model.safetensors").stat().st_size / 1e6
    assert (int8_folder / MODEL_FILE).stat().st_size / 1e6 < 0.3 * fp32_mb  # ≥ 70 % smaller
    assert manifest["check_min_cosine"] >= 0.97


def test_folder_loads_as_a_model_close_to_sentence_transformers(int8_folder: Path, tmp_path: Path) -> None:
    spec = get_spec(str(int8_folder))
    assert spec.backend == "onnx" and spec.dim == 384 and spec.local_path == int8_folder.resolve()
    onnx = load_embedder(str(int8_folder), tmp_path).encode_documents(TEXTS)
    reference = load_embedder("minilm", tmp_path).encode_documents(TEXTS)
    cosines = np.sum(onnx * reference, axis=1)
    assert onnx.shape == (3, 384) and np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert cosines.min() > 0.97, cosines
    # ranking is kept: each text is nearest to itself across the two models
    assert np.array_equal(np.argmax(onnx @ reference.T, axis=1), np.arange(3))


def test_embed_and_search_with_the_folder(int8_folder: Path, workspace: Path, docs_dir: Path) -> None:
    assert run_cli("ingest", str(docs_dir)).returncode in (0, 1)
    embed = run_cli("embed", "--model", str(int8_folder), "--json")
    assert embed.returncode == 0, embed.stderr
    report = json.loads(embed.stdout)[0]
    assert report["vectors_in_collection"] == report["chunks_in_corpus"] > 0
    shown = run_cli("search", "Photovoltaik Sonnenlicht", "-k", "2", "--model", str(int8_folder))
    assert shown.returncode == 0, shown.stderr
    assert "Photovoltaik" in shown.stdout


def test_bad_target_and_non_exportable_model_are_one_line_errors(tmp_path: Path) -> None:
    bad = run_cli("compress", "model", "--to", "onnx-int4", str(tmp_path / "x"))
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: --to 'onnx-int4' is not a target; choose from onnx-fp32, onnx-int8, layer-drop"
    ]
    e5 = run_cli("compress", "model", "--model", "e5-small", str(tmp_path / "y"))
    assert e5.returncode == 2 and "only sentence-transformers models" in e5.stderr
    assert len(e5.stderr.strip().splitlines()) == 1 and not (tmp_path / "y").exists()
