"""The stages wired to a workspace and a config: what the CLI, the Python API and `adaptlab run` call.

Each function does one stage, logs one MLflow run and returns a plain report object.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from adaptlab.config import ChunkingSection, CorpusConfig, ExperimentConfig, VectorsSection, expand_path
from adaptlab.corpus.chunking import ChunkingConfig
from adaptlab.corpus.ingest import FilePreparer, IngestReport, Ingestor, iter_files
from adaptlab.corpus.loaders.base import LoaderOptions
from adaptlab.corpus.prepare_pool import PreparePool
from adaptlab.corpus.store import CorpusStore
from adaptlab.errors import AdaptlabError
from adaptlab.eval.retrieval_eval import (
    DocumentVectorCache,
    RetrievalResult,
    evaluate_retrieval,
    resolve_datasets,
)
from adaptlab.jsonio import write_json
from adaptlab.models.base import Embedder
from adaptlab.models.token_counter import load_token_counter
from adaptlab.progress import make_progress
from adaptlab.eval.hybrid_eval import RETRIEVERS, evaluate_bm25, evaluate_hybrid
from adaptlab.retrieval.bm25 import WorkspaceBM25
from adaptlab.retrieval.dense import DenseRetriever, SearchHit
from adaptlab.retrieval.fusion import FUSION_METHODS
from adaptlab.retrieval.hybrid import HybridRetriever
from adaptlab.retrieval.rerank import DEFAULT_TOP_N, Reranker, load_reranker, rerank_hits
from adaptlab.tracking.mlflow_runs import tracked_run
from adaptlab.vectors.embed_stage import EmbedReport, run_embed
from adaptlab.vectors.milvus_store import IndexConfig, MilvusVectorStore, collection_name
from adaptlab.vectors.replica import ReplicaCache, VectorReplica
from adaptlab.workspace import Workspace

if TYPE_CHECKING:
    from adaptlab.train.finetune_config import FinetuneConfig
    from adaptlab.train.finetune_stage import FinetuneReport

DEFAULT_WORD_CHUNK = 500
SEARCH_MODES = ("dense", "bm25", "hybrid")


@dataclass
class Session:
    """A workspace plus the settings every stage shares; opens the store and Milvus lazily."""

    workspace: Workspace
    config: ExperimentConfig
    tracking_uri: str | None = None
    console: Console | None = None
    _store: CorpusStore | None = None
    _vectors: MilvusVectorStore | None = None
    _bm25: WorkspaceBM25 | None = None
    _rerankers: dict[tuple[str, str], Reranker] = field(default_factory=dict)
    _query_embedders: dict[tuple[str, str], Embedder] = field(default_factory=dict)
    _query_overrides: dict[str, Embedder] = field(default_factory=dict)
    replicas: ReplicaCache = field(default_factory=ReplicaCache)
    """In-process copies of collections (search.in_memory), dropped whenever this session ingests or embeds."""

    @classmethod
    def open(
        cls,
        workspace: str | Path | None = None,
        config: ExperimentConfig | None = None,
        milvus_uri: str | None = None,
        tracking_uri: str | None = None,
        console: Console | None = None,
    ) -> Session:
        config = config or ExperimentConfig()
        if milvus_uri:
            config.vectors.uri = milvus_uri
        ws = Workspace.resolve(workspace or config.workspace)
        return cls(ws, config, tracking_uri or config.tracking.uri, console or Console(stderr=True))

    @property
    def store(self) -> CorpusStore:
        if self._store is None:
            self._store = CorpusStore(self.workspace.corpus_db)
        return self._store

    @property
    def vectors(self) -> MilvusVectorStore:
        if self._vectors is None:
            cfg = self.config.vectors
            self._vectors = MilvusVectorStore(cfg.uri or self.workspace.milvus_uri, os.environ.get(cfg.token_env))
        return self._vectors

    @property
    def index(self) -> IndexConfig:
        return index_config(self.config.vectors)

    def embedder(self, model: str) -> Embedder:
        """A zoo name, a folder (sentence-transformers or adapter), or a name `finetune` registered."""
        from adaptlab.train.model_store import load_model

        return load_model(self.workspace, model)

    def query_embedder(self, model: str) -> Embedder:
        """The encoder for `model`'s queries: `search.query_encoders[model]` when set (a faster encoder of the
        same vector space, e.g. its int8 ONNX export), else the model itself."""
        if model in self._query_overrides:
            return self._query_overrides[model]
        encoder = self.query_encoder_kind(model)
        if not encoder or encoder == model:
            return self.embedder(model)
        key = (model, encoder)  # resolved once: this runs on every search
        if key not in self._query_embedders:
            documents = self.embedder(model)
            if encoder == "bf16":  # the model's own weights, packed, in bfloat16 on the CPU
                queries = cpu_packed_query_encoder(model, documents)
            else:
                if encoder in ("onnx-int8", "onnx-fp32"):  # the model's own export, made once into the model cache
                    from adaptlab.compress.onnx_export import cached_export

                    encoder = str(cached_export(model, encoder, self.workspace.model_cache))
                queries = self.embedder(encoder)
            if queries.dim != documents.dim:
                raise AdaptlabError(
                    f"search.query_encoders: '{encoder}' makes {queries.dim}-d vectors but '{model}' indexes "
                    f"{documents.dim}-d ones; a query encoder must share the model's vector space"
                )
            self._query_embedders[key] = queries
        return self._query_embedders[key]

    def query_encoder_kind(self, model: str) -> str | None:
        """`search.query_encoders[model]` with `auto` resolved: bf16 where the CPU multiplies bfloat16 in
        hardware and no GPU is visible, else onnx-int8."""
        encoder = self.config.search.query_encoders.get(model)
        if encoder == "auto":
            from adaptlab.models.engine.cpu_packed import fast_bf16_cpu
            from adaptlab.models.backends.sentence_transformers_backend import auto_device

            encoder = "bf16" if fast_bf16_cpu() and auto_device() == "cpu" else "onnx-int8"
        return encoder

    def use_query_embedder(self, model: str, embedder: Embedder) -> None:
        """From now on `model`'s queries go through `embedder` (the server's out-of-process encoder)."""
        self._query_overrides[model] = embedder

    def dense_retriever(self, model: str) -> DenseRetriever:
        """Dense search for `model`: its query encoder, its collection, and the in-memory copy if configured."""
        collection = self.collection(model)
        replica = None
        if self.config.search.in_memory:
            normalize = self.index.metric == "COSINE"

            def replica() -> VectorReplica:
                return self.replicas.get(self.vectors, collection, normalize)

        return DenseRetriever(self.store, self.vectors, self.query_embedder(model), collection, self.index, replica)

    def hybrid_weights(self, model: str) -> tuple[float, float] | None:
        """(BM25, dense) weights `finetune` calibrated for `model` on its held-out pairs, or None (0.5/0.5)."""
        from adaptlab.train.hybrid_calibration import calibrated_weights
        from adaptlab.train.model_store import resolve_model

        return calibrated_weights(resolve_model(self.workspace, model))

    def hybrid_retriever(self, model: str) -> HybridRetriever:
        """BM25 fused with `model`'s dense search, with the model's calibrated weights when it has them."""
        return HybridRetriever(self.dense_retriever(model), self.bm25, weights=self.hybrid_weights(model),
                               candidates=self.config.search.hybrid_candidates)

    def collection(self, model: str) -> str:
        """The model's collection for this corpus (named from the zoo spec: no model load needed)."""
        from adaptlab.train.model_store import model_key

        return collection_name(self.config.corpus.name, model_key(self.workspace, model))

    @property
    def bm25(self) -> WorkspaceBM25:
        """The corpus' BM25 index, kept for the session and rebuilt when the corpus changes."""
        if self._bm25 is None:
            self._bm25 = WorkspaceBM25(self.store, self.workspace.root / "bm25" / self.config.corpus.name)
        return self._bm25

    def reranker(self, spec: str, model: str = "minilm") -> Reranker:
        """The reranker a spec names (`auto`, a registered cross-encoder, a folder, `bi`, `bi:MODEL`), loaded once."""
        key = (spec, model)
        if key not in self._rerankers:
            from adaptlab.train.model_store import registered_models

            self._rerankers[key] = load_reranker(spec, registered_models(self.workspace), self.embedder, model)
        return self._rerankers[key]

    def close(self) -> None:
        if self._vectors is not None:
            self._vectors.close()
            self._vectors = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._bm25 = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, name: str, params: dict[str, Any]):
        return tracked_run(self.workspace, name, params, self.tracking_uri, self.config.tracking.experiment)

    # The Python API: the same stage functions the CLI calls.
    def ingest(self, paths: Sequence[str | Path], prune: bool = False) -> IngestReport:
        return ingest(self, paths, prune)

    def embed(self, model: str = "minilm") -> EmbedReport:
        return embed(self, model)

    def search(
        self, query: str, k: int = 10, filter: str | None = None, model: str = "minilm", mode: str = "dense",
        self_query: bool = False, expand: bool = False, rerank: str | None = None, rerank_top: int = DEFAULT_TOP_N,
    ) -> list[SearchHit]:
        return search(self, model, [query], k, filter, mode, self_query, expand, rerank=rerank,
                      rerank_top=rerank_top)[0]

    def evaluate(
        self, models: Sequence[str], datasets: Sequence[str], k: int = 100, retriever: str = "dense",
        fusion: str = "wsum", window_weight: float | None = None,
    ) -> list[RetrievalResult]:
        return evaluate(self, models, datasets, k, retriever, fusion, window_weight)

    def finetune(self, config: FinetuneConfig | None = None, **overrides: Any) -> FinetuneReport:
        """Fine-tune (or fit an adapter) as `adaptlab finetune` does; keyword overrides as in the YAML section."""
        from adaptlab.train.finetune_config import FinetuneConfig
        from adaptlab.train.finetune_stage import finetune

        base = config or self.config.finetune or FinetuneConfig()
        return finetune(self, FinetuneConfig.model_validate({**base.model_dump(), **overrides}))


