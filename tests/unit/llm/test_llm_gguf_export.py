"""GGUF export round trip on a tiny real Llama: transformers reads back exactly the weights we wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_tiny_models import llm_root_fixture, tiny_llama_fixture  # noqa: F401

from adaptlab.errors import AdaptlabError
from adaptlab.llm.gguf_export import compare_greedy, export_gguf, permute_qk

pytestmark = pytest.mark.slow  # a real tokenizer / model load each (seconds on 2 cores)


def test_f32_export_reloads_bit_exact_and_generates_the_same(tiny_llama: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export_gguf(tiny_llama, tmp_path / "tiny.gguf", "f32")
    original = AutoModelForCausalLM.from_pretrained(tiny_llama).state_dict()
    reloaded = AutoModelForCausalLM.from_pretrained(out.parent, gguf_file=out.name).state_dict()
    assert set(original) == set(reloaded)
    for name, tensor in original.items():  # q/k only survive the round trip if the permutation is right
        assert torch.equal(tensor, reloaded[name]), name
    text = "Was regelt § 3 KSG? <|im_start|> Größe Wärmepumpe"
    assert (
        AutoTokenizer.from_pretrained(out.parent, gguf_file=out.name)(text)["input_ids"]
        == AutoTokenizer.from_pretrained(tiny_llama)(text)["input_ids"]
    )
    check = compare_greedy(tiny_llama, out, max_new_tokens=6, min_new_tokens=6)
    assert check["same"] and check["matching"] == 5


def test_f16_export_is_half_the_size_and_close(tiny_llama: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    f32 = export_gguf(tiny_llama, tmp_path / "a.gguf", "f32")
    f16 = export_gguf(tiny_llama, tmp_path / "b.gguf", "f16")
    assert f16.stat().st_size < 0.6 * f32.stat().st_size
    q = AutoModelForCausalLM.from_pretrained(f16.parent, gguf_file=f16.name).state_dict()
    ref = AutoModelForCausalLM.from_pretrained(tiny_llama).state_dict()
    assert max((q[k] - ref[k]).abs().max().item() for k in ref) < 1e-3
    assert not torch.equal(
        q["model.layers.0.self_attn.q_proj.weight"], ref["model.layers.0.self_attn.q_proj.weight"]
    )


def test_permutation_interleaves_rotary_halves() -> None:
    import torch

    rows = torch.arange(8.0).reshape(8, 1)  # one head of dim 8: halves (0..3) and (4..7)
    assert permute_qk(rows, 1).flatten().tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


def test_non_llama_models_are_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"model_type": "gpt2"}', encoding="utf-8")
    with pytest.raises(AdaptlabError, match="supports llama"):
        export_gguf(tmp_path / "m", tmp_path / "x.gguf")
