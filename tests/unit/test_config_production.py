"""The `features:` and `serve:` config sections and the shipped production example."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.cli.serve import _settings
from adaptlab.config import ExperimentConfig, load_config, parse_config
from adaptlab.errors import AdaptlabError, ConfigError

PRODUCTION = Path(__file__).resolve().parents[2] / "configs" / "production.yaml"


def test_production_yaml_drives_features_serve_and_ocr() -> None:
    cfg = load_config(PRODUCTION)
    assert cfg.features.online == "redis://127.0.0.1:6379/0" and cfg.features.reads_online
    assert (cfg.features.popularity_boost, cfg.features.min_rating) == (0.05, 2.0)
    s = cfg.serve
    assert (s.model_alias, s.registry_name, s.challenger_share, s.session_header) == (
        "champion",
        "embedder",
        0.2,
        "X-Session-Id",
    )
    assert (s.drift.window, s.drift.model, s.drift.alpha) == (200, "minilm", 0.01)
    assert cfg.corpus.ocr_min_confidence == 70


def test_defaults_keep_features_off_and_serve_as_before() -> None:
    cfg = ExperimentConfig()
    assert cfg.features.online == "sqlite" and not cfg.features.reads_online
    assert (cfg.serve.models, cfg.serve.challenger_share, cfg.serve.drift.window) == (["minilm"], 0.0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"features": {"online": "memcached://x"}}, r"'features.online':.*expected 'sqlite' or a Redis URL"),
        ({"features": {"boost": 1}}, r"unknown key 'features.boost'"),
        ({"serve": {"challenger_share": 1.5}}, r"'serve.challenger_share'"),
        ({"serve": {"drift": {"alpha": 0}}}, r"'serve.drift.alpha'"),
    ],
)
def test_bad_values_are_named_by_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_serve_flags_override_the_config_and_are_validated() -> None:
    section = parse_config({"serve": {"challenger_share": 0.2, "port": 9000}}).serve
    merged = _settings(section, challenger_share=0.5, port=None)
    assert (merged.challenger_share, merged.port) == (0.5, 9000)  # a flag left out keeps the config's value
    with pytest.raises(AdaptlabError, match=r"--challenger-share 1.5: .*less than or equal to 1"):
        _settings(section, challenger_share=1.5)
    with pytest.raises(AdaptlabError, match=r"--drift-alpha 2.0"):
        _settings(section.drift, "drift-", alpha=2.0)


def test_shipped_serving_configs_name_query_encoders_of_the_same_model() -> None:
    for name in ("production.yaml", "serve-demo.yaml"):
        cfg = load_config(PRODUCTION.with_name(name))
        assert cfg.search.query_encoders == {"minilm": "auto"} and cfg.serve.query_process == "auto"
        assert cfg.search.hybrid_candidates == 30
