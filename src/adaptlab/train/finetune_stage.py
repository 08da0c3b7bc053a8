"""The finetune stage: training data → before evaluation → train (full or adapter) → save, card, register
→ after evaluation; one MLflow run. The CLI, the Python API and `adaptlab run` call `finetune`."""

from __future__ import annotations

import random
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from adaptlab.compress.vector_cache import VectorCache
from adaptlab.errors import AdaptlabError
from adaptlab.eval.hybrid_eval import evaluate_bm25, hybrid_name, hybrid_run
from adaptlab.eval.metrics import PRIMARY_METRIC
from adaptlab.eval.retrieval_eval import document_text, resolve_datasets
from adaptlab.models.base import Embedder
from adaptlab.models.registry import ZOO, get_spec
from adaptlab.models.resolve import sentence_transformers_dir
from adaptlab.train.adapter import AdapterEmbedder, AdapterParams, EmbeddingAdapter
from adaptlab.train.evaluate import Scored, cached_run, scored_run
from adaptlab.train.bridge import BridgeData, BridgeEmbedder, fit_bridge
from adaptlab.train.ensemble import EnsembleEmbedder, save_ensemble
from adaptlab.train.finetune_config import NEGATIVE_OBJECTIVES, PRETRAINING, FinetuneConfig
from adaptlab.train.hybrid_calibration import (
    CALIBRATION_FILE,
    MIN_QUERIES,
    HybridCalibration,
    calibrate_hybrid,
    heldout_set,
)
from adaptlab.train.leak_guard import LeakGuard, drop_leaking_pairs
from adaptlab.train.model_card import write_model_card
from adaptlab.train.model_store import register_model, resolve_model
from adaptlab.train.pairs import Pair, split_by_document, write_pairs
from adaptlab.train.pairs_corpus import mine_corpus_pairs
from adaptlab.train.pairs_labelled import read_labelled_pairs
from adaptlab.train.parallel import english_texts, parallel_pairs

if TYPE_CHECKING:
    from adaptlab.eval.beir import BeirDataset
    from adaptlab.pipeline import Session


@dataclass
class FinetuneReport:
    name: str
    path: Path
    config: dict[str, Any]
    train_pairs: int
    heldout_pairs: int
    rules: dict[str, int]
    train_seconds: float
    steps: int
    resumed_from: str | None
    prepare_seconds: float = 0.0
    scores: list[Scored] = field(default_factory=list)
    hybrid_weights: tuple[float, float] | None = None
    """(BM25, dense) chosen on the held-out pairs and saved with the model (`hybrid.json`); None: 0.5/0.5."""

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "scores"}
        data["path"] = str(self.path)
        data["scores"] = [s.as_dict() for s in self.scores]
        return data


def default_name(config: FinetuneConfig) -> str:
    base = re.sub(r"[^0-9A-Za-z]+", "-", Path(config.base).name).strip("-")
    if config.method == "bridge":
        return f"{base}-bridge-{re.sub(r'[^0-9A-Za-z]+', '-', Path(config.bridge_encoder).name).strip('-')}"
    return f"{base}-{config.method}-{config.objective}"


def training_pairs(session: Session, config: FinetuneConfig, required: bool = True) -> list[Pair]:
    """Pairs mined from the workspace corpus (with `query_writer`, LLM-written ones too), or read from a .jsonl
    file or BEIR folder. `required=False` (pre-training objectives) accepts a corpus that yields none."""
    if config.pairs == "corpus":
        pairs = mine_corpus_pairs(session.store, config.rules)
        if config.query_writer:
            pairs += _synthetic_pairs(session, config)
        if not pairs and required:
            raise AdaptlabError("no training pairs mined from the corpus: run `adaptlab ingest` first "
                                "(or give --pairs FILE.jsonl)")
        return pairs
    return read_labelled_pairs(Path(config.pairs).expanduser())


