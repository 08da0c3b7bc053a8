"""Model-level compression: a sentence-transformers encoder → ONNX graph → fused → dynamic int8.

Uses `torch.onnx.export` and onnxruntime's own tools (transformer fusion, `quantize_dynamic`), not optimum,
because optimum pins an older transformers. The output folder is self-describing (`adaptlab_onnx.json`
names pooling, normalisation and sequence length) and loads as a model: `--model <folder>`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from adaptlab.errors import AdaptlabError

MANIFEST = "adaptlab_onnx.json"
"""The file that makes a folder an adaptlab ONNX encoder (the registry looks for it)."""
MODEL_FILE = "model.onnx"
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "config.json",
)
TARGETS = ("onnx-fp32", "onnx-int8")
CHECK_TEXTS = (
    "Wind turbines feed electricity into the grid.",
    "Die Bundesnetzagentur führt das Marktstammdatenregister.",
    "§ 3 Begriffsbestimmungen. Im Sinne dieses Gesetzes ist Anlage jede Einrichtung zur Erzeugung von Strom "
    "aus erneuerbaren Energien oder aus Grubengas.",
    "What is the capital of France?",
)
OPSET = 17

Pooling = Literal["mean", "cls"]


@dataclass
class OnnxManifest:
    """What the runtime needs besides the graph: how token vectors become one text vector."""

    source: str
    target: str
    pooling: Pooling
    normalize: bool
    max_seq_length: int
    dim: int
    opset: int
    fused: bool
    quantization: dict[str, Any] | None
    check_min_cosine: float | None = None
    """Lowest cosine between this graph's and sentence-transformers' vectors on a few fixed texts."""
    size_mb: float = 0.0
    export_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_manifest(folder: Path) -> OnnxManifest:
    """The manifest of an exported folder; a broken one is a one-line error naming the file."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return OnnxManifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise AdaptlabError(
            f"{path}: not a readable adaptlab ONNX manifest ({exc}); re-run `adaptlab compress model`"
        ) from None


