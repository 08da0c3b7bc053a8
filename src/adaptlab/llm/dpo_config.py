"""`adaptlab llm dpo`: one pydantic model is the `dpo:` YAML section and the CLI's flags."""

from __future__ import annotations

from pydantic import Field

from adaptlab.llm.train_config import LoraTrainConfig


class DPOConfig(LoraTrainConfig):
    """Direct preference optimisation with LoRA; the frozen base (adapter off) is the reference model."""

    train: str = Field(..., description="Preference data (chosen/rejected rows; ShareGPT style too).")
    val: str | None = Field(
        None, description="Held-out preference pairs for the eval loss and reward margins."
    )
    adapter: str | None = Field(
        None, description="Start from this SFT LoRA adapter (merged into the base first)."
    )
    beta: float = Field(
        0.1, gt=0, description="DPO temperature: how far the policy may move from the reference."
    )
    learning_rate: float = Field(5e-5, gt=0, description="Peak learning rate.")
    max_length: int = Field(256, gt=8, description="Token limit per prompt + answer.")
