"""A padding-free forward for BERT-family encoders (BERT, RoBERTa, XLM-R): packed tokens, varlen attention.

The Hugging Face forward runs a [rows, length, hidden] batch with an attention mask. Here every token
of a step sits in one [tokens, hidden] matrix (see `packing`), attention runs per row through
variable-length flash attention (on CPUs: short rows grouped under one masked SDPA call, see
`segment_attention`), and the rest of the layer is four matrix products with the
element-wise work fused around them:
- the query, key and value projections are one product against the concatenated weights;
- bias + residual + LayerNorm after each output projection run as one compiled kernel
  (`compile=True`, static shapes, so compiled once per model);
- bias + GELU can run in the matrix product's epilogue (`gelu_epilogue=True`, cuBLASLt; tanh-approximate
  GELU, so vectors move by ~1e-4 in cosine);
- with `residual_in_gemm=True` the residual is added inside the output and down projections (the
  product accumulates onto the residual in place), so the LayerNorm kernel after each reads one matrix
  instead of two;
- on CPU with bfloat16 weights, `prepack=True` reorders each weight once into oneDNN's blocked layout (what
  `torch.compile`'s CPU freezing does) and runs bias + GELU in the product's epilogue; plain `addmm`
  reorders the weight on every call;
- with `fp8=True` the four matrix products run in float8 (e4m3) with one scale per weight row and one
  per token, computed on the fly (`torch._scaled_mm`, Hopper/Ada tensor cores: ~1.4-1.6x the bf16 rate);
  the quantisation is fused into the element-wise kernels around the products when compiled.
Weights are shared with the Hugging Face model (no copy) except the concatenated QKV matrix.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adaptlab.models.engine.segment_attention import GroupedSegmentAttention, attention_varlen

PACKABLE_MODEL_TYPES = ("bert", "roberta", "xlm-roberta")
_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")


def packable(config: Any) -> bool:
    """True when `config` describes an encoder this module can run."""
    return (
        getattr(config, "model_type", None) in PACKABLE_MODEL_TYPES
        and getattr(config, "hidden_act", None) in _ACTIVATIONS
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
    )


def varlen_attention_available(device: str = "cuda") -> bool:
    """Variable-length flash attention runs here: this torch build has it and the GPU is Ampere or newer
    (PyTorch's flash kernels need compute capability 8.0; a T4 or V100 keeps the padded path)."""
    import torch

    if not (torch.cuda.is_available() and hasattr(torch.ops.aten, "_flash_attention_forward")):
        return False
    return torch.cuda.get_device_capability(torch.device(device)) >= (8, 0)


@dataclass
class _Layer:
    qkv_weight: Any
    qkv_bias: Any
    out_weight: Any
    out_bias: Any
    ln1_weight: Any
    ln1_bias: Any
    up_weight: Any
    up_bias: Any
    down_weight: Any
    down_bias: Any
    ln2_weight: Any
    ln2_bias: Any


class PackedEncoder:
    """Forward of a Hugging Face BERT-family model over packed steps; returns [tokens, hidden] states."""

    def __init__(
        self,
        model: Any,
        compile: bool = False,
        gelu_epilogue: bool = False,
        fp8: bool = False,
        residual_in_gemm: bool = False,
        prepack: bool = False,
    ) -> None:
        config = model.config
        model.requires_grad_(False)  # inference only; lets compiled pieces skip autograd
        if not packable(config):
            raise ValueError(f"model type {getattr(config, 'model_type', '?')} cannot run packed")
        self.hidden = int(config.hidden_size)
        self.heads = int(config.num_attention_heads)
        self.head_dim = self.hidden // self.heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.eps = float(config.layer_norm_eps)
        self.activation = str(config.hidden_act)
        self.gelu_epilogue = gelu_epilogue and self.activation.startswith("gelu")
        emb = model.embeddings
        self.word = emb.word_embeddings.weight
        self.position = emb.position_embeddings.weight
        self.type0 = emb.token_type_embeddings.weight[0]
        self.emb_ln = (emb.LayerNorm.weight, emb.LayerNorm.bias)
        # RoBERTa and XLM-R count positions from padding_idx + 1
        self.position_offset = 0 if config.model_type == "bert" else int(config.pad_token_id) + 1
        self.layers = [self._layer(block) for block in model.encoder.layer]
        self.fp8 = [_Fp8Layer.of(layer) for layer in self.layers] if fp8 else None
        self.device = self.word.device
        self._attention: Callable[..., Any] = (
            attention_varlen if self.device.type == "cuda" else GroupedSegmentAttention()
        )
        self.residual_in_gemm = residual_in_gemm
        self.prepacked = _prepack(self.layers) if prepack and self.device.type == "cpu" else None
        self.compiled = False
        self._use_kernels(compile)

    def _use_kernels(self, compile: bool) -> None:
        """The element-wise pieces: eager, or torch.compiled with static shapes (fused kernels)."""
        import torch

        pieces: list[Callable[..., Any]] = [
            _post_attention,
            _feed_forward(self.activation),
            _fp8_linear,
            _fp8_layer_tail(self.activation),
            _bias_layer_norm,
            _up_projection(self.activation),
        ]
        if compile:
            pieces = [torch.compile(piece, dynamic=False, fullgraph=True) for piece in pieces]
        self._post, self._ffn_fused, self._qkv8, self._tail8, self._bias_norm, self._up = pieces
        self.compiled = compile
        self._verified = not compile

    def forward(self, ids: Any, positions: Any, cu_seqlens: Any, max_length: int) -> Any:
        """Hidden states [tokens, hidden] of one packed step (ids, positions: int64 [tokens]).

        The first compiled step doubles as the compiler check: if compiling fails (no Triton, no C
        compiler), the step is rerun with eager kernels, which stay in use.
        """
        if self._verified:
            return self._forward(ids, positions, cu_seqlens, max_length)
        try:
            hidden = self._forward(ids, positions, cu_seqlens, max_length)
        except Exception as exc:  # torch._dynamo / inductor raise many kinds
            warnings.warn(f"torch.compile failed ({type(exc).__name__}); using eager kernels", stacklevel=2)
            self._use_kernels(False)
            return self._forward(ids, positions, cu_seqlens, max_length)
        self._verified = True
        return hidden

    @staticmethod
    def _layer(block: Any) -> _Layer:
        import torch

        attn = block.attention
        q, k, v = attn.self.query, attn.self.key, attn.self.value
        return _Layer(
            qkv_weight=torch.cat([q.weight, k.weight, v.weight]).detach(),
            qkv_bias=torch.cat([q.bias, k.bias, v.bias]).detach(),
            out_weight=attn.output.dense.weight,
            out_bias=attn.output.dense.bias,
            ln1_weight=attn.output.LayerNorm.weight,
            ln1_bias=attn.output.LayerNorm.bias,
            up_weight=block.intermediate.dense.weight,
            up_bias=block.intermediate.dense.bias,
            down_weight=block.output.dense.weight,
            down_bias=block.output.dense.bias,
            ln2_weight=block.output.LayerNorm.weight,
            ln2_bias=block.output.LayerNorm.bias,
        )

    def _ffn(self, x: Any, layer: _Layer) -> Any:
        import torch

        if not self.gelu_epilogue:
            return self._ffn_fused(
                x,
                layer.up_weight,
                layer.up_bias,
                layer.down_weight,
                layer.down_bias,
                layer.ln2_weight,
                layer.ln2_bias,
                self.eps,
            )
        up = torch._addmm_activation(layer.up_bias, x, layer.up_weight.t(), use_gelu=True)
        return self._post(
            up, x, layer.down_weight, layer.down_bias, layer.ln2_weight, layer.ln2_bias, self.eps
        )

    def _forward(self, ids: Any, positions: Any, cu_seqlens: Any, max_length: int) -> Any:
        import torch.nn.functional as F

        x = self.word[ids] + self.position[positions + self.position_offset] + self.type0
        x = F.layer_norm(x, (self.hidden,), self.emb_ln[0], self.emb_ln[1], self.eps)
        if self.fp8 is not None:
            return self._forward_fp8(x, cu_seqlens, max_length)
        if self.prepacked is not None:
            return self._forward_prepacked(x, cu_seqlens, max_length)
        if self.residual_in_gemm:
            return self._forward_residual_in_gemm(x, cu_seqlens, max_length)
        for layer in self.layers:
            attended = self._attend(x, layer, cu_seqlens, max_length)
            x = self._post(
                attended, x, layer.out_weight, layer.out_bias, layer.ln1_weight, layer.ln1_bias, self.eps
            )
            x = self._ffn(x, layer)
        return x

    def _attend(self, x: Any, layer: _Layer, cu_seqlens: Any, max_length: int) -> Any:
        """[tokens, hidden] attention output (before the output projection) of one layer."""
        import torch

        qkv = torch.addmm(layer.qkv_bias, x, layer.qkv_weight.t())
        return self._attend_qkv(qkv, cu_seqlens, max_length)

    def _attend_qkv(self, qkv: Any, cu_seqlens: Any, max_length: int) -> Any:
        """[tokens, hidden] attention output from the [tokens, 3 x hidden] query/key/value projection."""
        tokens = qkv.shape[0]
        q, k, v = qkv.view(tokens, 3, self.heads, self.head_dim).unbind(1)
        return self._attention(q, k, v, cu_seqlens, max_length, self.scale).reshape(tokens, self.hidden)

    def _forward_residual_in_gemm(self, x: Any, cu_seqlens: Any, max_length: int) -> Any:
        """The layers with each residual accumulated by the product itself (`x.addmm_`, beta = 1).

        `x` is this forward's own intermediate and is not read again once the product has consumed it,
        so it is overwritten in place; the bias joins in the LayerNorm kernel.
        """
        import torch

        for layer in self.layers:
            attended = self._attend(x, layer, cu_seqlens, max_length)
            x = self._bias_norm(
                x.addmm_(attended, layer.out_weight.t()), layer.out_bias, layer.ln1_weight, layer.ln1_bias, self.eps
            )
            if self.gelu_epilogue:
                up = torch._addmm_activation(layer.up_bias, x, layer.up_weight.t(), use_gelu=True)
            else:
                up = self._up(x, layer.up_weight, layer.up_bias)
            x = self._bias_norm(
                x.addmm_(up, layer.down_weight.t()), layer.down_bias, layer.ln2_weight, layer.ln2_bias, self.eps
            )
        return x

    def _forward_prepacked(self, x: Any, cu_seqlens: Any, max_length: int) -> Any:
        """The layers through oneDNN with pre-reordered weights (CPU, bfloat16)."""
        import torch
        import torch.nn.functional as F

        assert self.prepacked is not None
        linear = torch.ops.mkldnn._linear_pointwise
        hidden = (self.hidden,)
        act, algorithm = _ONEDNN_ACTIVATIONS[self.activation]
        for layer, (qkv_w, out_w, up_w, down_w) in zip(self.layers, self.prepacked):
            qkv = linear(x, qkv_w, layer.qkv_bias, "none", [], "")
            attended = self._attend_qkv(qkv, cu_seqlens, max_length)
            out = linear(attended, out_w, layer.out_bias, "none", [], "")
            x = F.layer_norm(out.add_(x), hidden, layer.ln1_weight, layer.ln1_bias, self.eps)
            up = linear(x, up_w, layer.up_bias, act, [], algorithm)
            down = linear(up, down_w, layer.down_bias, "none", [], "")
            x = F.layer_norm(down.add_(x), hidden, layer.ln2_weight, layer.ln2_bias, self.eps)
        return x

    def _forward_fp8(self, x: Any, cu_seqlens: Any, max_length: int) -> Any:
        assert self.fp8 is not None
        for layer, q8 in zip(self.layers, self.fp8):
            attended = self._attend_qkv(self._qkv8(x, *q8.qkv), cu_seqlens, max_length)
            x = self._tail8(
                attended,
                x,
                *q8.out,
                *q8.up,
                *q8.down,
                layer.ln1_weight,
                layer.ln1_bias,
                layer.ln2_weight,
                layer.ln2_bias,
                self.eps,
            )
        return x


_ONEDNN_ACTIVATIONS = {  # hidden_act -> (oneDNN post-op, its algorithm)
    "gelu": ("gelu", "none"),
    "gelu_new": ("gelu", "tanh"),
    "gelu_pytorch_tanh": ("gelu", "tanh"),
    "relu": ("relu", ""),
}
PREPACK_ROWS = 512
"""Token count oneDNN picks the reordered weight layout for (any count works; a batch of ~32 queries)."""


def prepack_available() -> bool:
    """This torch build has oneDNN's linear with pre-reordered weights (`torch.ops.mkldnn`)."""
    import torch

    mkldnn = torch.ops.mkldnn
    return torch.backends.mkldnn.is_available() and all(
        hasattr(mkldnn, name) for name in ("_linear_pointwise", "_reorder_linear_weight")
    )


def _prepack(layers: list[_Layer]) -> list[tuple[Any, Any, Any, Any]] | None:
    """(qkv, out, up, down) weights of every layer reordered for oneDNN; None where that is unsupported."""
    import torch

    if not prepack_available():
        return None
    reorder = torch.ops.mkldnn._reorder_linear_weight

    def pack(weight: Any) -> Any:
        return reorder(weight.contiguous(), PREPACK_ROWS)

    return [
        (pack(layer.qkv_weight), pack(layer.out_weight), pack(layer.up_weight), pack(layer.down_weight))
        for layer in layers
    ]


FP8_MAX = 448.0  # largest float8 e4m3 value


def _quantize_rows(x: Any) -> tuple[Any, Any]:
    """(float8 e4m3 copy of x, float32 scale per row) with each row's largest magnitude at FP8_MAX."""
    import torch

    scale = x.abs().amax(dim=-1, keepdim=True).float().clamp(min=1e-6) / FP8_MAX
    return (x.float() / scale).to(torch.float8_e4m3fn), scale


def _fp8_linear(x: Any, weight8: Any, weight_scale: Any, bias: Any) -> Any:
    """x @ weight.T + bias with both operands in float8 (per-token and per-output-channel scales)."""
    import torch

    x8, x_scale = _quantize_rows(x)
    return torch._scaled_mm(
        x8, weight8.t(), scale_a=x_scale, scale_b=weight_scale, bias=bias, out_dtype=x.dtype
    )


@dataclass
class _Fp8Layer:
    """(float8 weight [out, in], float32 scale [1, out], bias) for each product of a layer."""

    qkv: tuple[Any, Any, Any]
    out: tuple[Any, Any, Any]
    up: tuple[Any, Any, Any]
    down: tuple[Any, Any, Any]

    @staticmethod
    def of(layer: _Layer) -> _Fp8Layer:
        def quantize(weight: Any, bias: Any) -> tuple[Any, Any, Any]:
            import torch

            scale = weight.float().abs().amax(dim=1).clamp(min=1e-12) / FP8_MAX
            weight8 = (weight.float() / scale.unsqueeze(1)).to(torch.float8_e4m3fn)
            return weight8, scale.unsqueeze(0).contiguous(), bias

        return _Fp8Layer(
            qkv=quantize(layer.qkv_weight, layer.qkv_bias),
            out=quantize(layer.out_weight, layer.out_bias),
            up=quantize(layer.up_weight, layer.up_bias),
            down=quantize(layer.down_weight, layer.down_bias),
        )


def _fp8_layer_tail(activation: str) -> Callable[..., Any]:
    """Everything of a layer after attention, in float8 products (one function to compile)."""
    import torch.nn.functional as F

    def tail(
        attended: Any,
        x: Any,
        out_w: Any,
        out_s: Any,
        out_b: Any,
        up_w: Any,
        up_s: Any,
        up_b: Any,
        down_w: Any,
        down_s: Any,
        down_b: Any,
        ln1_w: Any,
        ln1_b: Any,
        ln2_w: Any,
        ln2_b: Any,
        eps: float,
    ) -> Any:
        hidden = (x.shape[-1],)
        x = F.layer_norm(_fp8_linear(attended, out_w, out_s, out_b) + x, hidden, ln1_w, ln1_b, eps)
        up = _activate(_fp8_linear(x, up_w, up_s, up_b), activation)
        return F.layer_norm(_fp8_linear(up, down_w, down_s, down_b) + x, hidden, ln2_w, ln2_b, eps)

    return tail


def _post_attention(attended: Any, x: Any, weight: Any, bias: Any, ln_w: Any, ln_b: Any, eps: float) -> Any:
    import torch.nn.functional as F

    return F.layer_norm(F.linear(attended, weight, bias) + x, (x.shape[-1],), ln_w, ln_b, eps)


def _bias_layer_norm(y: Any, bias: Any, ln_w: Any, ln_b: Any, eps: float) -> Any:
    import torch.nn.functional as F

    return F.layer_norm(y + bias, (y.shape[-1],), ln_w, ln_b, eps)


def _activate(up: Any, activation: str) -> Any:
    import torch.nn.functional as F

    if activation == "relu":
        return F.relu(up)
    return F.gelu(up, approximate="none" if activation == "gelu" else "tanh")


def _up_projection(activation: str) -> Callable[..., Any]:
    """up-projection + activation (one function to compile: the product, then one fused kernel)."""
    import torch.nn.functional as F

    def up_projection(x: Any, up_w: Any, up_b: Any) -> Any:
        return _activate(F.linear(x, up_w, up_b), activation)

    return up_projection


def _feed_forward(activation: str) -> Callable[..., Any]:
    """up-projection, activation, down-projection, bias + residual + LayerNorm (one function to compile)."""
    import torch.nn.functional as F

    def feed_forward(
        x: Any, up_w: Any, up_b: Any, down_w: Any, down_b: Any, ln_w: Any, ln_b: Any, eps: float
    ) -> Any:
        up = _activate(F.linear(x, up_w, up_b), activation)
        return F.layer_norm(F.linear(up, down_w, down_b) + x, (x.shape[-1],), ln_w, ln_b, eps)

    return feed_forward


def pool_segments(hidden: Any, segments: Any, cu_seqlens: Any, rows: int, pooling: str) -> Any:
    """float32 [rows, hidden]: mean (or CLS) of each of the first `rows` segments of a packed step."""
    import torch

    if pooling == "cls":
        return hidden[cu_seqlens[:rows].long()].float()
    count = cu_seqlens.shape[0] - 1
    sums = torch.zeros((count, hidden.shape[1]), dtype=torch.float32, device=hidden.device)
    sums.index_add_(0, segments, hidden.float())
    sizes = (cu_seqlens[1:] - cu_seqlens[:-1]).clamp(min=1).to(torch.float32)
    return (sums / sizes.unsqueeze(1))[:rows]
