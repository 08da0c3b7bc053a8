"""ONNX export round trip on a tiny real Llama: onnxruntime's logits (with the KV cache) and greedy tokens
equal transformers'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_tiny_models import llm_root_fixture, tiny_llama_fixture  # noqa: F401

from adaptlab.errors import AdaptlabError
from adaptlab.llm.onnx_export import MANIFEST, MODEL_FILE, OnnxCausalLM
from adaptlab.llm.stages import ExportConfig, export_stage
from adaptlab.workspace import Workspace

pytestmark = pytest.mark.slow  # a real export and two runtimes (seconds on 2 cores)


def test_onnx_export_generates_like_transformers_and_records_the_check(
    tiny_llama: Path, tmp_path: Path
) -> None:
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM

    ws = Workspace.resolve(tmp_path / "ws")
    report = export_stage(
        ExportConfig(model=str(tiny_llama), out=str(tmp_path / "onnx"), format="onnx", check_tokens=8), ws
    )
    assert report["check"]["same"] and report["check"]["matching"] == 5
    assert set(report["check"]["tokens_per_s"]) == {"transformers", "onnxruntime"}
    manifest = json.loads((tmp_path / "onnx" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["check"]["matching"] == 5 and manifest["source"] == str(tiny_llama)
    assert (tmp_path / "onnx" / MODEL_FILE).stat().st_size > 0 and not (tmp_path / "onnx.tmp").exists()

    assert manifest["kv_cache"] is True

    # a left-padded batch, then one cached step: positions come from the mask inside the graph and the
    # presents of step 1 are step 2's past, matching transformers' full forward over the whole sequence
    runner = OnnxCausalLM(tmp_path / "onnx")
    ids = np.array([[5, 6, 7, 8, 9, 10], [0, 0, 7, 8, 9, 10]], dtype=np.int64)
    mask = np.array([[1] * 6, [0, 0, 1, 1, 1, 1]], dtype=np.int64)
    first, past = runner.run(ids, mask)
    nxt = np.array([[11], [12]], dtype=np.int64)
    second, _ = runner.run(nxt, np.concatenate([mask, [[1], [1]]], axis=1), past)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama).eval()
    full_ids = torch.tensor(np.concatenate([ids, nxt], axis=1))
    full_mask = torch.tensor(np.concatenate([mask, [[1], [1]]], axis=1))
    positions = (full_mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        hf = model(input_ids=full_ids, attention_mask=full_mask, position_ids=positions).logits.numpy()
    assert np.abs(first[:, -1] - hf[:, -2]).max() < 1e-4
    assert np.abs(second[:, -1] - hf[:, -1]).max() < 1e-4
    assert np.abs(first[1, -1] - first[0, -1]).max() > 1e-3  # the mask matters: not a constant


def test_export_needs_a_model_folder(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    with pytest.raises(AdaptlabError, match="not an HF model folder"):
        export_stage(ExportConfig(model=str(tmp_path), out=str(tmp_path / "o"), format="onnx"), ws)