def _synthetic_pairs(session: Session, config: FinetuneConfig) -> list[Pair]:
    """GPL-style pairs: the configured LLM writes a query for sampled passages of the training documents."""
    from adaptlab.llm.chat_models import load_chat_model
    from adaptlab.progress import make_progress
    from adaptlab.train.pairs import document_split
    from adaptlab.train.pairs_corpus import MIN_WORDS
    from adaptlab.train.synthetic_queries import QueryCache, query_cache_path, synthetic_pairs

    passages = [(r.doc_id, r.chunk_id, r.text.strip()) for r in session.store.iter_chunks()
                if len(r.text.split()) >= MIN_WORDS
                and document_split(r.doc_id, config.heldout_fraction, config.seed) == "train"]
    passages = sample(passages, config.synthetic_queries, config.seed)
    if not passages:
        return []
    writer = load_chat_model(config.query_writer or "", session.workspace.model_cache)
    cache = QueryCache(query_cache_path(session.workspace.root, writer.name))
    with make_progress(session.console, unit="queries") as progress:
        task = progress.add_task(f"writing queries ({writer.name})", total=len(passages))
        pairs, counts = synthetic_pairs(passages, writer, cache, lambda n: progress.advance(task, n))
    rejected = ", ".join(f"{n} {reason}" for reason, n in counts.rejected.most_common()) or "none"
    session.console.print(f"{len(pairs)} synthetic queries from {writer.name} for {len(passages)} passages "
                          f"({counts.cached} cached); rejected: {rejected}")
    return pairs


T = TypeVar("T")


def _guarded_pairs(session: Session, config: FinetuneConfig, datasets: list[Any], required: bool = True) -> list[Pair]:
    """The training pairs, minus any whose positive is text of an evaluation set (see leak_guard)."""
    pairs = training_pairs(session, config, required)
    if not (config.exclude_eval_documents and datasets):
        return pairs
    kept, dropped = drop_leaking_pairs(pairs, (document_text(d) for ds in datasets for d in ds.corpus.values()))
    if dropped:
        session.console.print(f"{dropped} of {len(pairs)} training pairs dropped: their positive is text of an "
                              f"evaluation set ({', '.join(ds.name for ds in datasets)})")
    return kept


def _corpus_chunks(session: Session, config: FinetuneConfig, datasets: list[Any]) -> list[tuple[str, str]]:
    """(doc_id, text) of the corpus chunks training may read beyond its pairs (negatives, calibration): with
    `exclude_eval_documents`, never a chunk that is text of an evaluation set."""
    chunks = [(r.doc_id, r.text) for r in session.store.iter_chunks()]
    if not (config.exclude_eval_documents and datasets):
        return chunks
    guard = LeakGuard(document_text(d) for ds in datasets for d in ds.corpus.values())
    return [(doc_id, text) for doc_id, text in chunks if not guard.overlaps(text)]


def heldout_dataset(session: Session, config: FinetuneConfig) -> BeirDataset:
    """The held-out pairs of `config` over their documents' chunks: the set `finetune` chooses the ensemble and
    hybrid weights on, rebuilt from the workspace corpus (for benchmarks that sweep those choices)."""
    datasets = resolve_datasets(config.eval)
    _, heldout = split_by_document(_guarded_pairs(session, config, datasets), config.heldout_fraction, config.seed)
    return heldout_set(heldout, _corpus_chunks(session, config, datasets))


def sample(items: list[T], limit: int | None, seed: int) -> list[T]:
    """At most `limit` items, drawn reproducibly."""
    return items if not limit or len(items) <= limit else random.Random(seed).sample(items, limit)


def evaluate_all(session: Session, embedders: list[tuple[str, Embedder]], datasets: list[Any], bm25: bool,
                 hybrid: bool = False, k: int = 100, lexical_runs: dict[str, Any] | None = None,
                 calibrated: tuple[float, float] | None = None, window_weight: float | None = None) -> list[Scored]:
    """Each model on each set; with `hybrid`, each model fused with BM25 too (role `<role>+bm25`), and with
    `calibrated` (BM25, dense) weights once more (role `<role>+bm25 calibrated`). `window_weight` scores long
    documents from windows (see eval.document_windows), every model alike.

    `lexical_runs` (set name → BM25's run) carries BM25 from the before-evaluation to the after-evaluation, so
    the index is built once per set.
    """
    cache = VectorCache(session.workspace.vector_cache)
    batch = session.config.embed.batch_size
    runs = {} if lexical_runs is None else lexical_runs
    scores: list[Scored] = []
    for dataset in datasets:
        if bm25 or (hybrid and dataset.name not in runs):
            lexical_result, runs[dataset.name] = evaluate_bm25(dataset, k)
            if bm25:
                scores.append(Scored("bm25", lexical_result))
        for role, embedder in embedders:
            session.console.print(f"evaluating {embedder.name} ({role}) on {dataset.name}")
            start = time.perf_counter()
            dense = cached_run(embedder, dataset, cache, k, batch, window_weight)
            scores.append(Scored(role, scored_run(dataset, embedder.name, dense, start)))
            if hybrid:
                fused = hybrid_run(runs[dataset.name], dense, k)
                scores.append(Scored(f"{role}+bm25", scored_run(dataset, hybrid_name("wsum", embedder.name), fused,
                                                                 start)))
            if hybrid and calibrated:
                fused = hybrid_run(runs[dataset.name], dense, k, weights=calibrated)
                scores.append(Scored(f"{role}+bm25 calibrated", scored_run(
                    dataset, hybrid_name("wsum", embedder.name, calibrated), fused, start)))
    return scores


