"""Writing result files safely."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json(data: Any, path: Path) -> Path:
    """Write JSON atomically, so a crash never leaves half a results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
        tmp = fh.name
    os.replace(tmp, path)
    return path
