"""`adaptlab llm sft`: one pydantic model is the `sft:` YAML section and the CLI's flags."""

from __future__ import annotations

from pydantic import Field

from adaptlab.llm.train_config import LoraTrainConfig


class SFTConfig(LoraTrainConfig):
    """Supervised fine-tuning with LoRA; the loss covers only the assistant's answers."""

    train: str = Field(..., description="Training data (.json, .jsonl or .csv in any supported SFT format).")
    val: str | None = Field(None, description="Validation data for the eval loss and early stopping.")