def finetune(session: Session, config: FinetuneConfig) -> FinetuneReport:
    """Train, save, register and evaluate one model; the before/after rows are in the report."""
    name = config.output or default_name(config)
    folder = session.workspace.root / "finetuned" / name
    base_name = resolve_model(session.workspace, config.base)
    if config.method == "full" and get_spec(base_name).backend != "sentence-transformers":
        raise AdaptlabError(f"'{config.base}' is inference-only; use --method adapter to adapt it")
    datasets = resolve_datasets(config.eval)
    base = session.embedder(config.base)
    compare = [m for m in config.compare if m not in ("bm25", "hybrid", config.base)]
    hybrid = "hybrid" in config.compare
    offshelf = [("off-the-shelf", session.embedder(m)) for m in compare]
    lexical_runs: dict[str, Any] = {}
    with session.run("finetune", {**config.model_dump(), "output": name}) as run:
        scores = evaluate_all(session, [("before", base), *offshelf], datasets, bm25="bm25" in config.compare,
                              hybrid=hybrid, lexical_runs=lexical_runs, window_weight=config.window_weight)
        chunks: list[tuple[str, str]] = []  # read once, for mined negatives and the hybrid calibration
        if config.method == "bridge":
            heldout: list[Pair] = []
            tuned, stats = _bridge(session, config, base, folder)
            report_rules: Counter[str] = Counter({"parallel": stats.train_examples})
        elif config.objective == "distill-parallel":
            heldout = []
            tuned, stats = _distill(session, config, base_name, folder)
            report_rules = Counter({"parallel": stats.train_examples})
        else:
            pretraining_only = config.objective in PRETRAINING
            train, heldout = split_by_document(_guarded_pairs(session, config, datasets, not pretraining_only),
                                               config.heldout_fraction, config.seed)
            train = sample(train, config.max_pairs, config.seed)
            if len(train) < 2 and not pretraining_only:
                raise AdaptlabError("fewer than two training pairs left after the held-out split")
            report_rules = Counter() if pretraining_only else Counter(p.rule for p in train)
            if not pretraining_only:
                write_pairs(train, folder.parent / f"{name}.pairs.jsonl")
                session.console.print(f"{len(train)} training pairs ({dict(report_rules)}), {len(heldout)} held out")
            weigh_ensemble = bool(config.ensemble) and config.ensemble_weights == "auto"
            if config.hard_negatives or config.pretrain or pretraining_only or (
                    (hybrid or weigh_ensemble) and len(heldout) >= MIN_QUERIES):
                chunks = _corpus_chunks(session, config, datasets)
            if config.method == "full":
                tuned, stats = _full(session, config, base_name, folder, train, heldout, run, chunks)
                if pretraining_only:
                    report_rules = Counter({"sentences": stats.train_examples})
                if config.ensemble:
                    tuned, stats = _join_members(session, config, tuned, stats, folder, train, heldout, chunks)
            else:
                tuned, stats = _adapter(session, config, base, folder, train, heldout, chunks)
        register_model(session.workspace, name, folder)
        (folder / CALIBRATION_FILE).unlink(missing_ok=True)  # a weight from an earlier run of this name is stale
        calibration = _calibrate_hybrid(session, tuned, heldout, folder, chunks) if hybrid else None
        scores += evaluate_all(session, [("after", tuned)], datasets, bm25=False, hybrid=hybrid,
                               lexical_runs=lexical_runs, calibrated=calibration.weights if calibration else None,
                               window_weight=config.window_weight)
        write_model_card(folder, name, config, report_rules, stats.train_examples, len(heldout), stats.seconds,
                         scores)
        report = FinetuneReport(name, folder, config.model_dump(), stats.train_examples, len(heldout),
                                dict(report_rules), stats.seconds, stats.steps, stats.resumed_from,
                                stats.prepare_seconds, scores,
                                calibration.weights if calibration else None)
        run.log_metrics({"train_seconds": stats.seconds, "prepare_seconds": stats.prepare_seconds,
                         "train_pairs": stats.train_examples, "steps": stats.steps})
        run.log_metrics({f"{s.result.dataset}/{s.role}/{s.result.model[-40:]}/{PRIMARY_METRIC}":
                         s.result.metrics[PRIMARY_METRIC] for s in scores})
        run.log_dict(report.as_dict(), "finetune.json")
        run.log_artifact(folder / "README.md")
    return report


