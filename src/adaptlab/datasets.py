"""Locating the shared public datasets (`../shared/data` or $ADAPTLAB_DATA), never copied into the repo."""

from __future__ import annotations

import os
from pathlib import Path

from adaptlab.errors import AdaptlabError

DATA_ENV = "ADAPTLAB_DATA"

SOURCES = {
    "xquad": "XQuAD, github.com/deepmind/xquad (CC BY-SA 4.0)",
    "tatoeba": "Tatoeba deu-eng, github.com/facebookresearch/LASER data/tatoeba/v1",
    "stsb-multi-mt": "STSb multi-mt, github.com/PhilipMay/stsb-multi-mt",
    "oeo": "Open Energy Ontology, github.com/OpenEnergyPlatform/ontology",
    "gesetze": "German federal laws as Markdown, github.com/bundestag/gesetze",
    "mastr": "MaStR field descriptions, github.com/OpenEnergyPlatform/open-MaStR",
    "llm": "LLaMA-Factory demo data and hh-rlhf",
}


def _candidates() -> list[Path]:
    env = os.environ.get(DATA_ENV)
    if env:
        return [Path(env)]
    here = Path(__file__).resolve()
    found = [Path.cwd() / ".." / "shared" / "data"]
    # the repository root is three levels above src/adaptlab/datasets.py
    found.append(here.parents[2] / ".." / "shared" / "data")
    return found


def data_root(required: bool = False) -> Path | None:
    """The shared data folder, or None (or a clear error when `required`)."""
    for cand in _candidates():
        if cand.is_dir():
            return cand.resolve()
    if required:
        raise AdaptlabError(
            f"shared datasets not found: set ${DATA_ENV} or place them at ../shared/data "
            "(see ../shared/data/README.md for their sources)"
        )
    return None


def dataset_dir(name: str) -> Path:
    """One dataset folder; the error names where the data comes from."""
    root = data_root()
    path = root / name if root else None
    if path is None or not path.exists():
        source = SOURCES.get(name, "see ../shared/data/README.md")
        raise AdaptlabError(
            f"dataset '{name}' not found (looked in {path or '../shared/data'}); "
            f"set ${DATA_ENV} to the shared data folder. Source: {source}"
        )
    return path
