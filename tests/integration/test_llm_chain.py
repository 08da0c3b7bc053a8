"""The whole LLM chain from one YAML, through the real CLI, on a tiny real Llama: generate → prepare →
sft → eval → dpo → merge → export (with the GGUF greedy-output check), logged to MLflow."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli
from unit.llm.test_llm_corpus_data import LAW
from unit.llm.llm_tiny_models import build_tiny_llama

pytest.importorskip("trl", reason="needs the llm extra: pip install -e '.[llm]'")


@pytest.mark.slow
def test_yaml_chain_trains_evaluates_merges_and_exports(tmp_path: Path) -> None:
    tiny = build_tiny_llama(tmp_path)
    laws = tmp_path / "gesetze"
    laws.mkdir()
    (laws / "tg.md").write_text(LAW, encoding="utf-8")
    (laws / "tg2.md").write_text(
        LAW.replace("TG", "TG2").replace("Testgesetz", "Zweitgesetz"), encoding="utf-8"
    )
    config = tmp_path / "chain.yaml"
    config.write_text(
        textwrap.dedent(f"""
        name: tiny-chain
        generate: {{source: "{laws}", out: "${{workspace}}/data", max_words: 10, context_chars: 120}}
        prepare:
          inputs: ["${{workspace}}/data/instructions.jsonl"]
          out: "${{workspace}}/split"
          val: 0.0
          test: 0.3
          split_by: id
          augment: true
        sft: {{model: "{tiny}", train: "${{workspace}}/split/train.jsonl", output: "${{workspace}}/sft",
              max_steps: 2, batch_size: 2, max_length: 320, save_steps: 2, logging_steps: 1}}
        eval: {{data: "${{workspace}}/split/test.jsonl", max_new_tokens: 4, predictions: "${{workspace}}/pred.jsonl"}}
        dpo: {{model: "{tiny}", train: "${{workspace}}/data/preferences.jsonl", adapter: "${{workspace}}/sft",
              output: "${{workspace}}/dpo", max_steps: 2, batch_size: 2, max_length: 320, logging_steps: 1}}
        merge: {{output: "${{workspace}}/merged"}}
        export: {{out: "${{workspace}}/tiny.gguf", type: f32}}
        """),
        encoding="utf-8",
    )
    ws = tmp_path / "ws"
    result = run_cli(
        "llm", "run", str(config), "--workspace", str(ws), "--json", str(tmp_path / "report.json")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["generate"]["instructions"] == 6 and report["generate"]["preferences"] == 6
    assert report["prepare"]["counts"]["test"] >= 1 and report["prepare"]["counts"]["train"] >= 2
    assert report["prepare"]["augmented"]["paraphrase"] >= 1  # train rows only, see test_llm_augment
    assert report["sft"]["steps"] == 2 and report["dpo"]["steps"] == 2
    assert [r["model"] for r in report["eval"]["results"]] == ["base", "sft"]
    assert set(report["eval"]["results"][0]) >= {"exact_match", "token_f1", "bleu", "rouge_l"}
    assert report["export"]["check"]["same"] and report["export"]["check"]["matching"] == 5
    manifest = json.loads((ws / "dpo" / "adaptlab_llm.json").read_text(encoding="utf-8"))
    assert manifest["base_adapters"] == [str(ws / "sft")] and manifest["base_model"] == str(tiny)
    assert (ws / "merged" / "model.safetensors").is_file() and (ws / "tiny.gguf").is_file()
    assert len((ws / "pred.jsonl").read_text(encoding="utf-8").splitlines()) == 2 * report["eval"]["rows"]
    # MLflow: params, the loss curve and the adapter as an artifact
    logged = list((ws / "mlartifacts").rglob("adapter_model.safetensors"))
    assert len(logged) == 2  # sft and dpo
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{ws / 'mlflow.sqlite'}")
    runs = mlflow.search_runs(experiment_names=["adaptlab"], output_format="list")
    sft_run = next(r for r in runs if r.info.run_name == "llm-sft")
    assert sft_run.data.params["lora_r"] == "8" and "loss" in sft_run.data.metrics
    assert len(mlflow.MlflowClient().get_metric_history(sft_run.info.run_id, "loss")) == 2


@pytest.mark.slow
def test_bad_input_is_one_line(tmp_path: Path) -> None:
    result = run_cli(
        "llm",
        "sft",
        "--train",
        str(tmp_path / "nope.jsonl"),
        "--output",
        str(tmp_path / "o"),
        "--model",
        "no-such-model",
        "--tracking-uri",
        "none",
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "Traceback" not in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("sft:\n  lora_rank: 4\n", encoding="utf-8")
    result = run_cli("llm", "run", str(bad))
    assert result.returncode == 2 and "unknown key 'sft.lora_rank'" in result.stderr
