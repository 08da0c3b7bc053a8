"""`adaptlab analyze` writes one self-contained HTML report that headless chromium renders with its plots."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from integration.test_web_page import CHROMIUM, CHROMIUM_ARGS, PNG_MAGIC

pytestmark = pytest.mark.slow


def test_report_opens_in_chromium_and_its_plots_render(
    workspace: Path, shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "analysis"
    done = run_cli(
        "analyze", "--max-texts", "60", "--projection", "pca", "--clusters", "4", "-o", str(out), timeout=900
    )
    assert done.returncode == 0, done.stderr
    assert "translation top-1" in done.stdout
    summary = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    assert summary["texts"] == 60 and len(summary["clusters"]) == 4
    bias = summary["language"][0]
    assert 0 <= bias["translation_top1"] <= 1 and 0.5 <= bias["same_language_neighbours"] <= 1
    assert bias["parallel_cosine"] > bias["random_cross_cosine"]  # translations are closer than random pairs
    page = (out / "analysis.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # self-contained
    images = re.findall(r'src="data:image/png;base64,', page)
    assert len(images) >= 4  # spectrum + maps by language, source, cluster

    if not Path(CHROMIUM).is_file():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium; CI installs it)")
    # the page reports how many of its images decoded into its title, which chromium prints with --dump-dom
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.replace(
            "</body>",
            "<script>window.addEventListener('load',()=>{const i=[...document.images];"
            "document.title='loaded '+i.filter(x=>x.complete&&x.naturalWidth>0).length+'/'+i.length})"
            "</script></body>",
        ),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_ARGS, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    loaded = re.search(r"<title>loaded (\d+)/(\d+)</title>", dom)
    assert loaded and loaded.group(1) == loaded.group(2) == str(len(images)), dom[:300]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_ARGS,
            f"--screenshot={shot}",
            "--window-size=1100,1400",
            (out / "analysis.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.read_bytes().startswith(PNG_MAGIC)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 10 and (pixels < 200).mean() > 0.02  # not blank: text, tables and plots drew
