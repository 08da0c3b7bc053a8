"""Full fine-tuning of a sentence-transformers model with `SentenceTransformerTrainer`: no hand-written loop.

Objectives map to sentence-transformers losses: mnrl → MultipleNegativesRankingLoss, cached-mnrl →
CachedMultipleNegativesRankingLoss (gradient cache: a large batch in small memory), matryoshka →
MatryoshkaLoss around MNRL, triplet → TripletLoss (cosine distance), margin-mse → MarginMSELoss (a teacher's
margins), distill-parallel → MSELoss towards a frozen teacher's English embedding, tsdae →
DenoisingAutoEncoderLoss. (mlm trains through transformers' Trainer: `masked_lm`.)
Checkpoints go to a folder in the workspace; a re-run resumes from the last one (after `kill -9`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adaptlab.train.finetune_config import FinetuneConfig
from adaptlab.train.pairs import Pair


@dataclass
class TrainStats:
    steps: int
    seconds: float
    train_examples: int
    final_loss: float | None
    resumed_from: str | None


def limit_seq_length(model: Any, limit: int | None) -> None:
    """Cut the model's token limit to `limit` (never raise it past what the model was built for)."""
    if limit:
        model.max_seq_length = min(limit, model.max_seq_length or limit)


def triplet_dataset(pairs: list[Pair]) -> Any:
    """(anchor, positive, negative) rows, one per negative of each pair: the layout TripletLoss reads."""
    from datasets import Dataset

    rows = [(p.query, p.positive, n) for p in pairs for n in p.negatives]
    return Dataset.from_dict({"anchor": [r[0] for r in rows], "positive": [r[1] for r in rows],
                              "negative": [r[2] for r in rows]})


def pairs_dataset(pairs: list[Pair]) -> Any:
    """(anchor, positive[, negative]) columns: the layout MNRL-style losses read."""
    from datasets import Dataset

    data: dict[str, list[str]] = {"anchor": [p.query for p in pairs], "positive": [p.positive for p in pairs]}
    shared = min((len(p.negatives) for p in pairs), default=0)  # MNRL reads as many negatives as every row has
    for i in range(shared):
        data["negative" if i == 0 else f"negative_{i + 1}"] = [p.negatives[i] for p in pairs]
    return Dataset.from_dict(data)