@dataclass
class _Stats:
    train_examples: int
    seconds: float
    steps: int
    resumed_from: str | None = None
    prepare_seconds: float = 0.0


def _mlflow_callback(run: Any) -> Any:
    """Trainer logs (loss, learning rate, eval loss) forwarded to the stage's MLflow run."""
    from transformers import TrainerCallback

    class ForwardLogs(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            numbers = {f"train/{k}": float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float))}
            run.log_metrics(numbers, step=state.global_step)

    return ForwardLogs()


def _load_st(session: Session, name: str) -> Any:
    from sentence_transformers import SentenceTransformer

    path = sentence_transformers_dir(get_spec(name), session.workspace.model_cache)
    return SentenceTransformer(str(path), device=None, local_files_only=True)


def _save_st(model: Any, folder: Path, session: Session, name: str) -> Embedder:
    from adaptlab.models.backends.sentence_transformers_backend import SentenceTransformerEmbedder

    if folder.exists():
        shutil.rmtree(folder)
    model.save(str(folder))
    return SentenceTransformerEmbedder(folder, name=name)


def _full(session: Session, config: FinetuneConfig, base_name: str, folder: Path, train: list[Pair],
          heldout: list[Pair], run: Any, chunks: list[tuple[str, str]]) -> tuple[Embedder, _Stats]:
    """Domain pre-training (tsdae/mlm) when asked, then the pair objective, on one model; saved to `folder`."""
    from adaptlab.train.finetune_trainer import train_sentence_transformer

    model = _load_st(session, base_name)
    checkpoints = folder.parent / f"{folder.name}.checkpoints"
    pretraining = config.objective if config.objective in PRETRAINING else config.pretrain
    pre: _Stats | None = None
    if pretraining:
        model, pre = _pretrain(session, config, pretraining, model, chunks, {p.doc_id for p in heldout},
                               checkpoints, run)
    if config.objective in PRETRAINING:
        assert pre is not None
        stats = pre
    else:
        if config.hard_negatives:
            train = _with_hard_negatives(session, config, model, train, heldout, chunks)
            write_pairs(train, folder.parent / f"{folder.name}.pairs.jsonl")
        rows, heldout_rows, label_seconds = _pair_rows(session, config, train, heldout)
        trained = train_sentence_transformer(model, rows, heldout_rows, config, checkpoints / "pairs",
                                             [_mlflow_callback(run)],
                                             sources=train if config.batches == "document" else None)
        stats = _Stats(trained.train_examples, trained.seconds, trained.steps, trained.resumed_from, label_seconds)
        if pre is not None:
            session.console.print(f"{pretraining} pre-training: {pre.train_examples} sentences, {pre.steps} steps, "
                                  f"{pre.seconds:.0f} s; then {config.objective}: {trained.steps} steps")
            stats = _Stats(stats.train_examples, pre.seconds + stats.seconds, pre.steps + stats.steps,
                           stats.resumed_from or pre.resumed_from, label_seconds)
    name = config.output or folder.name
    if config.ensemble:  # the trained base becomes the first member of an ensemble folder written afresh
        shutil.rmtree(folder, ignore_errors=True)
        tuned = _save_st(model, _member_folder(folder, config.base), session, f"{name}/{config.base}")
    else:
        tuned = _save_st(model, folder, session, name)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the run finished: nothing left to resume
    return tuned, stats


