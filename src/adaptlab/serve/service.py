"""The workspace behind the API: one Session, models loaded once, every store call on one worker thread.

Model inference that does not touch the stores (`/embed`) runs on the caller's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.config import ExperimentConfig
from adaptlab.corpus.ingest import IngestReport
from adaptlab.errors import AdaptlabError
from adaptlab.pipeline import SEARCH_MODES, Session, embed, ingest, search
from adaptlab.rag.generators import Generator, load_generator
from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.rerank import DEFAULT_TOP_N
from adaptlab.serve.query_process import QueryEncoderProcess
from adaptlab.serve.routing import AliasWatcher, RegistryServing, RoutingTable, Variant
from adaptlab.serve.worker import Key, StoreWorker
from adaptlab.vectors.embed_stage import EmbedReport


class NotFoundError(AdaptlabError):
    """Something the request names does not exist on this server (a model it does not serve)."""


class MissingCollectionError(AdaptlabError):
    """The model has no vectors for this corpus yet: the message says which command creates them."""


class Service:
    """What the endpoints call; `start` loads everything heavy so the first request is as fast as the rest.

    Methods that touch the stores return Futures settled by the worker thread.
    """

    def __init__(
        self, workspace: str | Path | None, models: Sequence[str], generator: str = "extractive",
        config: ExperimentConfig | None = None, milvus_uri: str | None = None,
        serving: RegistryServing | None = None,
    ) -> None:
        config = config or ExperimentConfig()
        config.corpus.workers = 1  # uploads are small; a process pool per request costs more than it saves
        self.session = Session.open(workspace, config, milvus_uri, tracking_uri="none")
        self.models = list(dict.fromkeys(models))
        self.generator_name = generator
        self.generator: Generator | None = None
        self.worker = StoreWorker(self._search_many)
        self.query_processes: dict[str, QueryEncoderProcess] = {}
        self._ready_models: set[str] = set()
        self._torch_threads = 0
        self.serving = serving
        self.on_swap: list[Callable[[RoutingTable], None]] = []
        self.watcher: AliasWatcher | None = None
        if serving is not None:
            from adaptlab.registry.store import ModelRegistry

            registry = ModelRegistry(self.session.workspace, serving.tracking_uri)
            self.watcher = AliasWatcher(registry, serving, self._prepare, self._swapped)

    @property
    def default_model(self) -> str:
        return self.watcher.table.champion.model if self.watcher else self.models[0]

    @property
    def served_models(self) -> list[str]:
        """Models given by name plus those the registry aliases point at now."""
        variants = [v.model for v in self.watcher.table.variants] if self.watcher else []
        return list(dict.fromkeys([*variants, *self.models]))

    def start(self) -> None:
        """Load the models and the generator, open Milvus, load (or build) the BM25 index; blocks until done.

        Serving by alias, the aliases' models are prepared first and the registry is then polled for moves."""
        self.worker.run(self._warm_up).result()
        if self.watcher:
            self.watcher.refresh()
            self.watcher.start()
        self.generator = load_generator(self.generator_name)

    def close(self) -> None:
        if self.watcher:
            self.watcher.stop()
        self.worker.run(self._restore_threads)
        self.worker.run(self.session.close)
        self.worker.close()
        for child in self.query_processes.values():
            child.close()

    def check_model(self, model: str | None) -> str:
        """The served model a request names (default: the first); any other is a 404, never loaded."""
        model = model or self.default_model
        served = self.served_models
        if model not in served:
            raise NotFoundError(f"model '{model}' is not served here; served: {', '.join(served)}")
        return model

    def check_reranker(self, spec: str) -> None:
        """A request may name auto, bi, bi:<served model> or a registered cross-encoder, never a folder path."""
        if spec.startswith("bi:"):
            self.check_model(spec.removeprefix("bi:"))
        elif spec not in ("auto", "bi", "bi-encoder"):
            from adaptlab.train.model_store import registered_models

            known = [n for n, e in registered_models(self.session.workspace).items() if e.get("kind") == "cross-encoder"]
            if spec not in known:
                raise NotFoundError(f"reranker '{spec}' is not registered here; use auto, bi, bi:MODEL"
                                    + (f" or one of {', '.join(known)}" if known else ""))

    def route(self, model: str | None, session_key: str | None) -> Variant:
        """Who answers: the model the request names, else the A/B arm of its session key, else the default."""
        if model:
            return Variant("explicit", self.check_model(model))
        if self.watcher:
            return self.watcher.table.pick(session_key)
        return Variant("default", self.default_model)

    def _prepare(self, model: str) -> None:
        """Load a model and make sure its vectors exist, off the request path (called before a swap)."""
        self.session.embedder(model)
        self.worker.run(lambda: self._ensure_vectors(model)).result()

    def _swapped(self, table: RoutingTable) -> None:
        for callback in self.on_swap:
            callback(table)

    def health(self) -> Future[dict[str, Any]]:
        return self.worker.run(self._health)

    def search(self, query: str, k: int, mode: str, filter: str | None, model: str | None,
               self_query: bool = False, expand: bool = False, rerank: str | None = None,
               rerank_top: int = DEFAULT_TOP_N) -> Future[list[SearchHit]]:
        """The hits, once the worker has run this query with the others queued alongside it.

        With `self_query` or `expand` each question gets its own filter and queries, so it runs alone; so
        does a reranked search (`rerank`: auto, bi, bi:MODEL of a served model, or a registered reranker)."""
        key = (self.check_model(model), mode, k, filter)
        if rerank:
            self.check_reranker(rerank)
        child = self.query_processes.get(key[0])
        vector = None
        if child is not None and mode != "bm25" and not (self_query or expand):
            vector = child.prefetch(query)  # encoded while the worker is busy with the searches queued before it
        if self_query or expand or rerank:
            return self.worker.run(
                lambda: self._search_many(key, [query], self_query, expand, rerank, rerank_top)[0])
        if vector is not None:
            return self.worker.search_after(vector, key, query)
        return self.worker.search(key, query)

    def embed_texts(self, texts: Sequence[str], model: str | None) -> tuple[str, np.ndarray]:
        embedder = self.session.embedder(self.check_model(model))
        return embedder.name, embedder.encode_documents(list(texts))

    def ingest_files(self, paths: Sequence[Path]) -> Future[tuple[IngestReport, list[EmbedReport]]]:
        """Ingest the saved uploads, then bring every served model's collection up to date."""
        return self.worker.run(lambda: self._ingest(paths))

    # ---- on the worker thread ----------------------------------------------------------------
    def _ensure_vectors(self, model: str) -> None:
        """Embed the corpus for a newly served model when its collection is missing (a no-op otherwise)."""
        if self.session.store.stats()["chunks"] and not self.session.vectors.has(self.session.collection(model)):
            embed(self.session, model)

    def _warm_up(self) -> None:
        children = self._start_query_processes()
        for model in self.models:
            self.session.embedder(model)
            if model not in children:
                self.session.query_embedder(model)
        for model, child in children.items():
            self.session.use_query_embedder(model, child.wait_ready())
        _ = self.session.vectors
        if self.session.store.stats()["chunks"]:
            self.session.bm25.index()

    def _start_query_processes(self) -> dict[str, QueryEncoderProcess]:
        """One query-encoder child per model that `serve.query_process` sends out of process.

        Runs on the store worker. With children encoding the queries, PyTorch here gets one thread: what
        this process still computes, the in-memory search's matrix product, is small, and a second thread
        spinning between those products took as much CPU as the HTTP thread on two cores."""
        config = self.session.config
        setting = config.serve.query_process
        wanted = [m for m in self.models
                  if setting == "on" or (setting == "auto" and self.session.query_encoder_kind(m) == "bf16")]
        root, settings = str(self.session.workspace.root), config.model_dump(mode="json")
        self.query_processes = {m: QueryEncoderProcess(root, settings, m) for m in wanted}
        if self.query_processes:
            import torch

            self._torch_threads = torch.get_num_threads()
            torch.set_num_threads(1)
        return self.query_processes

    def _restore_threads(self) -> None:
        """Give PyTorch its threads back (an app closed inside a longer-lived process, such as tests)."""
        if self._torch_threads:
            import torch

            torch.set_num_threads(self._torch_threads)

    def _health(self) -> dict[str, Any]:
        stats = self.session.store.stats()
        served = {m: self.session.collection(m) for m in self.served_models}
        return {
            "status": "ok",
            "workspace": str(self.session.workspace.root),
            "corpus": {k: stats[k] for k in ("files", "documents", "chunks", "chunk_languages")},
            "models": [
                {"name": m, "collection": c, "ready": self.session.vectors.has(c), "vectors": stats["embedded"].get(c, 0),
                 "query_process": m in self.query_processes}
                for m, c in served.items()
            ],
            "collections": [{"name": c["name"], "model": c["model"], "dim": c["dim"],
                             "vectors": stats["embedded"].get(c["name"], 0)} for c in self.session.store.collections()],
            "modes": list(SEARCH_MODES),
            "generator": {"name": self.generator.name if self.generator else None,
                          "extractive": bool(self.generator and self.generator.extractive)},
            **({"registry": self._registry_health()} if self.watcher else {}),
        }

    def _registry_health(self) -> dict[str, Any]:
        assert self.watcher is not None and self.serving is not None
        table, stats = self.watcher.table, self.watcher.stats
        return {"name": self.serving.name, "alias": self.serving.alias, "challenger_share": table.share,
                "variants": [{"variant": v.name, "version": v.version, "model": v.model} for v in table.variants],
                "swaps": stats.swaps, "swap_failures": stats.failures, "last_error": stats.last_error}

    def _search_many(self, key: Key, queries: list[str], self_query: bool = False,
                     expand: bool = False, rerank: str | None = None,
                     rerank_top: int = DEFAULT_TOP_N) -> list[list[SearchHit]]:
        model, mode, k, filter = key
        if mode != "bm25":
            self._require_collection(model)
        llm = self.generator if getattr(self.generator, "plans_queries", False) else None
        return search(self.session, model, queries, k, filter, mode, self_query, expand, llm, rerank, rerank_top)

    def _ingest(self, paths: Sequence[Path]) -> tuple[IngestReport, list[EmbedReport]]:
        self._ready_models.clear()
        report = ingest(self.session, list(paths))
        embedded = [embed(self.session, m) for m in self.served_models] if report.files_ingested else []
        if report.files_ingested:
            self.session.bm25.index()  # rebuild now, not in the next search request
        return report, embedded

    def _require_collection(self, model: str) -> None:
        """Raise when `model` has no collection. A collection seen once is remembered (a Milvus round trip
        per search otherwise) until this server ingests, the only way it can change here."""
        if model in self._ready_models:
            return
        name = self.session.collection(model)
        if self.session.vectors.has(name):
            self._ready_models.add(model)
        else:
            root = self.session.workspace.root
            raise MissingCollectionError(
                f"model '{model}' has no vectors for this corpus (collection '{name}'); run "
                f"`adaptlab ingest DOCS --workspace {root}` and `adaptlab embed --model {model} --workspace {root}`, "
                "or use mode=bm25"
            )
