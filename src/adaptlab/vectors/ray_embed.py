"""Encode the embed stage's chunks on a Ray cluster: actors hold the model, this process writes Milvus.

Milvus Lite serves one process per data folder, so actors only encode (Ray Data `map_batches` with a
callable class, one actor per GPU or CPU slot) and the driver upserts each block and marks it embedded
through `run_embed`. Resume after a kill and upsert-by-id idempotence therefore work exactly as in the
single-process path. Multi-node setup and Milvus at scale: docs/scale.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console

from adaptlab.config import RaySection
from adaptlab.errors import AdaptlabError
from adaptlab.models.base import Embedder
from adaptlab.models.encode import length_order, token_lengths
from adaptlab.vectors.embed_stage import BlockSource, EmbedReport, run_embed

if TYPE_CHECKING:
    from adaptlab.pipeline import Session


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is the `ray[data]` extra)
    except ImportError:
        raise AdaptlabError("Ray is not installed: pip install 'adaptlab[scale]' (ray[data]>=2.10)") from None
    return ray


class RayEncoder:
    """One Ray actor: loads the model once, then encodes batches of {"i", "text"} into {"i", "vector"}."""

    def __init__(self, workspace_root: str, model: str, batch_size: int) -> None:
        from adaptlab.train.model_store import load_model
        from adaptlab.workspace import Workspace

        self.embedder = load_model(Workspace(Path(workspace_root)), model)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        if self.embedder.whole_blocks:  # the GPU engine sorts and batches a whole block itself
            vectors = self.embedder.encode_documents(texts, batch_size=self.batch_size)
        else:  # texts arrive token-sorted: one call per batch keeps those batches (as iter_blocks does)
            vectors = np.concatenate(
                [
                    self.embedder.encode_documents(texts[s : s + self.batch_size], batch_size=self.batch_size)
                    for s in range(0, len(texts), self.batch_size)
                ]
            )
        return {"i": batch["i"], "vector": np.asarray(vectors, dtype=np.float32)}


LOCAL_START_ATTEMPTS = 2
"""Tries at starting a local Ray (an address given by the user is tried once)."""


def init_ray(settings: RaySection) -> bool:
    """Connect to `settings.address` or start a local Ray; True if this call started it (and must stop it)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    if settings.address is None:
        kwargs["num_cpus"] = settings.local_cpus
    # a local start can time out waiting for its own GCS server on 2 busy cores (seen in CI): try twice
    attempts = 1 if settings.address else LOCAL_START_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            ray.init(address=settings.address, **kwargs)
            return True
        except Exception as exc:  # unreachable head, version mismatch: user-fixable
            if attempt < attempts:
                ray.shutdown()  # clears the half-started local cluster before the next try
                continue
            where = settings.address or "a local Ray"
            raise AdaptlabError(f"cannot start Ray at {where}: {str(exc).splitlines()[0]}") from None
    return True


def actor_plan(settings: RaySection, resources: dict[str, float]) -> tuple[int, float, float]:
    """(actors, CPUs per actor, GPUs per actor): one per GPU when the cluster has GPUs, else per CPU slot."""
    gpus = (
        settings.num_gpus if settings.num_gpus is not None else (1.0 if resources.get("GPU", 0) >= 1 else 0.0)
    )
    if settings.actors:
        actors = settings.actors
    elif gpus > 0:
        actors = max(1, int(resources.get("GPU", 0) // gpus))
    else:
        actors = max(1, int(resources.get("CPU", 1) // settings.num_cpus))
    return actors, settings.num_cpus, gpus


def ray_block_source(
    embedder: Embedder,
    workspace_root: Path,
    model: str,
    settings: RaySection,
    batch_size: int = 32,
    block_size: int = 512,
    console: Console | None = None,
) -> BlockSource:
    """A `run_embed` block source whose vectors come from Ray actors, one Milvus write block per Ray block."""

    def blocks(texts: list[str]) -> Iterator[tuple[list[int], np.ndarray]]:
        if not texts:
            return
        ray = _ray()
        started = init_ray(settings)
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False  # run_embed shows one rich bar for the whole stage
            logging.getLogger("ray.data").setLevel(logging.WARNING)  # per-dataset INFO lines are noise here
            actors, cpus, gpus = actor_plan(settings, ray.cluster_resources())
            if console:
                console.print(f"ray: {actors} encoder actor(s), {cpus:g} CPU and {gpus:g} GPU each")
            # token-length order, as in-process, so each actor's batches carry little padding
            order = length_order(texts, token_lengths(embedder, texts))
            ds = ray.data.from_items(
                [{"i": i, "text": texts[i]} for i in order],
                override_num_blocks=math.ceil(len(order) / block_size),
            )
            ds = ds.map_batches(
                RayEncoder,
                fn_constructor_kwargs={
                    "workspace_root": str(workspace_root),
                    "model": model,
                    "batch_size": batch_size,
                },
                batch_size=block_size,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=cpus,
                num_gpus=gpus,
            )
            try:
                for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    yield [int(i) for i in batch["i"]], batch["vector"]
            except ray.exceptions.RayError as exc:  # e.g. the model is not installed on a worker node
                raise AdaptlabError(f"Ray encoding failed: {str(exc).strip().splitlines()[-1]}") from None
        finally:
            if started:
                ray.shutdown()

    return blocks


def embed_ray(session: Session, model: str, settings: RaySection | None = None) -> EmbedReport:
    """`pipeline.embed` with Ray actors encoding: same collection, resume, tracking and report."""
    settings = settings or session.config.embed.ray
    embedder = session.embedder(model)  # the driver needs dim, name and the tokenizer (length order)
    collection = session.collection(model)
    cfg = session.config.embed
    params = {
        "model": embedder.name,
        "collection": collection,
        "index": session.index.index_type,
        "metric": session.index.metric,
        "batch_size": cfg.batch_size,
        "ray": True,
        "ray_address": settings.address or "local",
        "ray_actors": settings.actors or "auto",
    }
    source = ray_block_source(
        embedder, session.workspace.root, model, settings, cfg.batch_size, cfg.block_size, session.console
    )
    with session.run("embed", params) as run:
        report = run_embed(
            session.store,
            session.vectors,
            embedder,
            collection,
            session.index,
            batch_size=cfg.batch_size,
            block_size=cfg.block_size,
            console=session.console,
            blocks=source,
        )
        run.log_metrics(
            {
                "embedded_now": report.embedded_now,
                "vectors": report.vectors_in_collection,
                "chunks": report.chunks_in_corpus,
                "chunks_per_s": report.chunks_per_second,
                "over_length_chunks": report.over_length,
            }
        )
    return report