def _pretrain(session: Session, config: FinetuneConfig, objective: str, model: Any, chunks: list[tuple[str, str]],
              heldout_docs: set[str], checkpoints: Path, run: Any) -> tuple[Any, _Stats]:
    """TSDAE or MLM on the training documents' sentences. The pre-trained model is kept under the checkpoints
    folder, so a run killed during the pair objective resumes after pre-training, not before it."""
    from adaptlab.train.pairs import document_split
    from adaptlab.train.pretraining_text import pretraining_sentences

    done = checkpoints / "pretrained"
    if (done / "modules.json").is_file():
        session.console.print(f"{objective} pre-training already done: resuming from {done}")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(done), device=None, local_files_only=True), _Stats(0, 0.0, 0, str(done))
    excluded = heldout_docs | {d for d, _ in chunks if document_split(d, config.heldout_fraction, config.seed)
                               == "heldout"}
    sentences = pretraining_sentences(chunks, excluded, config.pretrain_sentences, config.seed)
    if len(sentences) < config.batch_size:
        raise AdaptlabError(f"{objective}: only {len(sentences)} sentences of 6+ words in the training documents; "
                            f"ingest more text or lower batch_size below {config.batch_size}")
    session.console.print(f"{objective} pre-training on {len(sentences)} corpus sentences")
    if objective == "mlm":
        from adaptlab.train.masked_lm import train_masked_lm

        stats = train_masked_lm(model, sentences, config, checkpoints / "pretrain", [_mlflow_callback(run)])
    else:
        from adaptlab.train.denoising import denoising_dataset
        from adaptlab.train.finetune_trainer import train_sentence_transformer

        rows = denoising_dataset(sentences, config.deletion_ratio, config.seed)
        stats = train_sentence_transformer(model, rows, None, config, checkpoints / "pretrain",
                                           [_mlflow_callback(run)], objective="tsdae")
    model.save(str(done))
    return model, _Stats(stats.train_examples, stats.seconds, stats.steps, stats.resumed_from)


def _pair_rows(session: Session, config: FinetuneConfig, train: list[Pair],
               heldout: list[Pair]) -> tuple[Any, Any | None, float]:
    """(training rows, held-out rows or None, seconds spent labelling) in the layout of the objective's loss."""
    from adaptlab.train.finetune_trainer import pairs_dataset, triplet_dataset

    if config.objective in NEGATIVE_OBJECTIVES:
        with_negatives = [p for p in train if p.negatives]
        if not with_negatives:
            raise AdaptlabError(f"{config.objective} needs a negative for every training pair: set hard_negatives "
                                "to 1 or more, or give 'negatives' in the pairs file")
        if len(with_negatives) < len(train):
            session.console.print(f"{len(train) - len(with_negatives)} pair(s) without a negative left out "
                                  f"({config.objective} needs one)")
        if config.objective == "triplet":
            return triplet_dataset(with_negatives), None, 0.0
        return _margin_rows(session, config, with_negatives)
    return pairs_dataset(train), pairs_dataset(heldout) if heldout else None, 0.0


def _margin_rows(session: Session, config: FinetuneConfig, pairs: list[Pair]) -> tuple[Any, None, float]:
    """margin-mse rows: the teacher's margin between each pair's positive and each of its negatives."""
    from adaptlab.train.margin_labels import margin_dataset, teacher_margins

    count = min(len(p.negatives) for p in pairs)
    teacher = session.embedder(config.teacher or config.base)
    start = time.perf_counter()
    margins = teacher_margins(teacher, pairs, count, VectorCache(session.workspace.vector_cache),
                              session.config.embed.batch_size)
    seconds = time.perf_counter() - start
    session.console.print(f"teacher {teacher.name} labelled {len(pairs)} pairs × {count} negative(s) in {seconds:.0f} s "
                          f"(mean margin {float(margins.mean()):.3f})")
    return margin_dataset(pairs, margins), None, seconds


def _with_hard_negatives(session: Session, config: FinetuneConfig, model: Any, train: list[Pair],
                         heldout: list[Pair], chunks: list[tuple[str, str]]) -> list[Pair]:
    """The training pairs with mined negatives, from the corpus `chunks` of the training documents."""
    from adaptlab.train.finetune_trainer import limit_seq_length
    from adaptlab.train.hard_negatives import mine_negatives, negative_cache, negative_pool

    limit_seq_length(model, config.max_seq_length)  # mine with the text the model will train on
    pool = negative_pool(chunks, train, {p.doc_id for p in heldout}, 20000, config.seed)
    cache = negative_cache(session.workspace, config.base, model.max_seq_length)
    start = time.perf_counter()
    mined, topped_up = mine_negatives(model, train, pool, config.hard_negatives, config.negative_margin,
                                      config.negative_candidates, cache, seed=config.seed)
    session.console.print(f"{config.hard_negatives} hard negative(s) per pair mined from {len(pool)} passages in "
                          f"{time.perf_counter() - start:.0f} s; {topped_up} of {len(mined)} pair(s) had too few "
                          "outside the margin and were topped up with random passages (lower negative_margin "
                          "for more hard ones)")
    return mined


