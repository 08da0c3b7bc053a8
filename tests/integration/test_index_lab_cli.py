"""`adaptlab index-lab` as a user runs it: a sweep on their vectors, a recommendation in the config, a plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adaptlab.config import load_config
from conftest import run_cli

pytestmark = pytest.mark.slow


def test_index_lab_recommends_and_writes_config(workspace: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((15, 32))
    vectors = centres[rng.integers(0, 15, 1500)] + 0.5 * rng.standard_normal((1500, 32))
    np.save(tmp_path / "vecs.npy", vectors.astype(np.float32))
    config = tmp_path / "exp.yaml"
    config.write_text("name: mine\nvectors:\n  index_type: FLAT\n", encoding="utf-8")
    out = tmp_path / "lab"
    done = run_cli(
        "index-lab",
        "--vectors",
        str(tmp_path / "vecs.npy"),
        "--types",
        "AUTOINDEX,HNSW,BINARY",
        "--queries",
        "40",
        "--singles",
        "5",
        "--write-config",
        str(config),
        "-o",
        str(out),
        "--tracking-uri",
        "none",
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "index_lab.json").read_text(encoding="utf-8"))
    assert report["data"]["vectors"] == 1460 and report["data"]["queries"] == 40
    assert {r["index_type"] for r in report["results"]} == {"AUTOINDEX", "HNSW", "BINARY"}
    best = report["recommended"]
    assert best["recall_at_10"] >= 0.95 and best["filtered_recall_at_10"] >= 0.95
    # the rule, not a winner: which of AUTOINDEX and HNSW is faster on 1,460 vectors is timing noise on a
    # loaded machine, so the test checks that the fastest qualifying Milvus setting is the one recommended
    qualifying = [r for r in report["results"] if r["engine"] == "milvus" and r["recall_at_10"] >= 0.95
                  and r["filtered_recall_at_10"] >= 0.95]
    assert best["qps_1"] == max(r["qps_1"] for r in qualifying)
    assert f"recommended: {best['setting']}" in done.stdout and "query cache: hit rate" in done.stdout
    assert (
        report["cache"]["hit_rate"] > 0.5
        and report["cache"]["qps_with_cache"] > report["cache"]["qps_without_cache"]
    )
    written = load_config(config)
    assert written.name == "mine" and written.vectors.index_type == best["index_type"]
    assert written.vectors.search_params == best["search_params"]
    if best["index_type"] == "AUTOINDEX":  # nothing to compare it with side by side
        assert not report["paired_vs_autoindex"] and "side by side" not in done.stdout
    else:
        assert "side by side with AUTOINDEX" in done.stdout and "search.in_memory (in-process copy" in done.stdout
        memory = report["paired_vs_autoindex"]["in_memory"]
        assert memory["recall_at_10"] == 1.0 and memory["pairs"] > 0  # an exact copy: nothing lost
        assert written.search.in_memory is (memory["speedup_qps_1"] > 1)
    png = (out / "index_lab.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_unknown_type_and_missing_collection_are_one_line_errors(workspace: Path) -> None:
    bad = run_cli("index-lab", "--types", "HNSW,IVF_PQQ", "--tracking-uri", "none")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "IVF_PQQ" in bad.stderr
    missing = run_cli("index-lab", "--tracking-uri", "none")
    assert (
        missing.returncode == 2 and "adaptlab embed" in missing.stderr and "Traceback" not in missing.stderr
    )