def cpu_packed_query_encoder(model: str, documents: Embedder) -> Embedder:
    """`query_encoders: {model: bf16}`: the model's own sentence-transformers folder, packed in bfloat16."""
    from adaptlab.models.engine.cpu_packed import CpuPackedEncoder

    folder = getattr(documents, "path", None)
    if folder is None:
        raise AdaptlabError(
            f"search.query_encoders: bf16 needs a sentence-transformers model; '{model}' is "
            f"{type(documents).__name__}; use onnx-int8 or leave it out"
        )
    return CpuPackedEncoder(Path(folder), name=f"{documents.name} (bf16 queries)")


def index_config(cfg: VectorsSection) -> IndexConfig:
    return IndexConfig(cfg.index_type, cfg.metric, dict(cfg.params), dict(cfg.search_params))


def loader_options(cfg: CorpusConfig) -> LoaderOptions:
    return LoaderOptions(
        text_fields=list(cfg.text_fields),
        title_field=cfg.title_field,
        id_field=cfg.id_field,
        metadata_fields=cfg.metadata_fields,
        max_file_mb=cfg.max_file_mb,
        ocr_languages=cfg.ocr_languages,
        ocr_min_confidence=cfg.ocr_min_confidence,
    )


def chunking_plan(cfg: ChunkingSection, cache_dir: Path) -> ChunkingConfig:
    """Resolve the chunk size: 500 words by default, or the model's window for token chunks."""
    if cfg.unit == "words":
        return ChunkingConfig("words", cfg.size or DEFAULT_WORD_CHUNK, cfg.overlap)
    if not cfg.model:
        raise AdaptlabError("token chunking needs a model: set chunking.model or pass --chunk-model")
    counter = load_token_counter(cfg.model, cache_dir)
    size = min(cfg.size or counter.budget, counter.budget)
    return ChunkingConfig("tokens", size, cfg.overlap, counter.model)


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """`${data}` and `~` resolved; glob patterns (`mastr/*_raw.csv`) expanded, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = expand_path(str(raw))
        if glob.has_magic(str(path)):
            matches = sorted(Path(p) for p in glob.glob(str(path)))
            found.extend(matches or [path])  # no match: reported as missing by the ingest stage
        else:
            found.append(path)
    return found


def ingest(session: Session, paths: Sequence[str | Path], prune: bool = False) -> IngestReport:
    """Ingest files and folders into the workspace corpus (changed files prepared in parallel)."""
    cfg = session.config
    cache = session.workspace.model_cache
    chunking = chunking_plan(cfg.chunking, cache)
    preparer = FilePreparer(chunking, loader_options(cfg.corpus), tuple(cfg.corpus.languages), cache)
    ingestor = Ingestor(session.store, preparer)
    workers = cfg.corpus.workers or os.cpu_count() or 1
    report = IngestReport()
    resolved = expand_paths(paths)
    params = {"paths": [str(p) for p in resolved], "chunking": chunking.fingerprint(), "prune": prune,
              "workers": workers}
    session.replicas.invalidate()  # ingest may replace chunks and delete their vectors
    # workers are forked before the progress bar's and MLflow's threads start, which would rule fork out
    with PreparePool(preparer, workers) if workers > 1 else contextlib.nullcontext() as pool, session.run(
        "ingest", params
    ) as run:
        files = list(iter_files(resolved, report))
        with make_progress(session.console, unit="files") as progress:
            task = progress.add_task("ingest", total=len(files))
            ingestor.ingest_files(files, report, workers, on_file=lambda _: progress.advance(task), pool=pool)
        if prune:
            ingestor.prune(report)
        run.log_metrics({k: v for k, v in report.as_dict().items() if isinstance(v, (int, float))})
        if report.skipped:
            run.log_dict([s.__dict__ for s in report.skipped], "skipped.json")
    return report


def embed(session: Session, model: str) -> EmbedReport:
    """Bring the model's collection up to date with the corpus (on Ray actors when `embed.ray.enabled`)."""
    session.replicas.invalidate(session.collection(model))
    if session.config.embed.ray.enabled:
        from adaptlab.vectors.ray_embed import embed_ray

        return embed_ray(session, model)
    embedder = session.embedder(model)
    collection = session.collection(model)
    params = {"model": embedder.name, "collection": collection, "index": session.index.index_type,
              "metric": session.index.metric, "batch_size": session.config.embed.batch_size}
    with session.run("embed", params) as run:
        report = run_embed(
            session.store, session.vectors, embedder, collection, session.index,
            batch_size=session.config.embed.batch_size, block_size=session.config.embed.block_size,
            console=session.console,
        )
        run.log_metrics({
            "embedded_now": report.embedded_now, "vectors": report.vectors_in_collection,
            "chunks": report.chunks_in_corpus, "chunks_per_s": report.chunks_per_second,
            "over_length_chunks": report.over_length,
        })
    return report


