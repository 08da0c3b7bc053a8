"""What `adaptlab finetune-reranker` does, as one pydantic model: the `finetune: reranker:` YAML section and
the command's flags (field descriptions are the help text)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_NAME = "minilm-reranker"


class RerankerConfig(BaseModel):
    """One cross-encoder training run: start weights, data, hard negatives, training budget, output name."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(
        "minilm",
        description="Zoo name or sentence-transformers folder whose encoder weights "
        "start the cross-encoder (a fresh one-logit head is added).",
    )
    miner: str = Field(
        "minilm",
        description="Bi-encoder (zoo name, registered name or folder; sentence-transformers) "
        "that mines hard negatives.",
    )
    pairs: list[str] = Field(
        ["corpus"],
        description="Sources of (query, positive) pairs: 'corpus' (mined from the "
        "workspace corpus), .jsonl files of query/positive, BEIR folders with qrels/train.tsv.",
    )
    rules: list[str] = Field(
        ["heading", "title", "inverse-cloze", "term-definition"],
        description="Corpus mining rules to use (pairs: corpus).",
    )
    miner_max_length: int = Field(
        128, gt=8, description="Token limit of the miner (enough to find hard negatives)."
    )
    negatives: int = Field(
        4, gt=0, description="Hard negatives per query, mined from the corpus by the miner."
    )
    candidates: int = Field(
        30, gt=1, description="Negatives are drawn from the miner's top this many per query."
    )
    relative_margin: float = Field(
        0.05,
        ge=0,
        lt=1,
        description="A candidate scoring above (1 − margin) × the positive's score is skipped as "
        "a likely false negative (an unlabelled relevant passage).",
    )
    max_corpus: int | None = Field(
        20000, gt=0, description="Negatives come from at most this many chunks (sampled)."
    )
    max_pairs: int | None = Field(1000, gt=0, description="Train on at most this many queries (sampled).")
    heldout_fraction: float = Field(0.1, ge=0, lt=1, description="Share of documents held out of training.")
    epochs: float = Field(1.0, gt=0, description="Passes over the labelled pairs.")
    max_steps: int | None = Field(
        None, gt=0, description="Stop after this many optimiser steps (overrides epochs)."
    )
    batch_size: int = Field(16, gt=0, description="Labelled (query, passage) pairs per batch.")
    learning_rate: float = Field(2e-5, gt=0, description="Peak learning rate.")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of steps with a rising learning rate.")
    max_length: int = Field(256, gt=8, description="Token limit of query + passage.")
    save_steps: int = Field(50, gt=0, description="Checkpoint every this many steps (a re-run resumes).")
    output: str | None = Field(
        None, description=f"Name to register (default {DEFAULT_NAME}); use it with --rerank NAME."
    )
    seed: int = Field(42, description="Random seed for sampling, splits and initialisation.")
