"""The padding-free packed forward on CPU: step planning, and agreement with the Hugging Face forward
(BERT and XLM-R position offsets) and with sentence-transformers through the FastEncoder."""

from __future__ import annotations

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.models.engine.packing import plan_packed, step_arrays
from adaptlab.models.resolve import minilm_dir


def test_plan_packed_keeps_rows_in_order_and_fills_every_step() -> None:
    lengths = np.random.default_rng(2).integers(3, 128, 300)
    steps = plan_packed(lengths, step_tokens=1024, max_length=128)
    assert steps[0].row_start == 0 and steps[-1].row_stop == 300
    assert all(a.row_stop == b.row_start for a, b in zip(steps, steps[1:]))
    for step in steps:
        seglens = np.diff(step.cu_seqlens)
        assert step.tokens == 1024 == step.cu_seqlens[-1]
        assert seglens[: step.rows].tolist() == lengths[step.row_start : step.row_stop].tolist()
        assert seglens.max() <= 128 and step.max_length == seglens.max()
    # a step is closed only when the next row would not fit
    for step, nxt in zip(steps, steps[1:]):
        assert lengths[step.row_start : step.row_stop].sum() + lengths[nxt.row_start] > 1024


def test_plan_packed_pads_the_last_step_to_a_granule_and_rejects_rows_too_long() -> None:
    steps = plan_packed(np.array([100, 200, 30]), step_tokens=4096, max_length=512, pad_final_to=256)
    assert len(steps) == 1 and steps[0].tokens == 512
    assert np.diff(steps[0].cu_seqlens).tolist() == [100, 200, 30, 182]
    with pytest.raises(ValueError, match="does not fit"):
        plan_packed(np.array([600]), step_tokens=4096, max_length=512)


def test_step_arrays_give_ids_positions_and_segments_per_position() -> None:
    lengths = np.array([3, 2, 4])
    ids = np.arange(100, 109)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    (step,) = plan_packed(lengths, step_tokens=12, max_length=4)
    out_ids, positions, segments = step_arrays(ids, offsets, step, pad_id=0)
    assert out_ids.tolist() == list(range(100, 109)) + [0, 0, 0]
    assert positions.tolist() == [0, 1, 2, 0, 1, 0, 1, 2, 3, 0, 1, 2]
    assert segments.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3]


