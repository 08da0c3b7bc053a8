"""Export a (merged) causal LM to ONNX and generate with onnxruntime, proving the same greedy output.

`torch.onnx.export` (TorchScript tracer, eager attention) of the forward with a KV cache:
`input_ids, attention_mask, past.{i}.key/value → logits, present.{i}.key/value`; not optimum, which
pins an older transformers. The first step passes an empty past (length 0), each later step one token
and the previous step's presents. Position ids are computed inside the graph from the attention mask
(as `generate` does), so left-padded batches work. The folder holds `model.onnx`, the tokenizer and `adaptlab_llm_onnx.json` (the manifest, with the check).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError

MODEL_FILE = "model.onnx"
MANIFEST = "adaptlab_llm_onnx.json"
"""Not `adaptlab_onnx.json`: that name marks an embedding encoder for the model registry."""
OPSET = 17


def past_names(layers: int) -> list[str]:
    return [f"past.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


def _kv_shape(config: Any) -> tuple[int, int]:
    """(key/value heads, head size) of the model's attention."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return int(config.num_key_value_heads or config.num_attention_heads), int(head_dim)


def _wrapped(model: Any) -> Any:
    import torch
    from transformers import DynamicCache

    layers = model.config.num_hidden_layers

    class LogitsWithCache(torch.nn.Module):
        """(input_ids, attention_mask over past + new tokens, *past) → (logits, *present)."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, *past: Any) -> Any:
            cache = DynamicCache(
                ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(layers)],
                config=self.inner.config,
            )
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -input_ids.shape[1] :]
            out = self.inner(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=positions,
                past_key_values=cache,
                use_cache=True,
            )
            present = [t for layer in out.past_key_values.layers for t in (layer.keys, layer.values)]
            return (out.logits, *present)

    return LogitsWithCache(model)


def export_onnx(folder: Path, out_dir: Path) -> dict[str, Any]:
    """Write `out_dir/model.onnx` (fp32) and the tokenizer from the HF causal-LM `folder`."""
    import warnings

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, out_dir = Path(folder), Path(out_dir)
    if not (folder / "config.json").is_file():
        raise AdaptlabError(f"{folder}: not an HF model folder; merge an adapter first (adaptlab llm merge)")
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    layers = model.config.num_hidden_layers
    heads, head_dim = _kv_shape(model.config)
    past = [torch.randn(2, heads, 3, head_dim) for _ in range(2 * layers)]
    ids = torch.ones(2, 5, dtype=torch.long)
    mask = torch.ones(2, 8, dtype=torch.long)
    mask[1, :2] = 0  # a left-padded row, so the mask path is traced as data, not as a constant
    inputs = past_names(layers)
    outputs = [n.replace("past.", "present.") for n in inputs]
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total"}}
    axes["logits"] = {0: "batch", 1: "sequence"}
    axes.update({n: {0: "batch", 2: "past"} for n in inputs})
    axes.update({n: {0: "batch", 2: "total"} for n in outputs})
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python conditionals that are constant here
        try:
            torch.onnx.export(
                _wrapped(model),
                (ids, mask, *past),
                str(tmp / MODEL_FILE),
                input_names=["input_ids", "attention_mask", *inputs],
                output_names=["logits", *outputs],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        except Exception as exc:  # noqa: BLE001  (tracing failures come in many types)
            shutil.rmtree(tmp, ignore_errors=True)
            raise AdaptlabError(
                f"ONNX export of {folder} ({model.config.model_type}) failed: {str(exc).splitlines()[0]}"
            ) from None
    tokenizer.save_pretrained(tmp)
    model.config.save_pretrained(tmp)
    if (folder / "generation_config.json").is_file():
        shutil.copy2(folder / "generation_config.json", tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return {
        "onnx": str(out_dir / MODEL_FILE),
        "mb": round((out_dir / MODEL_FILE).stat().st_size / 1e6, 1),
        "opset": OPSET,
        "kv_cache": True,
        "export_s": round(time.perf_counter() - start, 1),
    }


class OnnxCausalLM:
    """Greedy generation with onnxruntime over an exported folder, reusing the KV cache between steps."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoConfig, AutoTokenizer

        folder = Path(folder)
        if not (folder / MODEL_FILE).is_file():
            raise AdaptlabError(
                f"{folder}: no {MODEL_FILE}; export one with adaptlab llm export --format onnx"
            )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.past = [i.name for i in self.session.get_inputs() if i.name.startswith("past.")]
        self.kv_shape = _kv_shape(AutoConfig.from_pretrained(folder))

    def empty_past(self, batch: int = 1) -> dict[str, Any]:
        import numpy as np

        heads, head_dim = self.kv_shape
        return {name: np.zeros((batch, heads, 0, head_dim), dtype=np.float32) for name in self.past}

    def run(
        self, input_ids: Any, attention_mask: Any, past: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """(logits, the next step's past) for the new tokens `input_ids` after `past` (None: empty)."""
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        feed.update(past if past is not None else self.empty_past(len(input_ids)))
        logits, *present = self.session.run(None, feed)
        return logits, dict(zip(self.past, present))

    def generate_ids(self, input_ids: list[int], max_new_tokens: int, min_new_tokens: int = 0) -> list[int]:
        """Greedy continuation ids of one prompt; stops at EOS once `min_new_tokens` are out."""
        import numpy as np

        eos = self.tokenizer.eos_token_id
        step_ids = np.array([input_ids], dtype=np.int64)
        total = len(input_ids)
        past = None
        new: list[int] = []
        for step in range(max_new_tokens):
            logits, past = self.run(step_ids, np.ones((1, total), dtype=np.int64), past)
            scores = logits[0, -1]
            if step < min_new_tokens and eos is not None:
                scores[eos] = -np.inf
            token = int(scores.argmax())
            new.append(token)
            if token == eos:
                break
            step_ids = np.array([[token]], dtype=np.int64)
            total += 1
        return new


def onnx_greedy_tokens(
    runner: OnnxCausalLM, prompts: list[str], max_new_tokens: int, min_new_tokens: int = 0
) -> list[list[int]]:
    """Each prompt rendered as `gguf_export.greedy_tokens` renders it, continued greedily by onnxruntime."""
    from adaptlab.llm.gguf_export import render_prompt

    tokenizer = runner.tokenizer
    return [
        runner.generate_ids(
            tokenizer(render_prompt(tokenizer, p), add_special_tokens=False)["input_ids"],
            max_new_tokens,
            min_new_tokens,
        )
        for p in prompts
    ]


def compare_onnx_greedy(
    folder: Path,
    onnx_dir: Path,
    prompts: tuple[str, ...] | None = None,
    max_new_tokens: int = 32,
    min_new_tokens: int = 0,
) -> dict[str, Any]:
    """Greedy tokens of transformers (HF folder) and onnxruntime (export) on fixed prompts, with tokens/s."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adaptlab.llm.gguf_export import FIXED_PROMPTS, greedy_tokens

    import torch

    prompts = prompts or FIXED_PROMPTS
    hf_tok = AutoTokenizer.from_pretrained(folder)
    hf_model = AutoModelForCausalLM.from_pretrained(folder).eval()
    runner = OnnxCausalLM(onnx_dir, threads=torch.get_num_threads())  # same threads: a fair tokens/s
    start = time.perf_counter()
    hf_ids = greedy_tokens(hf_model, hf_tok, list(prompts), max_new_tokens, min_new_tokens)
    hf_s = time.perf_counter() - start
    start = time.perf_counter()
    onnx_ids = onnx_greedy_tokens(runner, list(prompts), max_new_tokens, min_new_tokens)
    onnx_s = time.perf_counter() - start
    rows = [
        {
            "prompt": p,
            "hf": hf_tok.decode(a, skip_special_tokens=True),
            "onnx": runner.tokenizer.decode(b, skip_special_tokens=True),
            "same": a == b,
        }
        for p, a, b in zip(prompts, hf_ids, onnx_ids)
    ]
    return {
        "same": all(r["same"] for r in rows),
        "matching": sum(r["same"] for r in rows),
        "prompts": len(rows),
        "tokens_per_s": {
            "transformers": round(sum(map(len, hf_ids)) / max(hf_s, 1e-9), 1),
            "onnxruntime": round(sum(map(len, onnx_ids)) / max(onnx_s, 1e-9), 1),
        },
        "outputs": rows,
    }


def write_manifest(out_dir: Path, report: dict[str, Any]) -> Path:
    """The export's record: source, size, opset and the greedy-output check."""
    path = Path(out_dir) / MANIFEST
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
