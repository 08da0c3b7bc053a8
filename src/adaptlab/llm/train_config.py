"""What SFT and DPO share: the base model, the template, LoRA and the optimisation schedule.

Each field's description is its help text, so the YAML section and `--help` never disagree (TRL's
`<method>_config.py` pattern). `sft_config.SFTConfig` and `dpo_config.DPOConfig` add their own fields.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from adaptlab.llm.models import SMOLLM2

Precision = Literal["fp32", "fp16", "bf16"]


class LoraTrainConfig(BaseModel):
    """A LoRA training run on a causal LM."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        SMOLLM2, description="Base model: smollm2-135m (packaged GGUF) or a local HF causal-LM folder."
    )
    template: str = Field(
        "tokenizer",
        description="Prompt template: tokenizer (its own chat template), chatml, alpaca, llama2 or phi.",
    )
    output: str = Field(
        ..., description="Folder for the LoRA adapter; checkpoints go to <output>/checkpoints."
    )
    max_length: int = Field(256, gt=8, description="Token limit per example; longer ones are truncated.")
    max_examples: int | None = Field(None, gt=0, description="Use at most this many training examples.")
    lora_r: int = Field(8, gt=0, description="LoRA rank.")
    lora_alpha: int = Field(
        16, gt=0, description="LoRA scaling numerator (the update is scaled by alpha / r)."
    )
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input.")
    target_modules: list[str] = Field(
        ["q_proj", "k_proj", "v_proj", "o_proj"],
        description="Module names LoRA adapts; ['all-linear'] adapts every linear layer but the output head.",
    )
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    epochs: float = Field(1.0, gt=0, description="Passes over the training data.")
    max_steps: int | None = Field(
        None, gt=0, description="Stop after this many optimiser steps (overrides epochs)."
    )
    batch_size: int = Field(
        4, gt=0, description="Examples per device batch; halved automatically on out-of-memory."
    )
    gradient_accumulation: int = Field(1, gt=0, description="Batches per optimiser step.")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of steps with a rising learning rate.")
    save_steps: int = Field(
        25, gt=0, description="Checkpoint every this many steps; a re-run resumes from the last."
    )
    save_total_limit: int = Field(2, gt=0, description="Checkpoints kept.")
    logging_steps: int = Field(5, gt=0, description="Log the loss every this many steps.")
    eval_steps: int | None = Field(
        None, gt=0, description="Evaluate the validation loss every this many steps."
    )
    early_stopping_patience: int | None = Field(
        None, gt=0, description="Stop when the validation loss has not improved for this many evaluations."
    )
    precision: Precision = Field("fp32", description="fp32 (CPU), fp16 or bf16 (GPU).")
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in backward: less memory, slower."
    )
    qlora: bool = Field(
        False, description="Load the base in 4 bit (bitsandbytes, CUDA only) and train LoRA on it."
    )
    seed: int = Field(42, description="Random seed.")