def search(
    session: Session, model: str, queries: list[str], k: int = 10, filter: str | None = None, mode: str = "dense",
    self_query: bool = False, expand: bool = False, llm: Any | None = None, rerank: str | None = None,
    rerank_top: int = DEFAULT_TOP_N,
) -> list[list[SearchHit]]:
    """Dense search in the model's collection, BM25 over the corpus, or both fused by RRF ("hybrid").

    `self_query`: filters read from each question (retrieval.self_query); `expand`: compound parts and
    ontology synonyms added to the BM25 query, plus LLM rewrites when `llm` is given (retrieval.expansion).
    `rerank`: a reranker spec (retrieval.rerank) that re-scores and re-sorts the first `rerank_top` hits.
    """
    if mode not in SEARCH_MODES:
        raise AdaptlabError(f"unknown search mode '{mode}'; use one of {', '.join(SEARCH_MODES)}")
    if rerank:
        if rerank_top < 1:
            raise AdaptlabError(f"rerank top-N must be at least 1, got {rerank_top}")
        reranker = session.reranker(rerank, model)
        hits = search(session, model, queries, max(k, rerank_top), filter, mode, self_query, expand, llm)
        return rerank_hits(reranker, queries, hits, rerank_top, k)
    if self_query or expand:
        from adaptlab.retrieval.query_plan import planned_search

        return planned_search(session, model, queries, k, filter, mode, self_query, expand, llm)[0]
    if mode == "bm25":
        return session.bm25.search_many(queries, k=k, filter=filter)
    retriever = session.dense_retriever(model) if mode == "dense" else session.hybrid_retriever(model)
    return retriever.search_many(queries, k=k, filter=filter)


