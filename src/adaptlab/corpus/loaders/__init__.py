"""Loader registry: one entry point, `load_file`, that turns any supported file into Documents.

The checks every format needs (symlinks, permissions, size, emptiness, binary content) run here,
once, before dispatch by suffix, so each problem gets the same one-line LoadError whatever the
format, and the format loaders only deal with their own content.
"""

from __future__ import annotations

import importlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from adaptlab.corpus.loaders.base import Loader, LoaderOptions, LoadError
from adaptlab.corpus.loaders.text import BINARY_SNIFF_BYTES, looks_binary
from adaptlab.corpus.types import Document

__all__ = ["LOADERS", "LoadError", "Loader", "LoaderOptions", "load_file", "supported_suffixes"]

# suffix → "module:function"; modules are imported on first use (trafilatura and pypdf are slow to import)
LOADERS: dict[str, str] = {
    ".txt": "text:load_text",
    ".md": "markdown:load_markdown",
    ".markdown": "markdown:load_markdown",
    ".html": "html:load_html",
    ".htm": "html:load_html",
    ".pdf": "pdf:load_pdf",
    ".json": "structured:load_json",
    ".jsonl": "structured:load_jsonl",
    ".csv": "structured:load_csv",
    ".tsv": "structured:load_csv",
    ".xml": "mastr:load_mastr_xml",
    ".omn": "ontology:load_ontology",
    ".png": "image:load_image",
    ".jpg": "image:load_image",
    ".jpeg": "image:load_image",
    ".tif": "image:load_image",
    ".tiff": "image:load_image",
}
TEXT_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".csv", ".tsv", ".omn"}
)
_BLANK_BYTES = b" \t\r\n\x0b\x0c"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_MB = 1024 * 1024
_CHUNK = _MB


def supported_suffixes() -> set[str]:
    """File suffixes `load_file` can read (lower case, with the dot)."""
    return set(LOADERS)


def load_file(path: Path, options: LoaderOptions | None = None) -> list[Document]:
    """Documents from one file, or a LoadError whose message is the one-line reason to show the user."""
    path = Path(path)
    options = options or LoaderOptions()
    try:
        check_file(path, options)
        return loader_for(path)(path, options)
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as err:
        raise LoadError(f"cannot read file ({err.strerror or err})") from None


def loader_for(path: Path) -> Loader:
    """The loader registered for the file's suffix (case-insensitive)."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        shown = suffix or "(no suffix)"
        raise LoadError(f"unsupported file type {shown} (supported: {', '.join(sorted(LOADERS))})")
    module, function = LOADERS[suffix].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def check_file(path: Path, options: LoaderOptions) -> None:
    """Problems with the file itself, in the order a user would want to hear about them."""
    if path.is_symlink() and not path.exists():
        raise LoadError(f"broken symlink (target {os.readlink(path)} does not exist)")
    if not path.exists():
        raise LoadError("file not found")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "is a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (device, pipe or socket)"
        )
        raise LoadError(kind)
    if not os.access(path, os.R_OK):
        raise LoadError("permission denied")
    _check_size(info.st_size, options.max_file_mb)
    if info.st_size == 0:
        raise LoadError("empty file")
    with path.open("rb") as fh:
        head = fh.read(BINARY_SNIFF_BYTES)
        if _is_blank(head) and _rest_is_blank(fh):
            raise LoadError("empty file (only whitespace)")
    if path.suffix.lower() in TEXT_SUFFIXES and looks_binary(head):
        raise LoadError("binary file, not text")


def _check_size(size: int, max_mb: float) -> None:
    megabytes = size / _MB
    if megabytes > max_mb:
        raise LoadError(
            f"file is {_format_mb(megabytes)} MB, over the {max_mb:g} MB limit (raise corpus.max_file_mb)"
        )


def _format_mb(megabytes: float) -> str:
    return f"{megabytes:,.0f}" if megabytes >= 10 else f"{megabytes:.2g}"


def _is_blank(data: bytes) -> bool:
    for bom in _BOMS:
        data = data.removeprefix(bom)
    return not data.strip(_BLANK_BYTES)


def _rest_is_blank(fh: BinaryIO) -> bool:
    while chunk := fh.read(_CHUNK):
        if chunk.strip(_BLANK_BYTES):
            return False
    return True
