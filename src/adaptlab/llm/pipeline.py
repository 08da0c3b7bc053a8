"""The LLM chain as one YAML file: generate → prepare → sft → eval → dpo → merge → export.

Every section is optional and is the same pydantic model the step's command validates, so a key means
the same in YAML and on the command line. `${data}` is the shared data folder, `${workspace}` the
workspace. Sections left out are skipped; `merge` and `export` default to the run's last adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from adaptlab.errors import ConfigError
from adaptlab.llm.dpo_config import DPOConfig
from adaptlab.llm.sft_config import SFTConfig
from adaptlab.llm.stages import EvalConfig, ExportConfig, GenerateConfig, MergeConfig, PrepareConfig, Step


class LLMPipelineConfig(Step):
    """An LLM fine-tuning experiment; each section runs its step, in the order below."""

    name: str = "llm"
    workspace: str | None = Field(
        None, description="Workspace folder (default: $ADAPTLAB_WORKSPACE or ./.adaptlab)."
    )
    tracking_uri: str | None = Field(None, description="MLflow tracking URI ('none' disables).")
    generate: GenerateConfig | None = None
    prepare: PrepareConfig | None = None
    sft: SFTConfig | None = None
    eval: EvalConfig | None = None
    dpo: DPOConfig | None = None
    merge: MergeConfig | None = None
    export: ExportConfig | None = None


def load_pipeline(path: Path) -> LLMPipelineConfig:
    """The YAML validated; every problem named by its key path in one line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    try:
        return LLMPipelineConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            problems.append(
                f"unknown key '{where}'"
                if error["type"] == "extra_forbidden"
                else f"'{where}': {error['msg']}"
            )
        raise ConfigError(f"{path}: {'; '.join(problems)}") from None


def run_pipeline(
    cfg: LLMPipelineConfig,
    workspace: str | Path | None = None,
    tracking_uri: str | None = None,
    console: Any = None,
) -> dict[str, Any]:
    """Run every configured step in order; returns each step's report by name."""
    from adaptlab.llm import stages
    from adaptlab.workspace import Workspace

    ws = Workspace.resolve(workspace or cfg.workspace)
    uri = tracking_uri or cfg.tracking_uri
    report: dict[str, Any] = {}
    last_adapter: str | None = None

    def say(step: str) -> None:
        if console is not None:
            console.print(f"[bold]llm run[/bold] · {step}")

    if cfg.generate:
        say("generate")
        report["generate"] = stages.generate_stage(cfg.generate, ws, console)
    if cfg.prepare:
        say("prepare")
        report["prepare"] = stages.as_dict(stages.prepare_stage(cfg.prepare, ws))
    if cfg.sft:
        say("sft")
        result = stages.sft_stage(cfg.sft, ws, uri)
        report["sft"], last_adapter = result.as_dict(), result.adapter
    if cfg.eval:
        say("eval")
        adapters = cfg.eval.adapters or ([last_adapter] if last_adapter else [])
        report["eval"] = stages.eval_stage(
            cfg.eval.model_copy(update={"adapters": adapters}), ws, uri, console
        )
    if cfg.dpo:
        say("dpo")
        result = stages.dpo_stage(cfg.dpo, ws, uri)
        report["dpo"], last_adapter = result.as_dict(), result.adapter
    merged: Path | None = None
    if cfg.merge:
        say("merge")
        merge_cfg = cfg.merge if cfg.merge.adapter else cfg.merge.model_copy(update={"adapter": last_adapter})
        merged = stages.merge_stage(merge_cfg, ws)
        report["merge"] = {"output": str(merged)}
    if cfg.export:
        say("export")
        export_cfg = (
            cfg.export
            if cfg.export.model
            else cfg.export.model_copy(update={"model": str(merged) if merged else None})
        )
        report["export"] = stages.export_stage(export_cfg, ws)
    return report
