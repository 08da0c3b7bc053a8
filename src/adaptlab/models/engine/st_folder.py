"""What the engine needs from a sentence-transformers folder, read from its JSON files (no ST import):
where the transformer and tokenizer live, the pooling mode, normalisation, window and prompts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from adaptlab.errors import AdaptlabError

_POOLING_KEYS = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
}


@dataclass(frozen=True)
class EncoderLayout:
    transformer_dir: Path
    tokenizer_file: Path | None
    pooling: str
    normalize: bool
    max_length: int
    document_prompt: str
    query_prompt: str = ""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AdaptlabError(f"{path}: cannot read ({exc}); is this a sentence-transformers folder?") from exc


def _pooling_mode(folder: Path) -> str:
    """mean or cls, from either config style (`pooling_mode` in ST >= 6, `pooling_mode_*` flags before)."""
    config = _read_json(folder / "config.json")
    if config.get("include_prompt") is False:
        raise AdaptlabError(
            f"{folder}: pooling that excludes the prompt is not supported by the fast encoder"
        )
    if "pooling_mode" in config:
        raw = config["pooling_mode"]
        modes = [raw] if isinstance(raw, str) else list(raw)
        modes = ["cls" if m in ("cls", "cls_token") else m for m in modes]
    else:
        modes = [mode for key, mode in _POOLING_KEYS.items() if config.get(key)]
        if any(config.get(k) for k in config if k.startswith("pooling_mode_") and k not in _POOLING_KEYS):
            modes.append("other")
    if len(modes) != 1 or modes[0] not in ("mean", "cls"):
        raise AdaptlabError(
            f"{folder}: only mean or CLS pooling is supported by the fast encoder (found {modes})"
        )
    return modes[0]


def read_layout(folder: Path) -> EncoderLayout:
    """Layout of a sentence-transformers folder, or of a bare Hugging Face encoder folder (mean pooling)."""
    folder = Path(folder)
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        if not (folder / "config.json").is_file():
            raise AdaptlabError(f"{folder}: no modules.json or config.json; not a model folder")
        tok = folder / "tokenizer.json"
        return EncoderLayout(folder, tok if tok.is_file() else None, "mean", True, 512, "")
    modules = _read_json(modules_file)
    transformer_dir, pooling, normalize = folder, "mean", False
    for module in modules:
        kind = str(module.get("type", ""))
        path = folder / str(module.get("path", ""))
        if kind.endswith("Transformer"):
            transformer_dir = path
        elif kind.endswith("Pooling"):
            pooling = _pooling_mode(path)
        elif kind.endswith("Normalize"):
            normalize = True
        elif kind.endswith(("Dense", "LayerNorm", "WordEmbeddings", "CNN", "LSTM")):
            raise AdaptlabError(f"{folder}: module {kind} is not supported by the fast encoder")
    st_config = transformer_dir / "sentence_bert_config.json"
    max_length = int(_read_json(st_config).get("max_seq_length") or 512) if st_config.is_file() else 512
    prompts_file = folder / "config_sentence_transformers.json"
    prompts = _read_json(prompts_file).get("prompts", {}) if prompts_file.is_file() else {}
    prompt = str(prompts.get("document") or prompts.get("passage") or "")
    tok = transformer_dir / "tokenizer.json"
    return EncoderLayout(
        transformer_dir, tok if tok.is_file() else None, pooling, normalize, max_length, prompt,
        str(prompts.get("query") or ""),
    )
