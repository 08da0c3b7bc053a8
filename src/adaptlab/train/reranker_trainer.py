"""The reranker stage: corpus pairs → hard negatives mined by a bi-encoder → a MiniLM cross-encoder trained
with binary cross-entropy → saved, carded and registered; one MLflow run.

sentence-transformers does the work (`mine_hard_negatives`, `CrossEncoder`, `CrossEncoderTrainer`,
`BinaryCrossEntropyLoss`); this module picks the data and keeps test documents out of it.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adaptlab.errors import AdaptlabError
from adaptlab.models.registry import get_spec
from adaptlab.models.resolve import sentence_transformers_dir
from adaptlab.train.hard_negatives import labelled_columns, mine_negatives, negative_cache, negative_pool
from adaptlab.train.pairs import Pair, dedupe, split_by_document, write_pairs
from adaptlab.train.pairs_corpus import mine_corpus_pairs
from adaptlab.train.pairs_labelled import read_labelled_pairs
from adaptlab.train.reranker_config import DEFAULT_NAME, RerankerConfig

if TYPE_CHECKING:
    from adaptlab.pipeline import Session


@dataclass
class RerankerReport:
    name: str
    path: Path
    train_queries: int
    heldout_queries: int
    labelled_pairs: int
    positives: int
    rules: dict[str, int]
    mining_seconds: float
    train_seconds: float
    steps: int
    final_loss: float | None
    resumed_from: str | None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def gather_pairs(session: Session, config: RerankerConfig) -> list[Pair]:
    """(query, positive) pairs from every configured source, deduplicated."""
    pairs: list[Pair] = []
    for source in config.pairs:
        if source == "corpus":
            mined = mine_corpus_pairs(session.store, config.rules)
            if not mined:
                raise AdaptlabError(
                    "no training pairs mined from the corpus: run `adaptlab ingest` first "
                    "(or give --pairs FILE.jsonl)"
                )
            pairs.extend(mined)
        else:
            pairs.extend(read_labelled_pairs(Path(source).expanduser()))
    return dedupe(pairs)


def negative_texts(session: Session, config: RerankerConfig, train: list[Pair], heldout_docs: set[str]) -> list[str]:
    """Texts negatives are mined from: the corpus' chunks outside held-out documents (when the pairs come from
    the corpus), plus the positives."""
    chunks = [(r.doc_id, r.text) for r in session.store.iter_chunks()] if "corpus" in config.pairs else []
    return negative_pool(chunks, train, heldout_docs, config.max_corpus, config.seed)


def _sentence_transformer(session: Session, name: str) -> Any:
    from sentence_transformers import SentenceTransformer

    from adaptlab.train.model_store import resolve_model

    spec = get_spec(resolve_model(session.workspace, name))
    if spec.backend != "sentence-transformers":
        raise AdaptlabError(
            f"'{name}' is not a sentence-transformers model; the reranker needs one "
            "(minilm, mpnet or a fine-tuned folder)"
        )
    return SentenceTransformer(
        str(sentence_transformers_dir(spec, session.workspace.model_cache)), local_files_only=True
    )


def mine_labelled(session: Session, config: RerankerConfig, train: list[Pair], corpus: list[str]) -> Any:
    """(query, passage, label) rows: each positive (1) and its mined hard negatives (0)."""
    from datasets import Dataset

    from adaptlab.train.finetune_trainer import limit_seq_length

    miner = _sentence_transformer(session, config.miner)
    limit_seq_length(miner, config.miner_max_length)
    cache = negative_cache(session.workspace, config.miner, miner.max_seq_length)
    mined, _ = mine_negatives(miner, train, corpus, config.negatives, config.relative_margin, config.candidates,
                              cache, seed=config.seed)
    return Dataset.from_dict(labelled_columns(mined))


def train_cross_encoder(
    model: Any, data: Any, config: RerankerConfig, checkpoints: Path, callbacks: list[Any] | None = None
) -> tuple[int, float, float | None, str | None]:
    """Train in place; (steps, seconds, last logged loss, checkpoint resumed from)."""
    import torch
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from adaptlab.train.finetune_trainer import last_checkpoint, shared_training_args

    args = CrossEncoderTrainingArguments(**shared_training_args(
        checkpoints, config.epochs, config.max_steps, config.batch_size, config.learning_rate, config.warmup_ratio,
        config.save_steps, config.seed))
    # positives are 1 in (1 + negatives) rows: weigh them up so the head does not learn "always 0"
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(config.negatives)))
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss, callbacks=callbacks)
    resume = last_checkpoint(checkpoints)
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return int(output.global_step), time.perf_counter() - start, (losses[-1] if losses else None), resume


def write_reranker_card(folder: Path, name: str, config: RerankerConfig, report: RerankerReport) -> Path:
    lines = [
        f"# {name}",
        "",
        f"Cross-encoder reranker trained by adaptlab from `{config.base}` weights (one-logit head, binary "
        "cross-entropy).",
        "",
        "## Data",
        "",
        f"- sources: {', '.join(f'`{s}`' for s in config.pairs)}",
        f"- {report.train_queries} training queries, {report.heldout_queries} held out (split by document)",
        *[f"- rule `{rule}`: {count}" for rule, count in sorted(report.rules.items())],
        f"- {config.negatives} hard negatives per query mined by `{config.miner}` from its top {config.candidates} "
        f"(relative margin {config.relative_margin}): {report.labelled_pairs} labelled pairs",
        "",
        "## Training",
        "",
        f"- {report.steps} steps, batch {config.batch_size}, learning rate {config.learning_rate}, "
        f"max length {config.max_length}",
        f"- mining {report.mining_seconds:.0f} s, training {report.train_seconds:.0f} s, final loss "
        f"{report.final_loss if report.final_loss is not None else '–'}",
        "",
        f'Use: `adaptlab search "…" --rerank {name}`',
        "",
    ]
    path = folder / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def train_reranker(session: Session, config: RerankerConfig) -> RerankerReport:
    """Mine, train, save, register; the report says what data went in and what it cost."""
    from sentence_transformers import CrossEncoder

    from adaptlab.train.finetune_stage import _mlflow_callback, sample
    from adaptlab.train.model_store import register_model, resolve_model

    name = config.output or DEFAULT_NAME
    folder = session.workspace.root / "finetuned" / name
    base_spec = get_spec(resolve_model(session.workspace, config.base))
    if base_spec.backend != "sentence-transformers":
        raise AdaptlabError(f"'{config.base}' is inference-only; start the reranker from minilm or a folder")
    with session.run("finetune-reranker", {**config.model_dump(), "output": name}) as run:
        train, heldout = split_by_document(
            gather_pairs(session, config), config.heldout_fraction, config.seed
        )
        train = sample(train, config.max_pairs, config.seed)
        if len(train) < 2:
            raise AdaptlabError("fewer than two training pairs left after the held-out split")
        write_pairs(train, folder.parent / f"{name}.pairs.jsonl")
        rules: dict[str, int] = {}
        for pair in train:
            rules[pair.rule] = rules.get(pair.rule, 0) + 1
        corpus = negative_texts(session, config, train, {p.doc_id for p in heldout})
        session.console.print(
            f"{len(train)} training queries ({rules}), {len(heldout)} held out; mining "
            f"{config.negatives} negatives each from {len(corpus)} passages with {config.miner}"
        )
        start = time.perf_counter()
        data = mine_labelled(session, config, train, corpus)
        mining_seconds = time.perf_counter() - start
        positives = int(sum(1 for label in data["label"] if label > 0.5))
        session.console.print(
            f"{len(data)} labelled pairs ({positives} positive) in {mining_seconds:.0f} s; training"
        )
        model = CrossEncoder(
            str(sentence_transformers_dir(base_spec, session.workspace.model_cache)),
            num_labels=1,
            max_length=config.max_length,
            local_files_only=True,
        )
        checkpoints = folder.parent / f"{name}.checkpoints"
        steps, seconds, loss, resumed = train_cross_encoder(
            model, data, config, checkpoints, [_mlflow_callback(run)]
        )
        shutil.rmtree(folder, ignore_errors=True)
        model.save(str(folder))
        shutil.rmtree(checkpoints, ignore_errors=True)  # finished: nothing left to resume
        report = RerankerReport(
            name,
            folder,
            len(train),
            len(heldout),
            len(data),
            positives,
            rules,
            mining_seconds,
            seconds,
            steps,
            loss,
            resumed,
        )
        write_reranker_card(folder, name, config, report)
        register_model(session.workspace, name, folder)
        run.log_metrics(
            {
                "train_seconds": seconds,
                "mining_seconds": mining_seconds,
                "steps": steps,
                "train_queries": len(train),
                "labelled_pairs": len(data),
                **({"final_loss": loss} if loss is not None else {}),
            }
        )
        run.log_dict(report.as_dict(), "finetune-reranker.json")
        run.log_artifact(folder / "README.md")
    return report