def _tiny(kind: str):  # noqa: ANN202 - a Hugging Face model
    import torch
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    shape = dict(
        vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    torch.manual_seed(0)
    if kind == "bert":
        return BertModel(BertConfig(**shape, max_position_embeddings=64)).eval()
    return XLMRobertaModel(XLMRobertaConfig(**shape, max_position_embeddings=70, pad_token_id=1)).eval()


@pytest.mark.parametrize(
    ("kind", "residual_in_gemm"), [("bert", False), ("xlm-roberta", False), ("bert", True), ("xlm-roberta", True)]
)
def test_packed_forward_matches_the_hugging_face_forward(kind: str, residual_in_gemm: bool) -> None:
    import torch

    from adaptlab.models.engine.packed_bert import PackedEncoder, pool_segments

    model = _tiny(kind)
    lengths = np.array([5, 17, 1, 40, 9])
    rng = np.random.default_rng(0)
    rows = [rng.integers(5, 120, n) for n in lengths]
    (step,) = plan_packed(lengths, step_tokens=128, max_length=64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    ids, positions, segments = (
        torch.from_numpy(a) for a in step_arrays(np.concatenate(rows), offsets, step, 1)
    )
    cu = torch.from_numpy(step.cu_seqlens)
    with torch.inference_mode():
        encoder = PackedEncoder(model, residual_in_gemm=residual_in_gemm)
        hidden = encoder.forward(ids, positions, cu, step.max_length)
        pooled = pool_segments(hidden, segments, cu, step.rows, "mean")
        for i, row in enumerate(rows):
            expected = model(input_ids=torch.from_numpy(row).unsqueeze(0)).last_hidden_state[0]
            got = hidden[int(offsets[i]) : int(offsets[i + 1])]
            torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)
            torch.testing.assert_close(pooled[i], expected.mean(0), atol=2e-5, rtol=1e-4)
        cls = pool_segments(hidden, segments, cu, step.rows, "cls")
        torch.testing.assert_close(cls[3], hidden[int(offsets[3])])


@pytest.mark.slow
def test_fast_encoder_packed_agrees_with_sentence_transformers_on_cpu() -> None:
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.engine import FastEncoder, FastEncoderConfig

    words = ("Die Netzbetreiber sind verpflichtet, Anlagen unverzüglich anzuschließen. " * 40).split()
    rng = np.random.default_rng(4)
    texts = [" ".join(words[s : s + n]) for s, n in zip(rng.integers(0, 200, 30), rng.integers(1, 150, 30))]
    reference = SentenceTransformer(str(minilm_dir()), device="cpu").encode(texts, normalize_embeddings=True)
    config = FastEncoderConfig(device="cpu", workers=0, block_size=8, token_budget=512, packing="on")
    with FastEncoder(minilm_dir(), config) as encoder:
        assert encoder.packed is not None
        vectors = encoder.encode(texts)
    assert vectors.shape == (30, 384)
    assert ((vectors * reference).sum(axis=1)).min() > 0.9999


def test_packing_mode_is_checked() -> None:
    from adaptlab.models.engine.fast_encoder import _use_packing

    bert = _tiny("bert").config
    assert _use_packing("auto", "cpu", bert) is False  # CPUs keep the padded Hugging Face path
    assert _use_packing("on", "cpu", bert) is True
    with pytest.raises(AdaptlabError, match="unknown"):
        _use_packing("sometimes", "cpu", bert)
    bert.model_type = "distilbert"
    with pytest.raises(AdaptlabError, match="cannot run packed"):
        _use_packing("on", "cuda", bert)


def _three_row_step(seed: int):  # noqa: ANN202 - (ids, positions, segments, cu, max_length) tensors
    """A packed step of three random rows (30, 12 and 50 tokens) for the tiny models."""
    import torch

    lengths = np.array([30, 12, 50])
    ids = np.random.default_rng(seed).integers(5, 120, int(lengths.sum()))
    (step,) = plan_packed(lengths, step_tokens=128, max_length=64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    ids_t, positions, segments = (torch.from_numpy(a) for a in step_arrays(ids, offsets, step, 0))
    return ids_t, positions, segments, torch.from_numpy(step.cu_seqlens), step.max_length


def test_residual_in_gemm_matches_the_plain_forward_with_the_gelu_epilogue() -> None:
    import torch

    from adaptlab.models.engine.packed_bert import PackedEncoder

    model = _tiny("bert")
    ids, positions, _, cu, longest = _three_row_step(5)
    with torch.inference_mode():
        plain, fused = (
            PackedEncoder(model, gelu_epilogue=True, residual_in_gemm=flag).forward(ids, positions, cu, longest)
            for flag in (False, True)
        )
        torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-4)


def test_blocks_start_small_and_double_up_to_the_block_size() -> None:
    from adaptlab.models.engine import FastEncoder, FastEncoderConfig, TokenizedShard

    shards = [TokenizedShard(ids=np.arange(5), lengths=np.ones(5, dtype=np.int32)) for _ in range(20)]
    encoder = FastEncoder.__new__(FastEncoder)  # _blocks needs only the config
    encoder.config = FastEncoderConfig(first_block=10, block_size=35)
    assert [len(block.lengths) for block in encoder._blocks(iter(shards))] == [10, 20, 35, 35]


def test_fp8_products_stay_close_to_the_full_precision_forward() -> None:
    import torch

    from adaptlab.models.engine.packed_bert import PackedEncoder, pool_segments

    model = _tiny("bert")
    ids, positions, segments, cu, longest = _three_row_step(1)
    with torch.inference_mode():
        full = PackedEncoder(model).forward(ids, positions, cu, longest)
        fp8 = PackedEncoder(model, fp8=True).forward(ids, positions, cu, longest)
        a, b = (pool_segments(h, segments, cu, 3, "mean") for h in (full, fp8))
    cosine = torch.nn.functional.cosine_similarity(a, b)
    assert cosine.min() > 0.99
    assert not torch.equal(full, fp8)  # the products really ran in float8


def test_a_failing_compile_falls_back_to_eager_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from adaptlab.models.engine.packed_bert import PackedEncoder

    def broken_compile(fn, **_kwargs):  # noqa: ANN001, ANN202 - what a machine without Triton does
        def fails(*_args, **_kw):  # noqa: ANN002, ANN003, ANN202
            raise RuntimeError("no working C compiler")

        return fails

    monkeypatch.setattr(torch, "compile", broken_compile)
    model = _tiny("bert")
    encoder = PackedEncoder(model, compile=True)
    (step,) = plan_packed(np.array([6, 9]), step_tokens=32, max_length=64)
    offsets = np.array([0, 6, 15])
    ids, positions, _ = (torch.from_numpy(a) for a in step_arrays(np.arange(5, 20), offsets, step, 0))
    cu = torch.from_numpy(step.cu_seqlens)
    with pytest.warns(UserWarning, match="eager"), torch.inference_mode():
        hidden = encoder.forward(ids, positions, cu, step.max_length)
    assert encoder.compiled is False and hidden.shape == (32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(encoder.forward(ids, positions, cu, step.max_length), hidden)


def test_packing_needs_an_ampere_or_newer_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from adaptlab.models.engine.fast_encoder import _use_packing
    from adaptlab.models.engine.packed_bert import varlen_attention_available

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))  # a T4
    assert not varlen_attention_available("cuda")
    assert _use_packing("auto", "cuda", _tiny("bert").config) is False
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))  # an H100
    assert varlen_attention_available("cuda:0")
