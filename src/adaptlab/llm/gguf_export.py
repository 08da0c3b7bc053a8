"""Export a (merged) Llama-architecture HF model to GGUF, the llama.cpp / ollama file format.

Written with the `gguf` package's GGUFWriter following llama.cpp's `convert_hf_to_gguf.py`: tensor
names from gguf's own HF→GGUF name map, Q and K projections permuted from HF's rotate-half layout to
GGML's interleaved one, norms kept in f32, the byte-level BPE vocabulary, merges, special token ids and
chat template from the tokenizer. f32 keeps the weights bit-exact; f16 halves the file.
Other architectures: use llama.cpp's converter on the merged folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from adaptlab.errors import AdaptlabError

OutType = Literal["f32", "f16"]
SUPPORTED = ("llama",)


def permute_qk(weights: Any, n_head: int) -> Any:
    """HF rotate-half rows → GGML interleaved rows (llama.cpp's LlamaModel.permute)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _merges(tokenizer: Any) -> list[str]:
    model = json.loads(tokenizer.backend_tokenizer.to_str())["model"]
    if model.get("type") != "BPE":
        raise AdaptlabError(
            f"GGUF export supports byte-level BPE tokenizers, not {model.get('type')}; "
            "use llama.cpp's convert_hf_to_gguf.py on the merged folder"
        )
    return [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]


def _add_tokenizer(writer: Any, tokenizer: Any) -> None:
    import gguf

    vocab = len(tokenizer)
    tokens = tokenizer.convert_ids_to_tokens(list(range(vocab)))
    special = {t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
    types = [gguf.TokenType.CONTROL if tok in special else gguf.TokenType.NORMAL for tok in tokens]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(_merges(tokenizer))
    for name in ("bos", "eos", "unk", "pad"):
        token_id = getattr(tokenizer, f"{name}_token_id", None)
        if token_id is not None:
            getattr(writer, f"add_{name}_token_id")(token_id)
    writer.add_add_bos_token(False)
    if getattr(tokenizer, "chat_template", None):
        writer.add_chat_template(tokenizer.chat_template)


def _add_hparams(writer: Any, config: Any, name: str, out_type: OutType) -> None:
    import gguf

    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    rope = getattr(config, "rope_parameters", None) or {}
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(float(rope.get("rope_theta") or getattr(config, "rope_theta", 10000.0)))
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if out_type == "f16" else gguf.LlamaFileType.ALL_F32)
    if (rope.get("rope_type") or "default") != "default":
        raise AdaptlabError(f"GGUF export: rope scaling '{rope.get('rope_type')}' is not supported here")


def export_gguf(folder: Path, out_file: Path, out_type: OutType = "f32") -> Path:
    """Write the HF model in `folder` (a merged model) as a GGUF file."""
    import gguf
    import numpy as np
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, out_file = Path(folder), Path(out_file)
    config = AutoConfig.from_pretrained(folder)
    if config.model_type not in SUPPORTED:
        raise AdaptlabError(
            f"GGUF export supports {', '.join(SUPPORTED)} models, not {config.model_type}; "
            "use llama.cpp's convert_hf_to_gguf.py on the merged folder"
        )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    _add_hparams(writer, config, folder.name, out_type)
    _add_tokenizer(writer, tokenizer)
    state = model.state_dict()
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in state.items():
        if tied and hf_name == "lm_head.weight":
            continue  # llama.cpp and transformers reuse token_embd when output.weight is absent
        data = tensor.detach().to(torch.float32)
        if hf_name.endswith("q_proj.weight"):
            data = permute_qk(data, config.num_attention_heads)
        elif hf_name.endswith("k_proj.weight"):
            data = permute_qk(data, config.num_key_value_heads)
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise AdaptlabError(f"GGUF export: no llama.cpp name for tensor {hf_name}")
        array = data.numpy()
        if out_type == "f16" and array.ndim > 1:
            array = array.astype(np.float16)
        writer.add_tensor(gguf_name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out_file)
    return out_file


FIXED_PROMPTS = (
    "Was regelt das Energiewirtschaftsgesetz?",
    "What is a heat pump?",
    "Nenne drei erneuerbare Energiequellen.",
    "Explain the difference between power and energy in one sentence.",
    "Was ist ein Netzbetreiber?",
)


def render_prompt(tokenizer: Any, prompt: str) -> str:
    """One user turn in the tokenizer's chat template (the raw prompt when it has none)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return prompt


def greedy_tokens(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int, min_new_tokens: int = 0
) -> list[list[int]]:
    """Greedy continuation ids of each prompt (rendered with the tokenizer's chat template when it has one)."""
    import torch

    results = []
    for prompt in prompts:
        enc = tokenizer(render_prompt(tokenizer, prompt), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                min_new_tokens=min_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=tokenizer.pad_token_id,
            )
        results.append(out[0, enc["input_ids"].shape[1] :].tolist())
    return results


def compare_greedy(
    folder: Path,
    gguf_file: Path,
    prompts: tuple[str, ...] = FIXED_PROMPTS,
    max_new_tokens: int = 32,
    min_new_tokens: int = 0,
) -> dict[str, Any]:
    """Reload the GGUF with transformers (its own tokenizer too) and compare greedy output with the HF folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_file = Path(gguf_file)
    hf_tok = AutoTokenizer.from_pretrained(folder)
    hf_model = AutoModelForCausalLM.from_pretrained(folder).eval()
    gg_tok = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    gg_model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name).eval()
    hf_ids = greedy_tokens(hf_model, hf_tok, list(prompts), max_new_tokens, min_new_tokens)
    gg_ids = greedy_tokens(gg_model, gg_tok, list(prompts), max_new_tokens, min_new_tokens)
    rows = [
        {
            "prompt": p,
            "hf": hf_tok.decode(a, skip_special_tokens=True),
            "gguf": gg_tok.decode(b, skip_special_tokens=True),
            "same": a == b,
        }
        for p, a, b in zip(prompts, hf_ids, gg_ids)
    ]
    return {
        "same": all(r["same"] for r in rows),
        "matching": sum(r["same"] for r in rows),
        "prompts": len(rows),
        "outputs": rows,
    }
