"""Merge a LoRA adapter (and any adapters it was trained on top of) into its base and save an HF folder."""

from __future__ import annotations

from pathlib import Path

from adaptlab.errors import AdaptlabError
from adaptlab.llm.lora_training import read_manifest
from adaptlab.llm.models import load_model


def adapter_stack(adapter: Path) -> list[Path]:
    """The adapters to apply in order: those a DPO adapter was trained on (per its manifest), then itself."""
    manifest = read_manifest(adapter)
    below = [Path(p) for p in manifest.get("base_adapters", [])]
    return [*(q for p in below for q in adapter_stack(p)), Path(adapter)]


def merge_lora(adapter: Path, output: Path, model: str | None = None, cache_dir: Path | None = None) -> Path:
    """Base + adapter(s) folded into plain weights, saved with the tokenizer as a standalone HF folder."""
    from peft import PeftModel

    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").is_file():
        raise AdaptlabError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
    base = model or read_manifest(adapter).get("base_model")
    if base is None:
        raise AdaptlabError(f"{adapter}: no adaptlab manifest naming its base; pass --model")
    tokenizer, merged = load_model(base, cache_dir)
    for layer in adapter_stack(adapter):
        merged = PeftModel.from_pretrained(merged, str(layer)).merge_and_unload()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(output))
    tokenizer.save_pretrained(str(output))
    return output