def _calibrate_hybrid(session: Session, tuned: Embedder, heldout: list[Pair], folder: Path,
                      chunks: list[tuple[str, str]]) -> HybridCalibration | None:
    """Choose and save the model's BM25/dense weight on its held-out pairs (too few: keep 0.5/0.5)."""
    if len(heldout) < MIN_QUERIES:
        session.console.print(f"hybrid weight not calibrated: {len(heldout)} held-out pairs (needs "
                              f"{MIN_QUERIES}); hybrid search keeps 0.5/0.5")
        return None
    calibration = calibrate_hybrid(tuned, heldout_set(heldout, chunks), session.config.embed.batch_size)
    calibration.save(folder)
    session.console.print(f"hybrid weight calibrated on {calibration.queries} held-out pairs over "
                          f"{calibration.documents} passages: BM25 {calibration.weights[0]:g} / dense "
                          f"{calibration.weights[1]:g} (nDCG@10 {calibration.scores})")
    return calibration


def _distill(session: Session, config: FinetuneConfig, base_name: str, folder: Path) -> tuple[Embedder, _Stats]:
    from adaptlab.train.finetune_trainer import interpolate_weights, parallel_dataset, train_sentence_transformer

    teacher = _load_st(session, config.teacher or base_name)
    student = _load_st(session, base_name)
    if config.teacher and config.teacher != base_name:
        _check_same_width(student, teacher, base_name, config.teacher)
        student.prompts = {}  # the student learns the teacher's embedding of the raw text: no role prefix
    pairs = sample(parallel_pairs(tuple(config.parallel_sources)), config.max_pairs, config.seed)
    session.console.print(f"{len(pairs)} parallel pairs from {', '.join(config.parallel_sources)}")
    checkpoints = folder.parent / f"{folder.name}.checkpoints"
    start = time.perf_counter()
    dataset = parallel_dataset(teacher, pairs, config.batch_size)
    if not config.distill_english:
        dataset = dataset.remove_columns(["english"])
    label_seconds = time.perf_counter() - start
    stats = train_sentence_transformer(student, dataset, None, config, checkpoints)
    interpolate_weights(student, teacher, config.interpolate)
    tuned = _save_st(student, folder, session, config.output or folder.name)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return tuned, _Stats(stats.train_examples, stats.seconds, stats.steps, stats.resumed_from, label_seconds)


