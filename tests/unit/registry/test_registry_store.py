"""The MLflow-backed registry: versions with metrics and lineage, gated promotion, rollback with history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.registry.lineage import candidate, parse_metrics
from adaptlab.registry.store import CHALLENGER, CHAMPION, GateRefused, ModelRegistry
from adaptlab.workspace import Workspace

pytestmark = pytest.mark.slow  # MLflow creates its sqlite schema (seconds)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    return ModelRegistry(Workspace.resolve(tmp_path_factory.mktemp("reg") / "ws"))


def _register(registry: ModelRegistry, score: float, name: str = "emb") -> str:
    metrics = {"xquad-de-en/ndcg@10": score, "xquad-de-en/mrr@10": score + 0.1}
    return registry.register(
        name, "minilm", "minilm", metrics, "ndcg@10", {"base_model": "minilm", "config": "{}"}
    ).version


def test_promote_gate_force_rollback_and_history(registry: ModelRegistry) -> None:
    v1, v2, v3 = (_register(registry, s) for s in (0.50, 0.40, 0.60))
    assert [v.version for v in registry.versions("emb")] == [v3, v2, v1]
    first = registry.promote("emb", v1)
    assert first.previous is None and first.gate is None
    with pytest.raises(GateRefused, match=r"v2 scores ndcg@10 0.4000 < champion v1 0.5000 on xquad-de-en"):
        registry.promote("emb", v2)
    assert registry.aliases("emb") == {CHAMPION: v1}
    forced = registry.promote("emb", v2, force=True)
    assert forced.forced and forced.previous == v1
    assert registry.rollback("emb") == (v2, v1)
    assert registry.aliases("emb")[CHAMPION] == v1
    registry.promote("emb", v3, alias=CHALLENGER)
    won = registry.promote("emb", v3)  # better: passes the gate and ends the A/B test
    assert won.gate and won.gate.passed and registry.aliases("emb") == {CHAMPION: v3}
    assert registry.version("emb", v3).aliases == (CHAMPION,)
    assert registry.rollback("emb") == (v3, v1)
    actions = [(e["action"], e.get("alias", ""), e["version"]) for e in registry.events("emb")]
    assert actions[-6:] == [
        ("promote", CHAMPION, v1),
        ("promote", CHAMPION, v2),
        ("rollback", CHAMPION, v1),
        ("promote", CHALLENGER, v3),
        ("promote", CHAMPION, v3),
        ("rollback", CHAMPION, v1),
    ]
    with pytest.raises(AdaptlabError, match="no previous champion"):
        registry.rollback("emb")


def test_version_keeps_metrics_lineage_and_clear_errors(registry: ModelRegistry) -> None:
    version = registry.version("emb", _register(registry, 0.3, "emb"))
    assert version.metrics["xquad-de-en/ndcg@10"] == 0.3 and version.primary_metric == "ndcg@10"
    assert version.lineage == {"base_model": "minilm", "config": "{}"} and version.model == "minilm"
    with pytest.raises(AdaptlabError, match="has no version 999"):
        registry.version("emb", 999)
    with pytest.raises(AdaptlabError, match="no registered model 'nope'.*registry register"):
        registry.aliases("nope")
    with pytest.raises(AdaptlabError, match="already the champion"):
        registry.promote("emb", registry.aliases("emb")[CHAMPION])


def test_candidate_snapshots_folders_by_content(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    first = candidate(ws, "emb", str(folder))
    again = candidate(ws, "emb", str(folder))
    (folder / "weights.bin").write_bytes(b"retrained")
    changed = candidate(ws, "emb", str(folder))
    assert first.model == again.model != changed.model  # same bytes share a snapshot, new bytes get a new one
    assert Path(first.model).is_dir() and not (Path(first.model) / "weights.bin").exists()
    assert first.lineage["source_path"] == str(folder.resolve()) and first.kind == "sentence-transformers"
    assert candidate(ws, "emb", "minilm").lineage["base_model"] == "minilm"
    assert json.loads(candidate(ws, "emb", "minilm").lineage["packages"])
    with pytest.raises(AdaptlabError, match="neither a zoo model"):
        candidate(ws, "emb", str(tmp_path / "missing"))
    with pytest.raises(AdaptlabError, match="DATASET/METRIC=NUMBER"):
        parse_metrics(["ndcg=0.5"])
    assert parse_metrics(["xquad-de-en/ndcg@10=0.61"]) == {"xquad-de-en/ndcg@10": 0.61}
