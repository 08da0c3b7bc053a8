"""LoRA DPO with trl's DPOTrainer: the reference model is the base with the adapter switched off, so one
copy of the weights serves both. Prompts are rendered by our template as plain text (trl appends EOS to
the answers); held-out reward margins before and after are measured by `evaluate.preference_margins`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError
from adaptlab.llm.dpo_config import DPOConfig
from adaptlab.llm.formats import PreferencePair, load_file
from adaptlab.llm.lora_training import (
    callbacks,
    load_base,
    lora_config,
    training_kwargs,
)
from adaptlab.llm.sft_trainer import TrainResult, run_training
from adaptlab.llm.templates import ChatTemplate
from adaptlab.tracking.mlflow_runs import RunLogger


def load_pairs(path: str, limit: int | None = None) -> tuple[list[PreferencePair], dict[str, int]]:
    report = load_file(Path(path), "preference")
    if not report.items:
        raise AdaptlabError(f"{report.summary()}; no preference pairs to train on")
    return report.items[:limit] if limit else report.items, dict(report.skipped)


def preference_dataset(pairs: list[PreferencePair], template: ChatTemplate) -> Any:
    from datasets import Dataset

    return Dataset.from_list(
        [{"prompt": template.prompt(p.prompt), "chosen": p.chosen, "rejected": p.rejected} for p in pairs]
    )


def merge_adapter(model: Any, adapter: str) -> Any:
    """Fold a previous (SFT) adapter into the base, so DPO trains a fresh adapter on top of it."""
    from peft import PeftModel

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise AdaptlabError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
    return PeftModel.from_pretrained(model, adapter).merge_and_unload()


def train_dpo(cfg: DPOConfig, logger: RunLogger, cache_dir: Path | None = None) -> TrainResult:
    """Train (or resume) a DPO LoRA adapter on cfg.train; the adapter and its manifest land in cfg.output."""
    from trl import DPOConfig as TrlDPOConfig
    from trl import DPOTrainer

    train, skipped = load_pairs(cfg.train, cfg.max_examples)
    val = load_pairs(cfg.val)[0] if cfg.val else []
    tokenizer, model = load_base(cfg, cache_dir)
    if cfg.adapter:
        model = merge_adapter(model, cfg.adapter)
    template = ChatTemplate(cfg.template, tokenizer)
    train_ds = preference_dataset(train, template)
    val_ds = preference_dataset(val, template) if val else None
    logger.log_params(
        {**cfg.model_dump(), "stage": "llm-dpo", "train_pairs": len(train), "val_pairs": len(val)}
    )
    args = TrlDPOConfig(**training_kwargs(cfg, val_ds is not None), beta=cfg.beta)
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
        callbacks=callbacks(cfg, logger, val_ds is not None),
    )
    card = {"train": cfg.train, "base_adapters": [cfg.adapter] if cfg.adapter else [], "beta": cfg.beta}
    return run_training(trainer, tokenizer, cfg, logger, "dpo", card, len(train), skipped)