def _bridge(session: Session, config: FinetuneConfig, target: Embedder, folder: Path) -> tuple[Embedder, _Stats]:
    """Embed the parallel and English-only sentences with both models (cached on disk), fit the map, save."""
    encoder = session.embedder(config.bridge_encoder)
    pairs = sample(parallel_pairs(tuple(config.parallel_sources)), config.max_pairs, config.seed)
    english = english_texts(tuple(config.english_sources))
    session.console.print(f"bridge {encoder.name} → {target.name}: {len(pairs)} parallel pairs "
                          f"({', '.join(config.parallel_sources)}), {len(english)} English sentences "
                          f"({', '.join(config.english_sources) or 'none'})")
    cache = VectorCache(session.workspace.vector_cache)
    batch = session.config.embed.batch_size
    start = time.perf_counter()

    def vectors(model: Embedder, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        if model.name in ZOO:  # a zoo model's vectors never change: a second fit embeds nothing
            return cache.queries(model, texts, batch)
        return model.encode_queries(texts, batch_size=batch)

    english_side, german_side = [en for en, _ in pairs], [de for _, de in pairs]
    data = BridgeData(vectors(encoder, english_side), vectors(encoder, german_side), vectors(target, english_side),
                      vectors(target, german_side), vectors(encoder, english), vectors(target, english))
    embed_seconds = time.perf_counter() - start
    bridge = fit_bridge(encoder.name, target.name, data, config.bridge_ridge, seed=config.seed)
    bridge.native_languages = list(config.native_languages)
    bridge.sources = [*config.parallel_sources, *config.english_sources]
    if folder.exists():
        shutil.rmtree(folder)
    bridge.save(folder, {"embed_seconds": embed_seconds})
    session.console.print(f"map fitted in {bridge.seconds:.1f} s (sentences embedded in {embed_seconds:.0f} s); "
                          f"blend weight {bridge.native_weight:g} chosen on held-out pairs")
    stats = _Stats(len(pairs) + len(english), bridge.seconds, 1, prepare_seconds=embed_seconds)
    return BridgeEmbedder(encoder, target, bridge, name=config.output or folder.name), stats


def _check_same_width(student: Any, teacher: Any, student_name: str, teacher_name: str) -> None:
    """MSE towards the teacher's vectors needs both models to embed into the same number of dimensions."""
    from adaptlab.models.backends.sentence_transformers_backend import embedding_width

    widths = [embedding_width(m) for m in (student, teacher)]
    if widths[0] != widths[1]:
        raise AdaptlabError(f"teacher: {teacher_name} embeds into {widths[1]} dimensions but the base {student_name} "
                            f"into {widths[0]}; pick a teacher of the same width")


def _unique_encode(encode: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
    """Encode each distinct text once (many terms share one definition) and expand back to `texts`."""
    unique = list(dict.fromkeys(texts))
    index = {text: i for i, text in enumerate(unique)}
    return encode(unique)[[index[t] for t in texts]]


def _fit_adapter(session: Session, config: FinetuneConfig, model: str, base: Embedder, train: list[Pair],
                 heldout: list[Pair]) -> tuple[EmbeddingAdapter, float]:
    """Embed the pairs once with the frozen model (cached on disk), then fit the adapter on the vectors."""
    cache = VectorCache(session.workspace.vector_cache)
    batch = session.config.embed.batch_size
    start = time.perf_counter()
    queries = _unique_encode(lambda texts: cache.queries(base, texts, batch), [p.query for p in train])
    positives = _unique_encode(lambda texts: cache.documents(base, texts, batch), [p.positive for p in train])
    validation = None
    if len(heldout) > 1:
        validation = (_unique_encode(lambda texts: cache.queries(base, texts, batch), [p.query for p in heldout]),
                      _unique_encode(lambda texts: cache.documents(base, texts, batch), [p.positive for p in heldout]),
                      [p.positive for p in heldout])
    embed_seconds = time.perf_counter() - start
    params = AdapterParams(config.adapter_kind, config.adapter_rank, config.adapter_side, config.adapter_epochs,
                           config.resolved_learning_rate(), config.temperature, config.batch_size, config.seed)
    adapter = EmbeddingAdapter(params, base=model).fit(queries, positives, [p.positive for p in train], validation)
    session.console.print(f"adapter on {model} fitted in {adapter.seconds:.1f} s (vectors {embed_seconds:.1f} s); "
                          f"loss {adapter.history[0]:.3f} → {adapter.history[-1]:.3f}"
                          + (f", kept epoch {adapter.best_epoch} of {len(adapter.history)} (held-out loss)"
                             if adapter.validation else ""))
    return adapter, embed_seconds


def _member_folder(folder: Path, model: str) -> Path:
    return folder / "members" / re.sub(r"[^0-9A-Za-z._-]+", "-", model)


def _fit_members(session: Session, config: FinetuneConfig, models: list[tuple[str, Embedder]], folder: Path,
                 train: list[Pair], heldout: list[Pair], members: bool) -> tuple[list[tuple[Path, AdapterEmbedder]], _Stats]:
    """One adapter per frozen model, each saved in its member folder (with `members`) or in `folder` itself."""
    name = config.output or folder.name
    fitted: list[tuple[Path, AdapterEmbedder]] = []
    fit_seconds = embed_seconds = 0.0
    for model, frozen in models:
        adapter, seconds = _fit_adapter(session, config, model, frozen, train, heldout)
        sub = _member_folder(folder, model) if members else folder
        adapter.save(sub, {"embed_seconds": seconds, "train_pairs": len(train)})
        fitted.append((sub, AdapterEmbedder(frozen, adapter, name=f"{name}/{model}")))
        fit_seconds, embed_seconds = fit_seconds + adapter.seconds, embed_seconds + seconds
    steps = len(models) * config.adapter_epochs * -(-len(train) // config.batch_size)
    return fitted, _Stats(len(train), fit_seconds, steps, prepare_seconds=embed_seconds)


def _adapter(session: Session, config: FinetuneConfig, base: Embedder, folder: Path,
             train: list[Pair], heldout: list[Pair], chunks: list[tuple[str, str]]) -> tuple[Embedder, _Stats]:
    """One adapter on the base, or (with `ensemble`) one per model, saved together as an ensemble weighted by
    `ensemble_weights` (equal by default; 'auto': chosen on the held-out pairs)."""
    name = config.output or folder.name
    models = [(config.base, base), *((m, session.embedder(m)) for m in config.ensemble if m != config.base)]
    if folder.exists():
        shutil.rmtree(folder)
    fitted, stats = _fit_members(session, config, models, folder, train, heldout, members=len(models) > 1)
    if len(fitted) == 1:
        return AdapterEmbedder(base, fitted[0][1].adapter, name=name), stats
    return _weighted_ensemble(session, config, folder, fitted, heldout, chunks), stats


def _join_members(session: Session, config: FinetuneConfig, tuned: Embedder, stats: _Stats, folder: Path,
                  train: list[Pair], heldout: list[Pair], chunks: list[tuple[str, str]]) -> tuple[Embedder, _Stats]:
    """The fully trained base plus an adapter on each `ensemble` model, fitted on the same pairs at the adapter
    defaults: what the trained model learnt from the corpus and what the other models already knew (on German
    terms → English definitions the multilingual USE knows what e5 does not), served as one model."""
    others = [(m, session.embedder(m)) for m in config.ensemble if m != config.base]
    as_adapters = config.model_copy(update={"method": "adapter", "learning_rate": None})
    fitted, fits = _fit_members(session, as_adapters, others, folder, train, heldout, members=True)
    members = [(_member_folder(folder, config.base), tuned), *fitted]
    joined = _Stats(stats.train_examples, stats.seconds + fits.seconds, stats.steps + fits.steps,
                    stats.resumed_from, stats.prepare_seconds + fits.prepare_seconds)
    return _weighted_ensemble(session, config, folder, members, heldout, chunks), joined


def _weighted_ensemble(session: Session, config: FinetuneConfig, folder: Path, members: list[tuple[Path, Embedder]],
                       heldout: list[Pair], chunks: list[tuple[str, str]]) -> EnsembleEmbedder:
    """Weigh the saved members (`ensemble_weights`), drop those weighted 0 and write `ensemble.json`."""
    weights, chosen = _ensemble_weights(session, config, [member for _, member in members], heldout, chunks)
    kept: list[tuple[Path, Embedder, float]] = []
    for (sub, member), w in zip(members, weights):
        if w > 0:
            kept.append((sub, member, w))
        else:
            shutil.rmtree(sub, ignore_errors=True)  # weight 0: serving never encodes with it
    save_ensemble(folder, [(str(sub.relative_to(folder)), w) for sub, _, w in kept],
                  {"base": config.base, "method": config.method,
                   **({"weights_chosen_on_heldout": chosen} if chosen else {})})
    return EnsembleEmbedder([member for _, member, _ in kept], [w for *_, w in kept], name=config.output or folder.name)


def _ensemble_weights(session: Session, config: FinetuneConfig, members: list[Embedder], heldout: list[Pair],
                      chunks: list[tuple[str, str]]) -> tuple[list[float], dict[str, Any] | None]:
    """(weight per member, what the choice measured or None): the configured weights; with 'auto' the best on
    the held-out pairs; equal weights by default or with too few held-out pairs."""
    from adaptlab.train.ensemble_weights import MIN_GAIN, choose_ensemble_weights

    if isinstance(config.ensemble_weights, list):
        return list(config.ensemble_weights), None
    if config.ensemble_weights is None:
        return [1.0] * len(members), None
    if len(heldout) < MIN_QUERIES:
        session.console.print(f"ensemble weights not chosen: {len(heldout)} held-out pairs (needs {MIN_QUERIES}); "
                              "equal weights")
        return [1.0] * len(members), None
    anchored = config.method == "full"  # a trained base keeps weight 1; the adapted helpers take up to as much
    choice = choose_ensemble_weights(members, heldout_set(heldout, chunks), session.config.embed.batch_size,
                                     anchored=anchored)
    rule = "the trained base at 1, helpers 0–1" if anchored else \
        f"equal weights {choice.equal_score} stay unless beaten by {MIN_GAIN}"
    session.console.print(f"ensemble weights on {choice.queries} held-out pairs over {choice.documents} passages: "
                          f"{' / '.join(f'{m.name} {w:.3g}' for m, w in zip(members, choice.weights))} (nDCG@10 "
                          f"{choice.scores}; {rule})")
    return list(choice.weights), {"scores": choice.scores, "equal_score": choice.equal_score,
                                  **({"anchored": True} if anchored else {"min_gain": MIN_GAIN}),
                                  "queries": choice.queries, "documents": choice.documents}


__all__ = ["FinetuneReport", "default_name", "finetune", "heldout_dataset", "training_pairs"]