def parallel_dataset(teacher: Any, pairs: list[tuple[str, str]], batch_size: int) -> Any:
    """(english, non_english, label): label is the teacher's embedding of the English side."""
    from datasets import Dataset

    english = [en for en, _ in pairs]
    labels = teacher.encode(english, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    return Dataset.from_dict({"english": english, "non_english": [de for _, de in pairs], "label": labels.tolist()})


def interpolate_weights(model: Any, base: Any, share: float) -> None:
    """Set `model`'s weights to share·model + (1 − share)·base (same architecture), in place.

    Averaging a fine-tuned model with its starting point (WiSE-FT, Wortsman et al. 2022) keeps much of the
    gain while pulling the rest back to the base: here it protects MiniLM's English side.
    """
    if share >= 1:
        return
    base_state = base.state_dict()
    mixed = {
        key: share * value + (1 - share) * base_state[key] if value.is_floating_point() else value
        for key, value in model.state_dict().items()
    }
    model.load_state_dict(mixed)


def build_loss(model: Any, config: FinetuneConfig, objective: str | None = None) -> Any:
    """The sentence-transformers loss of `objective` (default: the config's)."""
    from sentence_transformers.sentence_transformer import losses

    objective = objective or config.objective
    if objective == "distill-parallel":
        return losses.MSELoss(model)
    if objective == "triplet":
        return losses.TripletLoss(model, distance_metric=losses.TripletDistanceMetric.COSINE,
                                  triplet_margin=config.triplet_margin)
    if objective == "margin-mse":
        return losses.MarginMSELoss(model)
    if objective == "tsdae":
        from adaptlab.train.denoising import denoising_loss

        return denoising_loss(model)
    if objective == "cached-mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=config.mini_batch_size)
    mnrl = losses.MultipleNegativesRankingLoss(model)
    if objective == "matryoshka":
        from adaptlab.models.backends.sentence_transformers_backend import embedding_width

        dim = embedding_width(model)
        return losses.MatryoshkaLoss(model, mnrl, [d for d in config.matryoshka_dims if d <= dim])
    return mnrl


def last_checkpoint(folder: Path) -> str | None:
    """The newest complete `checkpoint-N` folder, or None: what `resume_from_checkpoint` gets."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def shared_training_args(checkpoints: Path, epochs: float, max_steps: int | None, batch_size: int,
                         learning_rate: float, warmup_ratio: float, save_steps: int, seed: int) -> dict[str, Any]:
    """The TrainingArguments both our trainers use: resumable checkpoints, fp16 and pinned memory on GPU only."""
    import torch

    return dict(
        output_dir=str(checkpoints),
        num_train_epochs=epochs,
        max_steps=max_steps or -1,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=warmup_ratio,  # a float below 1 is a share of the steps (transformers v5)
        dataloader_pin_memory=torch.cuda.is_available(),
        fp16=torch.cuda.is_available(),
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=2,
        logging_steps=10,
        seed=seed,
        report_to="none",
        disable_tqdm=False,
    )


def column_prompts(model: Any, columns: list[str]) -> dict[str, str] | None:
    """Prompts per training column for a model with `query`/`document` prompts (e5: "query: ", "passage: ").

    Such a model is used with its prompts at search time, so it must be trained with them: the anchor is a
    query, the positive and negatives are documents (as is TSDAE's damaged input, the one it embeds). Models
    without prompts (MiniLM) train on the raw text.
    """
    prompts = getattr(model, "prompts", None) or {}
    query, document = prompts.get("query"), prompts.get("document")
    if not query and not document:
        return None
    roles = {"anchor": query, "positive": document, "damaged": document}
    chosen = {column: prompt for column in columns
              if (prompt := document if column.startswith("negative") else roles.get(column))}
    return chosen or None


def freeze_token_embeddings(model: Any) -> int:
    """Stop training the token embedding matrix of `model`'s transformer; returns how many weights it froze."""
    auto_model = getattr(model[0], "auto_model", None)
    embeddings = auto_model.get_input_embeddings() if auto_model is not None else None
    if embeddings is None:
        return 0
    embeddings.weight.requires_grad_(False)
    return int(embeddings.weight.numel())


class DocumentSamplerFactory:
    """Builds the trainer's batch sampler: document batches for the training rows, no-duplicates batches for the
    held-out rows. A module-level class, not a closure: the trainer pickles its arguments with each checkpoint."""

    def __init__(self, train: Any, sources: list[Pair]) -> None:
        self.fingerprint = train._fingerprint
        self.groups = [p.doc_id for p in sources]
        self.chunk_ids = [p.chunk_id for p in sources]

    def __call__(self, dataset: Any, **kwargs: Any) -> Any:
        from sentence_transformers.sampler import NoDuplicatesBatchSampler

        from adaptlab.train.document_batches import DocumentBatchSampler

        if getattr(dataset, "_fingerprint", None) != self.fingerprint:  # the held-out rows
            return NoDuplicatesBatchSampler(dataset, **kwargs)
        return DocumentBatchSampler(dataset, groups=self.groups, chunk_ids=self.chunk_ids, **kwargs)


IN_BATCH_OBJECTIVES = ("mnrl", "cached-mnrl", "matryoshka")
"""Objectives whose negatives include the batch's other rows: no text may repeat within a batch."""
PROMPTED_OBJECTIVES = (*IN_BATCH_OBJECTIVES, "triplet", "margin-mse", "tsdae")
"""Objectives whose columns are queries and documents (prompted for e5-style models)."""


def batch_sampler(train: Any, objective: str, sources: list[Pair] | None) -> Any:
    """What the trainer batches with: one document per batch when `sources` (the rows' pairs) are given, else
    sentence-transformers' no-duplicates sampler for in-batch objectives (plain batches for the rest)."""
    from sentence_transformers.training_args import BatchSamplers

    if objective not in IN_BATCH_OBJECTIVES:
        return BatchSamplers.BATCH_SAMPLER
    return BatchSamplers.NO_DUPLICATES if sources is None else DocumentSamplerFactory(train, sources)


def train_sentence_transformer(
    model: Any, train: Any, heldout: Any | None, config: FinetuneConfig, checkpoints: Path,
    callbacks: list[Any] | None = None, sources: list[Pair] | None = None, objective: str | None = None,
) -> TrainStats:
    """Train `model` in place on `train` (a datasets.Dataset) with `objective` (default: the config's) and
    return what it took.

    `sources`, the pair behind each row of `train`, turns on batches from one document (`batches: document`).
    TSDAE (as an objective or as `pretrain`) runs for `pretrain_epochs` at `pretrain_learning_rate`.
    """
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    objective = objective or config.objective
    limit_seq_length(model, config.max_seq_length)
    if config.freeze_embeddings:
        freeze_token_embeddings(model)
    pretraining = objective == "tsdae"
    epochs, steps = (config.pretrain_epochs, None) if pretraining else (config.epochs, config.max_steps)
    rate = config.pretrain_learning_rate if pretraining else config.resolved_learning_rate()
    args = SentenceTransformerTrainingArguments(
        **shared_training_args(checkpoints, epochs, steps, config.batch_size, rate, config.warmup_ratio,
                               config.save_steps, config.seed),
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        batch_sampler=batch_sampler(train, objective, sources),
        eval_strategy="epoch" if heldout is not None else "no",
        dataloader_drop_last=objective in IN_BATCH_OBJECTIVES,
        prompts=column_prompts(model, list(train.column_names)) if objective in PROMPTED_OBJECTIVES else None,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train, eval_dataset=heldout,
        loss=build_loss(model, config, objective), callbacks=callbacks,
    )
    resume = last_checkpoint(checkpoints)
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return TrainStats(int(output.global_step), time.perf_counter() - start, len(train),
                      losses[-1] if losses else None, resume)
