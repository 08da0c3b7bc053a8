"""The query bridge: the ridge map, routing by language, saving, and sharing the target's collection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.models.base import l2_normalize
from adaptlab.models.loading import load_embedder
from adaptlab.train.bridge import (
    BRIDGE_FILE, NATIVE_WEIGHTS, BridgeData, BridgeEmbedder, QueryBridge, apply_map, bridge_target, bridged, fit_bridge,
    is_bridge_dir,
    native_mask, ridge_map,
)
from adaptlab.train.model_store import load_model, model_key, register_model
from adaptlab.workspace import Workspace

ENGLISH = ["The wind farm feeds the grid.", "How much power does a solar panel produce?",
           "Batteries store electricity for the night.", "Where is the nearest substation?",
           "The heat pump warms the house.", "Coal plants emit carbon dioxide.", "The tariff changes in May.",
           "Offshore turbines are large.", "Who operates the transmission grid?", "Hydrogen can be stored."]
GERMAN = ["Der Windpark speist ins Netz ein.", "Wie viel Strom erzeugt ein Solarmodul?",
          "Batterien speichern Strom für die Nacht.", "Wo ist das nächste Umspannwerk?",
          "Die Wärmepumpe heizt das Haus.", "Kohlekraftwerke stoßen Kohlendioxid aus.", "Der Tarif ändert sich im Mai.",
          "Offshore-Anlagen sind groß.", "Wer betreibt das Übertragungsnetz?", "Wasserstoff lässt sich speichern."]
EXTRA = ["What is a capacity market?", "Explain grid congestion."]


def test_ridge_map_recovers_a_linear_map_with_bias() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(500, 8)).astype(np.float32)
    weights, bias = rng.normal(size=(8, 4)), rng.normal(size=4)
    fitted = ridge_map(inputs, inputs @ weights + bias, ridge=1e-6)
    assert fitted.shape == (9, 4)
    np.testing.assert_allclose(fitted[:-1], weights, atol=1e-3)
    np.testing.assert_allclose(fitted[-1], bias, atol=1e-3)


def test_native_mask_routes_english_to_the_target_and_german_to_the_map() -> None:
    assert native_mask(ENGLISH + GERMAN, ["en"]).tolist() == [True] * 10 + [False] * 10
    assert native_mask(["Wind"], ["de"]).dtype == bool  # one word still gets a decision, never an error


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    cache = tmp_path_factory.mktemp("models")
    return load_embedder("minilm-onnx-int8", cache), load_embedder("minilm", cache)


def _data(models: tuple) -> BridgeData:
    encoder, target = models
    return BridgeData(encoder.encode_queries(ENGLISH), encoder.encode_queries(GERMAN), target.encode_queries(ENGLISH),
                      target.encode_queries(GERMAN), encoder.encode_queries(EXTRA), target.encode_queries(EXTRA))


def _bridge(models: tuple) -> QueryBridge:
    return fit_bridge(models[0].name, models[1].name, _data(models), ridge=0.1, holdout_fraction=0.3)


def test_fit_chooses_the_blend_weight_on_held_out_pairs(models: tuple) -> None:
    bridge = _bridge(models)
    assert set(bridge.selection) == {f"{w:g}" for w in NATIVE_WEIGHTS}
    assert bridge.selection[f"{bridge.native_weight:g}"] == max(bridge.selection.values())
    assert bridge.weights.shape == (385, 384) and bridge.pairs == 10 and bridge.english_texts == 2


def test_bridge_embeds_native_queries_with_the_target_and_others_through_the_map(models: tuple) -> None:
    encoder, target = models
    bridge = BridgeEmbedder(encoder, target, _bridge(models), name="bridge")
    vectors = bridge.encode_queries([ENGLISH[0], GERMAN[1]])
    np.testing.assert_allclose(vectors[0], target.encode_queries([ENGLISH[0]])[0], atol=1e-5)
    expected = bridged(apply_map(encoder.encode_queries([GERMAN[1]]), bridge.bridge.weights),
                       target.encode_queries([GERMAN[1]]), bridge.bridge.native_weight)
    np.testing.assert_allclose(vectors[1], expected[0], atol=1e-5)
    np.testing.assert_allclose(bridge.encode_documents(GERMAN[:2]), target.encode_documents(GERMAN[:2]), atol=1e-6)
    seen: dict[str, list[str]] = {}
    routed = bridge.route([ENGLISH[0], GERMAN[1]], lambda part: seen.setdefault("native", part) and
                          target.encode_queries(part), lambda part: seen.setdefault("encoder", part) and
                          encoder.encode_queries(part))
    np.testing.assert_allclose(routed, vectors, atol=1e-5)
    assert seen == {"native": [ENGLISH[0], GERMAN[1]], "encoder": [GERMAN[1]]}  # English never reaches the encoder
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5) and bridge.dim == target.dim
    assert bridge.encode_queries([]).shape == (0, target.dim)


def test_the_map_pulls_german_queries_towards_the_english_targets(models: tuple) -> None:
    encoder, target = models
    bridge = _bridge(models)
    english = l2_normalize(target.encode_queries(ENGLISH))
    before = np.diag(l2_normalize(target.encode_queries(GERMAN)) @ english.T)
    after = np.diag(apply_map(encoder.encode_queries(GERMAN), bridge.weights) @ english.T)
    assert after.mean() > before.mean() + 0.1  # fitted on these very pairs: the map must reproduce them


def test_saved_bridge_loads_by_name_and_shares_the_targets_collection(models: tuple, tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws")
    folder = _bridge(models).save(tmp_path / "bridge")
    assert is_bridge_dir(folder) and json.loads((folder / BRIDGE_FILE).read_text())["base"] == "minilm"
    register_model(workspace, "de-bridge", folder)
    loaded = load_model(workspace, "de-bridge")
    assert isinstance(loaded, BridgeEmbedder) and loaded.target.name == "minilm"
    assert model_key(workspace, "de-bridge") == model_key(workspace, "minilm") == "minilm"
    np.testing.assert_allclose(loaded.encode_queries([GERMAN[0]]), BridgeEmbedder(
        *models, _bridge(models), name="x").encode_queries([GERMAN[0]]), atol=1e-5)


def test_broken_or_mismatched_bridges_fail_with_one_line(models: tuple, tmp_path: Path) -> None:
    folder = _bridge(models).save(tmp_path / "bridge")
    (folder / BRIDGE_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(AdaptlabError, match="not a valid bridge"):
        QueryBridge.load(folder)
    with pytest.raises(AdaptlabError, match="not a valid bridge"):
        bridge_target(folder)
    small = QueryBridge("minilm-onnx-int8", "minilm", np.zeros((5, 384), dtype=np.float32))
    with pytest.raises(AdaptlabError, match="bridge map is 4→384-d"):
        BridgeEmbedder(*models, small, name="x")
    with pytest.raises(AdaptlabError, match="at least 10 parallel pairs"):
        BridgeData(*[np.zeros((3, 384))] * 4, np.zeros((0, 384)), np.zeros((0, 384)))
    with pytest.raises(AdaptlabError, match="one vector per text"):
        BridgeData(*[np.zeros((10, 384))] * 3, np.zeros((9, 384)), np.zeros((0, 384)), np.zeros((0, 384)))
