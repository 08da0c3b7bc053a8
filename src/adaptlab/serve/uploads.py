"""Saving uploaded files under the workspace: client file names are never trusted as paths."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

MAX_NAME = 120
_UNSAFE = re.compile(r"[^\w.\- ]+")


def safe_filename(name: str | None) -> str:
    """The last path component of `name`, with only word characters (umlauts kept), dots, dashes and spaces.

    `../../etc/passwd` → `passwd`, `..\\x.txt` → `x.txt`, `.env` → `env`; never empty, never hidden, never
    a path, so the file lands in the upload folder whatever the client sent.
    """
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).split("/")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if dot and len(base) > MAX_NAME:
        base = stem[: MAX_NAME - len(ext) - 1] + "." + ext[:20]
    return base[:MAX_NAME] or "upload"


def upload_path(folder: Path, name: str | None) -> Path:
    """Where an upload called `name` is stored; checked to be inside `folder` as a last line of defence."""
    folder = folder.resolve()
    target = (folder / safe_filename(name)).resolve()
    if target.parent != folder:
        raise ValueError(f"refusing to write outside {folder}: {name!r}")
    return target
