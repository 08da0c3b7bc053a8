"""LoRA SFT with trl's SFTTrainer: our template tokenises and masks, trl trains, peft saves the adapter.

The dataset reaches trl pre-tokenised with `labels` (-100 outside the answers), which trl uses as is, so
the masking is ours and unit-tested. Checkpoints go to <output>/checkpoints every `save_steps`; a re-run
with the same output resumes from the newest one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError
from adaptlab.llm.formats import Example, load_file
from adaptlab.llm.lora_training import (
    callbacks,
    last_checkpoint,
    load_base,
    log_adapter,
    lora_config,
    loss_history,
    save_adapter,
    training_kwargs,
)
from adaptlab.llm.sft_config import SFTConfig
from adaptlab.llm.train_config import LoraTrainConfig
from adaptlab.llm.templates import IGNORE_INDEX, ChatTemplate
from adaptlab.tracking.mlflow_runs import RunLogger


@dataclass
class TrainResult:
    """What a training run produced and how long it took."""

    adapter: str
    train_examples: int
    steps: int
    seconds: float
    resumed_from: str | None
    final_loss: float | None
    skipped: dict[str, int] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "history"}


def run_training(
    trainer: Any,
    tokenizer: Any,
    cfg: LoraTrainConfig,
    logger: RunLogger,
    method: str,
    card: dict[str, Any],
    examples: int,
    skipped: dict[str, int],
) -> TrainResult:
    """Train (resuming from the last checkpoint), save and log the adapter: the tail SFT and DPO share."""
    resume = last_checkpoint(cfg)
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    out = save_adapter(trainer, tokenizer, cfg, method, {**card, "steps": trainer.state.global_step})
    log_adapter(logger, out)
    history = loss_history(trainer)
    losses = [h["loss"] for h in history if "loss" in h]
    logger.log_metrics({"train_seconds": seconds})
    return TrainResult(
        str(out),
        examples,
        trainer.state.global_step,
        seconds,
        resume,
        losses[-1] if losses else None,
        skipped,
        history,
    )


def load_examples(path: str, limit: int | None = None) -> tuple[list[Example], dict[str, int]]:
    report = load_file(Path(path), "sft")
    if not report.items:
        raise AdaptlabError(f"{report.summary()}; nothing to train on")
    return report.items[:limit] if limit else report.items, dict(report.skipped)


def tokenized_dataset(examples: list[Example], template: ChatTemplate, max_length: int) -> Any:
    """A datasets.Dataset of input_ids / attention_mask / labels; rows with no answer token left are dropped."""
    from datasets import Dataset

    rows = [template.tokenize(e.messages, max_length) for e in examples]
    rows = [r for r in rows if any(label != IGNORE_INDEX for label in r["labels"])]
    if not rows:
        raise AdaptlabError(
            f"every example's answer lies beyond max_length={max_length} tokens; raise --max-length"
        )
    return Dataset.from_list(rows)


def train_sft(cfg: SFTConfig, logger: RunLogger, cache_dir: Path | None = None) -> TrainResult:
    """Train (or resume) a LoRA adapter on cfg.train; the adapter and its manifest land in cfg.output."""
    from trl import SFTConfig as TrlSFTConfig
    from trl import SFTTrainer

    train, skipped = load_examples(cfg.train, cfg.max_examples)
    val = load_examples(cfg.val)[0] if cfg.val else []
    tokenizer, model = load_base(cfg, cache_dir)
    template = ChatTemplate(cfg.template, tokenizer)
    train_ds = tokenized_dataset(train, template, cfg.max_length)
    val_ds = tokenized_dataset(val, template, cfg.max_length) if val else None
    logger.log_params(
        {
            **cfg.model_dump(),
            "stage": "llm-sft",
            "train_examples": len(train_ds),
            "val_examples": len(val_ds) if val_ds is not None else 0,
        }
    )
    args = TrlSFTConfig(**training_kwargs(cfg, val_ds is not None), completion_only_loss=None, packing=False)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
        callbacks=callbacks(cfg, logger, val_ds is not None),
    )
    return run_training(trainer, tokenizer, cfg, logger, "sft", {"train": cfg.train}, len(train_ds), skipped)