def evaluate(
    session: Session, models: Sequence[str], datasets: Sequence[str], k: int = 100, retriever: str = "dense",
    fusion: str = "wsum", window_weight: float | None = None,
) -> list[RetrievalResult]:
    """Each model on each BEIR set; JSON written to the workspace results folder and logged. `window_weight`
    scores documents past a model's token limit from windows (see eval.document_windows)."""
    if window_weight is not None and not 0.0 <= window_weight <= 1.0:
        raise AdaptlabError(f"--window-weight {window_weight:g}: give a weight between 0 and 1 (0.5: lead and best "
                            "window count alike)")
    if retriever != "dense":
        return evaluate_lexical(session, models, datasets, k, retriever, fusion, window_weight)
    sets = resolve_datasets(list(datasets))
    results: list[RetrievalResult] = []
    cache = DocumentVectorCache()
    for model in models:
        embedder = session.embedder(model)
        params = {"model": embedder.name, "datasets": [d.name for d in sets], "k": k, "window_weight": window_weight}
        with session.run("eval-retrieval", params) as run:
            for dataset in sets:
                session.console.print(f"evaluating {embedder.name} on {dataset.name} ({len(dataset.queries)} queries)")
                result = evaluate_retrieval(embedder, dataset, k, session.config.embed.batch_size, cache, window_weight)
                results.append(result)
                run.log_metrics({f"{dataset.name}/{m}": v for m, v in result.metrics.items()})
            path = write_json(
                [r.as_dict() for r in results if r.model == embedder.name],
                session.workspace.results_dir / f"eval-{_slug(embedder.name)}.json",
            )
            run.log_artifact(path)
    return results


