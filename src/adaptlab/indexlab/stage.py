"""`adaptlab index-lab` as a stage: pick the vectors, sweep, recommend, write JSON, plot, config, MLflow run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from adaptlab.errors import AdaptlabError
from adaptlab.indexlab.candidates import default_grid
from adaptlab.indexlab.config_writer import write_index_config
from adaptlab.indexlab.data import LabData, from_arrays, from_collection, from_npy
from adaptlab.indexlab.lab import LabReport, recommend, run_lab
from adaptlab.indexlab.plot import frontier_plot
from adaptlab.jsonio import write_json

if TYPE_CHECKING:
    from adaptlab.pipeline import Session


def lab_data(
    session: Session,
    model: str,
    vectors: Path | None = None,
    dataset: str | None = None,
    collection: str | None = None,
    queries: int = 200,
) -> LabData:
    """The user's vectors: a .npy file, an eval set encoded by `model` (its real queries), or a collection."""
    if vectors is not None:
        return from_npy(vectors, n_queries=queries)
    if dataset is not None:
        from adaptlab.compress.vector_cache import VectorCache
        from adaptlab.eval.retrieval_eval import document_text, resolve_datasets

        found = resolve_datasets([dataset])
        if len(found) != 1:
            raise AdaptlabError(f"--dataset '{dataset}' names {len(found)} sets; name one, e.g. xquad-en-en")
        ds, embedder = found[0], session.embedder(model)
        cache = VectorCache(session.workspace.vector_cache)
        docs = cache.documents(
            embedder, [document_text(d) for d in ds.corpus.values()], session.config.embed.batch_size
        )
        qs = cache.queries(embedder, list(ds.queries.values()), session.config.embed.batch_size)
        return from_arrays(docs, qs, n_queries=queries, source=f"{ds.name} ({embedder.name})")
    name = collection or session.collection(model)
    uri = session.config.vectors.uri or session.workspace.milvus_uri
    return from_collection(uri, name, n_queries=queries)


def index_lab(
    session: Session,
    data: LabData,
    output: Path | None = None,
    target: float = 0.95,
    rank_by: str = "qps_1",
    types: list[str] | None = None,
    config_out: Path | None = None,
    batch: int = 100,
    singles: int = 50,
) -> tuple[LabReport, dict[str, Path]]:
    grid = default_grid(len(data.vectors), data.dim, tuple(types) if types else None)
    out_dir = Path(output) if output else session.workspace.results_dir / "index_lab"
    say = session.console.print if session.console else None
    params = {
        "source": data.source,
        "vectors": len(data.vectors),
        "queries": len(data.queries),
        "target": target,
        "rank_by": rank_by,
        "settings": sum(len(b.searches) for b in grid),
    }
    with session.run("index-lab", params) as run:
        results, skipped, confirm, cache = run_lab(
            data,
            grid,
            batch=batch,
            singles=singles,
            progress=say,
            target=target,
            rank_by=rank_by,
            pairs=len(data.queries),
        )
        best, baseline = recommend(results, target, rank_by)
        report = LabReport(data.describe(), results, best, baseline, target, rank_by, cache, skipped, confirm)
        paths = {
            "json": write_json(report.as_dict(), out_dir / "index_lab.json"),
            "plot": frontier_plot(
                results,
                out_dir / "index_lab.png",
                target,
                rank_by,
                best,
                title=f"{data.source}: {len(data.vectors)} vectors",
            ),
        }
        if best is not None:
            if config_out is None:
                base = session.config.model_dump(exclude_none=True, mode="json")
                config_out = out_dir / "index_lab_config.yaml"
                _seed_config(config_out, base)
            memory = confirm.get("in_memory") or {}
            in_memory = memory.get("recall_at_10", 0) >= target and memory.get("speedup_qps_1", 0) > 1
            paths["config"] = write_index_config(config_out, best, in_memory=in_memory)
        for path in paths.values():
            run.log_artifact(path)
        if best is not None:
            run.log_metrics(
                {
                    "recommended/recall_at_10": best.recall_at_10,
                    f"recommended/{rank_by}": getattr(best, rank_by),
                }
            )
        if confirm:
            run.log_metrics(
                {
                    "recommended/paired_speedup_qps_1": confirm["speedup_qps_1"],
                    "recommended/paired_speedup_qps_batch": confirm["speedup_qps_batch"],
                    **({"in_memory/paired_speedup_qps_1": confirm["in_memory"]["speedup_qps_1"],
                        "in_memory/paired_speedup_qps_batch": confirm["in_memory"]["speedup_qps_batch"],
                        "in_memory/recall_at_10": confirm["in_memory"]["recall_at_10"]}
                       if confirm.get("in_memory") else {}),
                }
            )
        if baseline is not None:
            run.log_metrics(
                {
                    "autoindex/recall_at_10": baseline.recall_at_10,
                    f"autoindex/{rank_by}": getattr(baseline, rank_by),
                }
            )
    return report, paths


def _seed_config(path: Path, base: dict[str, object]) -> None:
    import yaml

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(base, sort_keys=False, allow_unicode=True), encoding="utf-8")
