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


def test_empty_models_need_a_finetune_section_and_ensembles_need_a_pair_trained_base() -> None:
    with pytest.raises(ConfigError, match=r"^cfg: models: name at least one model"):
        parse_config({"models": []}, origin="cfg")
    assert parse_config({"models": [], "finetune": {"method": "adapter", "ensemble": ["e5-small"]}}).models == []
    full = parse_config({"models": [], "finetune": {"method": "full", "ensemble": ["use-multilingual"]}})
    assert full.finetune is not None and full.finetune.ensemble == ["use-multilingual"]
    for method in ({"method": "bridge"}, {"method": "full", "objective": "tsdae"},
                   {"method": "full", "objective": "distill-parallel"}):
        with pytest.raises(ConfigError, match=r"'finetune': ensemble: an ensemble joins adapters"):
            parse_config({"finetune": {**method, "ensemble": ["e5-small"]}}, origin="cfg")
    with pytest.raises(ConfigError, match=r"ensemble_weights: one weight for the base and each"):
        parse_config({"finetune": {"method": "adapter", "ensemble": ["e5-small"], "ensemble_weights": [1.0]}})
    auto = parse_config({"finetune": {"method": "adapter", "ensemble": ["e5-small"], "ensemble_weights": "auto"}})
    assert auto.finetune is not None and auto.finetune.ensemble_weights == "auto"
    with pytest.raises(ConfigError, match=r"ensemble_weights"):
        parse_config({"finetune": {"method": "adapter", "ensemble": ["e5-small"], "ensemble_weights": "best"}})


def test_a_teacher_needs_parallel_distillation_and_no_weight_averaging_across_models() -> None:
    distill = {"method": "full", "objective": "distill-parallel", "base": "e5-small-trainable", "teacher": "minilm"}
    assert parse_config({"finetune": distill}).finetune.teacher == "minilm"
    with pytest.raises(ConfigError, match=r"teacher: only distill-parallel and margin-mse learn from a teacher"):
        parse_config({"finetune": {**distill, "objective": "mnrl"}})
    assert parse_config({"finetune": {**distill, "objective": "margin-mse", "interpolate": 0.8}}).finetune
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


def test_pretraining_runs_before_a_pair_objective_of_a_full_fine_tune() -> None:
    assert parse_config({"finetune": {"pretrain": "tsdae"}}).finetune.pretrain == "tsdae"  # type: ignore[union-attr]
    assert parse_config({"finetune": {"objective": "mlm"}}).finetune.objective == "mlm"  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match=r"pretrain: tsdae/mlm pre-training runs before a pair objective"):
        parse_config({"finetune": {"objective": "distill-parallel", "pretrain": "mlm"}})
    with pytest.raises(ConfigError, match=r"pretrain: tsdae/mlm pre-training runs before"):
        parse_config({"finetune": {"objective": "tsdae", "pretrain": "mlm"}})
    with pytest.raises(ConfigError, match=r"objective: adapters train with in-batch negatives"):
        parse_config({"finetune": {"method": "adapter", "objective": "tsdae"}})
    with pytest.raises(ConfigError, match=r"hard_negatives: .* \(mnrl, cached-mnrl, matryoshka, triplet, margin-mse\)"):
        parse_config({"finetune": {"objective": "tsdae", "hard_negatives": 1}})
    assert parse_config({"finetune": {"objective": "triplet", "hard_negatives": 1}}).finetune


def test_synthetic_queries_are_written_for_corpus_passages_only() -> None:
    config = parse_config({"finetune": {"query_writer": "openai:m", "synthetic_queries": 50}}).finetune
    assert config is not None and config.query_writer == "openai:m" and config.synthetic_queries == 50
    with pytest.raises(ConfigError, match=r"query_writer: synthetic queries are written for corpus passages"):
        parse_config({"finetune": {"query_writer": "openai:m", "pairs": "pairs.jsonl"}})