def evaluate_lexical(
    session: Session, models: Sequence[str], datasets: Sequence[str], k: int, retriever: str, fusion: str,
    window_weight: float | None = None,
) -> list[RetrievalResult]:
    """BM25 alone, or BM25 fused with each model ("hybrid"), on each BEIR set; one run, one JSON file."""
    if retriever not in RETRIEVERS:
        raise AdaptlabError(f"unknown retriever '{retriever}'; use one of {', '.join(RETRIEVERS)}")
    if fusion not in FUSION_METHODS:
        raise AdaptlabError(f"unknown fusion '{fusion}'; use one of {', '.join(FUSION_METHODS)}")
    sets = resolve_datasets(list(datasets))
    embedders = [session.embedder(m) for m in models] if retriever == "hybrid" else []
    cache = DocumentVectorCache()
    results: list[RetrievalResult] = []
    params = {"retriever": retriever, "fusion": fusion, "models": [e.name for e in embedders],
              "datasets": [d.name for d in sets], "k": k, "window_weight": window_weight}
    with session.run("eval-retrieval", params) as run:
        for dataset in sets:
            session.console.print(f"evaluating {retriever} on {dataset.name} ({len(dataset.queries)} queries)")
            bm25, lexical = evaluate_bm25(dataset, k)
            found = [evaluate_hybrid(e, dataset, lexical, k, fusion, weights=session.hybrid_weights(m),
                                     batch_size=session.config.embed.batch_size, cache=cache,
                                     window_weight=window_weight)
                     for m, e in zip(models, embedders)] or [bm25]
            for result in found:
                run.log_metrics({f"{dataset.name}/{_slug(result.model)}/{m}": v for m, v in result.metrics.items()})
            results.extend(found)
        path = write_json([r.as_dict() for r in results], session.workspace.results_dir / f"eval-{retriever}.json")
        run.log_artifact(path)
    return results


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-80:]
