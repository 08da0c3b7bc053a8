"""MLM continued pre-training (Gururangan et al. 2020, "Don't stop pretraining"): the encoder keeps learning
to fill in masked words, now on the user's corpus, before (or instead of) a retrieval objective.

The sentence-transformers folders in the zoo hold the bare encoder, without the masked-LM head it was first
trained with. A head of the encoder's architecture (transformers' `AutoModelForMaskedLM`) is put around the
encoder module itself: its prediction layer is tied to the encoder's token embeddings, and only its small
transform layer starts untrained. transformers' `Trainer` and `DataCollatorForLanguageModeling` train it; the
encoder inside the sentence-transformers model is updated in place, so nothing has to be copied back.
The head's output layer spans the whole vocabulary: with a 250k-token vocabulary (e5) each step costs several
times what it costs for MiniLM's 30k.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.finetune_trainer import TrainStats, freeze_token_embeddings, last_checkpoint, shared_training_args


def masked_lm_around(model: Any) -> Any:
    """A masked-LM model whose encoder *is* `model`'s transformer (shared weights, tied output layer)."""
    from transformers import AutoModelForMaskedLM

    encoder = model[0].auto_model
    head = AutoModelForMaskedLM.from_config(encoder.config)
    setattr(head, head.base_model_prefix, encoder)
    head.tie_weights()
    if head.get_output_embeddings().weight is not encoder.get_input_embeddings().weight:
        raise RuntimeError(f"mlm: could not tie the {type(head).__name__} head to the encoder's embeddings")
    return head


def train_masked_lm(model: Any, sentences: Sequence[str], config: FinetuneConfig, checkpoints: Path,
                    callbacks: list[Any] | None = None) -> TrainStats:
    """Continue `model`'s pre-training on `sentences` with masked-token prediction; returns what it took."""
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    if config.freeze_embeddings:
        freeze_token_embeddings(model)
    head = masked_lm_around(model)
    tokenizer = model.tokenizer
    limit = min(config.max_seq_length or model.max_seq_length, model.max_seq_length)
    rows = Dataset.from_dict({"text": list(sentences)}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=limit, return_special_tokens_mask=True),
        batched=True, remove_columns=["text"],
    )
    args = TrainingArguments(
        **shared_training_args(checkpoints, config.pretrain_epochs, None, config.batch_size,
                               config.pretrain_learning_rate, config.warmup_ratio, config.save_steps, config.seed),
        gradient_accumulation_steps=config.gradient_accumulation,
    )
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=config.mlm_probability, seed=config.seed)
    trainer = Trainer(model=head, args=args, train_dataset=rows, data_collator=collator, callbacks=callbacks)
    resume = last_checkpoint(checkpoints)
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    model[0].auto_model.train(False)
    return TrainStats(int(output.global_step), time.perf_counter() - start, len(rows),
                      losses[-1] if losses else None, resume)


__all__ = ["masked_lm_around", "train_masked_lm"]