def is_onnx_folder(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file() and (path / MODEL_FILE).is_file()


def _st_layout(model_dir: Path) -> tuple[Path, Pooling, bool, int]:
    """(transformer folder, pooling, normalize, max_seq_length) read from a sentence-transformers folder."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdaptlabError(
            f"{model_dir}: no readable modules.json ({exc}); export needs a sentence-transformers folder"
        ) from None
    transformer: Path | None = None
    pooling: Pooling | None = None
    normalize = False
    for module in modules:
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        sub = model_dir / str(module.get("path", ""))
        if kind == "Transformer":
            transformer = sub
        elif kind == "Pooling":
            config = json.loads((sub / "config.json").read_text(encoding="utf-8"))
            modes = [m for m in ("mean_tokens", "cls_token") if config.get(f"pooling_mode_{m}")]
            others = [
                k
                for k, v in config.items()
                if k.startswith("pooling_mode_") and v and k[13:] not in ("mean_tokens", "cls_token")
            ]
            if len(modes) != 1 or others:
                raise AdaptlabError(
                    f"{sub}/config.json: only mean or CLS pooling can be exported, found {modes + others}"
                )
            pooling = "mean" if modes[0] == "mean_tokens" else "cls"
        elif kind == "Normalize":
            normalize = True
        else:
            raise AdaptlabError(
                f"{model_dir}: module '{kind}' cannot be exported to ONNX yet (only Transformer, Pooling, Normalize)"
            )
    if transformer is None or pooling is None:
        raise AdaptlabError(f"{model_dir}/modules.json: needs a Transformer and a Pooling module")
    st_config = {}
    for name in ("sentence_bert_config.json",):
        if (model_dir / name).is_file():
            st_config = json.loads((model_dir / name).read_text(encoding="utf-8"))
    return transformer, pooling, normalize, int(st_config.get("max_seq_length") or 512)


def export_onnx(
    model_dir: Path,
    out_dir: Path,
    target: str = "onnx-int8",
    fuse: bool = True,
    source_name: str | None = None,
) -> OnnxManifest:
    """Export the transformer of `model_dir`, fuse it for onnxruntime, optionally quantise it, and check it.

    The folder is assembled in a temporary sibling and renamed into place, so an interrupted export never
    leaves a half-written model that would load.
    """
    if target not in TARGETS:
        raise AdaptlabError(f"unknown export target '{target}'; choose from {', '.join(TARGETS)}")
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not is_onnx_folder(out_dir):
        raise AdaptlabError(
            f"{out_dir} exists and is not an adaptlab ONNX folder; choose an empty or new folder"
        )
    transformer_dir, pooling, normalize, max_len = _st_layout(model_dir)
    tokenizer = transformer_dir / "tokenizer.json"
    if not tokenizer.is_file():
        raise AdaptlabError(f"{transformer_dir}: no tokenizer.json (a fast tokenizer is needed at inference)")
    start = time.perf_counter()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the exported model is an ordinary folder
    try:
        raw = tmp / "raw.onnx"
        hidden = _torch_export(transformer_dir, raw)
        graph = raw
        fused = False
        if fuse:
            graph, fused = _fuse(raw, tmp / "fused.onnx", hidden)
        quantization = None
        if target == "onnx-int8":
            quantization = _quantize(graph, tmp / MODEL_FILE)
        else:
            graph.replace(tmp / MODEL_FILE)
        for extra in (raw, tmp / "fused.onnx"):
            extra.unlink(missing_ok=True)
        for name in TOKENIZER_FILES:
            if (transformer_dir / name).is_file():
                shutil.copy2(transformer_dir / name, tmp / name)
        manifest = OnnxManifest(
            source=source_name or str(model_dir),
            target=target,
            pooling=pooling,
            normalize=normalize,
            max_seq_length=max_len,
            dim=hidden["size"],
            opset=OPSET,
            fused=fused,
            quantization=quantization,
        )
        (tmp / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2), encoding="utf-8")
        manifest.check_min_cosine = _check(model_dir, tmp)
        manifest.size_mb = round((tmp / MODEL_FILE).stat().st_size / 1e6, 2)
        manifest.export_s = round(time.perf_counter() - start, 1)
        (tmp / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.replace(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _torch_export(transformer_dir: Path, path: Path) -> dict[str, int]:
    """The last hidden state as an ONNX graph with dynamic batch and sequence axes.

    Eager attention is exported (not SDPA) because onnxruntime's fusion recognises its pattern and turns
    it into one Attention op; the TorchScript exporter gives the plain graph quantize_dynamic expects.
    """
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(
        str(transformer_dir), attn_implementation="eager", local_files_only=True
    ).eval()
    config = model.config

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    ids = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python conditionals that are constant here
        torch.onnx.export(
            LastHidden(model),
            (ids, ids, torch.zeros_like(ids)),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return {
        "size": int(config.hidden_size),
        "heads": int(config.num_attention_heads),
        "type": config.model_type,
    }


def _fuse(raw: Path, path: Path, hidden: dict[str, int]) -> tuple[Path, bool]:
    """onnxruntime's transformer optimiser: one Attention op per layer, fused LayerNorm and GELU.

    Architectures it does not know are kept unfused (still correct, just slower).
    """
    from onnxruntime.transformers.optimizer import optimize_model

    model_type = "bert" if hidden["type"] in ("bert", "mpnet", "roberta", "xlm-roberta") else None
    if model_type is None:
        return raw, False
    optimized = optimize_model(
        str(raw), model_type=model_type, num_heads=hidden["heads"], hidden_size=hidden["size"]
    )
    stats = optimized.get_fused_operator_statistics()
    optimized.save_model_to_file(str(path))
    return path, bool(stats.get("Attention"))


def _quantize(graph: Path, path: Path) -> dict[str, Any]:
    """Dynamic int8: weights per output channel (per-tensor loses ~4 % nDCG on MiniLM), activations at run time.

    The embedding table is quantised too (Gather), since it is half of MiniLM's weights.
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    settings: dict[str, Any] = {
        "weight_type": "QInt8",
        "per_channel": True,
        "op_types": ["MatMul", "Attention", "Gather", "EmbedLayerNormalization"],
    }
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic advises static pre-processing via a root-logger warning
    try:
        quantize_dynamic(
            str(graph),
            str(path),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=settings["op_types"],
            extra_options={"DefaultTensorType": 1},  # FLOAT, fused ops
        )
    finally:
        root.setLevel(level)
    return settings


def _check(model_dir: Path, folder: Path) -> float:
    """Lowest cosine between the exported graph and sentence-transformers on fixed texts (1.0 = identical)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from adaptlab.models.backends.onnx_backend import OnnxMiniLMEmbedder

    reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    ref = reference.encode(
        list(CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    got = OnnxMiniLMEmbedder.from_folder(folder).encode_documents(list(CHECK_TEXTS))
    return round(float(np.min(np.sum(ref * got, axis=1))), 4)


__all__ = ["MANIFEST", "TARGETS", "OnnxManifest", "export_onnx", "is_onnx_folder", "read_manifest"]


def cached_export(model: str, target: str, cache_dir: Path) -> Path:
    """The ONNX export of a sentence-transformers zoo model or folder, made once into `cache_dir/onnx/`.

    What `search.query_encoders: {minilm: onnx-int8}` uses: the first search pays the export (15-50 s on
    two cores), later ones and later processes load the folder."""
    from adaptlab.models.registry import get_spec
    from adaptlab.models.resolve import sentence_transformers_dir

    if target not in TARGETS:
        raise AdaptlabError(f"unknown export target '{target}'; choose from {', '.join(TARGETS)}")
    spec = get_spec(model)
    if spec.backend != "sentence-transformers":
        raise AdaptlabError(
            f"model '{model}' runs on {spec.backend}; only sentence-transformers models export to ONNX"
        )
    out_dir = Path(cache_dir) / "onnx" / f"{spec.name.replace('/', '_')}-{target}"
    if not is_onnx_folder(out_dir):
        export_onnx(sentence_transformers_dir(spec, Path(cache_dir)), out_dir, target, source_name=spec.name)
    return out_dir
