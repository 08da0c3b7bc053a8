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


def machine_info(load_before: tuple[float, ...] | list[float], note: str) -> dict[str, Any]:
    """The `machine` entry of a benchmark's JSON: platform, cores, Python, load average around the run, and a
    note on how to read its timings (the 2 cores are often shared, so ratios within one run are what count)."""
    import platform
    import sys

    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "note": note,
    }
