from pathlib import Path

import pytest
import yaml

from adaptlab.config import load_config, parse_config
from adaptlab.errors import ConfigError
from adaptlab.experiment import DEMO_CONFIG

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'chunking.sise'"):
        parse_config({"chunking": {"sise": 3}})


def test_bad_value_is_named() -> None:
    with pytest.raises(ConfigError, match=r"'vectors.index_type'"):
        parse_config({"vectors": {"index_type": "IVF_PQ"}})


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: a\nmodels: [minilm\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"x.yaml line \d+: invalid YAML"):
        load_config(path)


def test_demo_yaml_is_what_the_demo_runs() -> None:
    assert yaml.safe_load((CONFIGS / "demo.yaml").read_text(encoding="utf-8")) == DEMO_CONFIG


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    if path.name.startswith("llm-"):  # the LLM chain (`adaptlab llm run`) has its own schema
        from adaptlab.llm.pipeline import load_pipeline

        assert load_pipeline(path)
        return
    config = load_config(path)
    assert config.models or config.finetune is not None


def test_empty_models_need_a_finetune_section_and_ensembles_need_adapters() -> None:
    with pytest.raises(ConfigError, match=r"^cfg: models: name at least one model"):
        parse_config({"models": []}, origin="cfg")
    assert parse_config({"models": [], "finetune": {"method": "adapter", "ensemble": ["e5-small"]}}).models == []
    with pytest.raises(ConfigError, match=r"'finetune': ensemble: only adapters"):
        parse_config({"finetune": {"method": "full", "ensemble": ["e5-small"]}}, origin="cfg")
    with pytest.raises(ConfigError, match=r"ensemble_weights: one weight for the base and each"):
        parse_config({"finetune": {"method": "adapter", "ensemble": ["e5-small"], "ensemble_weights": [1.0]}})


def test_a_teacher_needs_parallel_distillation_and_no_weight_averaging_across_models() -> None:
    distill = {"method": "full", "objective": "distill-parallel", "base": "e5-small-trainable", "teacher": "minilm"}
    assert parse_config({"finetune": distill}).finetune.teacher == "minilm"
    with pytest.raises(ConfigError, match=r"teacher: only distill-parallel learns from a teacher"):
        parse_config({"finetune": {**distill, "objective": "mnrl"}})
    with pytest.raises(ConfigError, match=r"interpolate: weight averaging needs the student and teacher"):
        parse_config({"finetune": {**distill, "interpolate": 0.8}})
    assert parse_config({"finetune": {**distill, "teacher": "e5-small-trainable", "interpolate": 0.8}}).finetune


def test_a_bridge_needs_an_encoder_other_than_its_base() -> None:
    with pytest.raises(ConfigError, match=r"the bridge encoder must differ from the base"):
        parse_config({"finetune": {"base": "e5-small", "method": "bridge", "bridge_encoder": "e5-small"}})
    bridge = parse_config({"finetune": {"method": "bridge", "english_sources": ["instructions"]}}).finetune
    assert bridge is not None and bridge.base == "minilm" and bridge.bridge_encoder == "e5-small-trainable"


def test_hard_negatives_need_a_full_fine_tune() -> None:
    with pytest.raises(ConfigError, match=r"hard_negatives: mined negatives train a full fine-tune"):
        parse_config({"finetune": {"method": "adapter", "hard_negatives": 2}})
    assert parse_config({"finetune": {"hard_negatives": 2}}).finetune.hard_negatives == 2  # type: ignore[union-attr]
