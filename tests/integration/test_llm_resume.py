"""Done-when: an SFT run killed mid-way resumes from its last checkpoint and finishes (real CLI, tiny Llama)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from unit.llm.llm_tiny_models import build_tiny_llama

pytest.importorskip("trl", reason="needs the llm extra: pip install -e '.[llm]'")


@pytest.mark.slow
def test_killed_sft_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    tiny = build_tiny_llama(tmp_path)
    data = tmp_path / "train.jsonl"
    rows = [
        {"question": f"Was regelt § {i} EEG?", "answer": f"Paragraph {i} regelt den Anschluss."}
        for i in range(40)
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "adapter"
    args = [
        "llm",
        "sft",
        "--model",
        str(tiny),
        "--train",
        str(data),
        "--output",
        str(out),
        "--max-steps",
        "12",
        "--save-steps",
        "2",
        "--batch-size",
        "2",
        "--max-length",
        "64",
        "--tracking-uri",
        "none",
        "--workspace",
        str(tmp_path / "ws"),
        "--json",
        str(tmp_path / "report.json"),
    ]
    first = subprocess.Popen(
        [sys.executable, "-m", "adaptlab", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    state = out / "checkpoints" / "checkpoint-2" / "trainer_state.json"
    deadline = time.monotonic() + 300
    while not state.is_file() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # kill -9 mid-way: no chance to clean up
    first.wait()
    assert state.is_file(), "the first run never wrote a checkpoint"
    assert not (out / "adapter_model.safetensors").exists(), "the run finished before it could be killed"

    second = run_cli(*args)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed from" in second.stdout and "checkpoint-" in second.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["steps"] == 12 and report["resumed_from"]
    assert int(Path(report["resumed_from"]).name.split("-")[1]) >= 2
    assert (out / "adapter_model.safetensors").is_file()
