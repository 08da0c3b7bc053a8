"""`adaptlab index-lab`: which vector index, with which parameters, is fastest at the recall you need."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import (
    ConfigOpt,
    MilvusOpt,
    TrackingOpt,
    WorkspaceOpt,
    console,
    err_console,
    session_config,
)
from adaptlab.cli.main import app


@app.command("index-lab")
def index_lab_command(
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="Model whose workspace collection (or --dataset encoding) to use."
        ),
    ] = "minilm",
    collection: Annotated[
        Optional[str],
        typer.Option(
            "--collection", help="Milvus collection to read the vectors from (default: the model's)."
        ),
    ] = None,
    vectors: Annotated[
        Optional[Path],
        typer.Option(
            "--vectors", help=".npy file of vectors (e.g. from the vector cache); queries are held out of it."
        ),
    ] = None,
    dataset: Annotated[
        Optional[str],
        typer.Option(
            "--dataset", "-d", help="Eval set whose corpus --model encodes; its queries are the queries."
        ),
    ] = None,
    target: Annotated[
        float, typer.Option(help="Recall@10 the recommended setting must reach, unfiltered and filtered.")
    ] = 0.95,
    rank_by: Annotated[
        str, typer.Option("--rank-by", help="qps_1 (latency, one query per call) or qps_batch (throughput).")
    ] = "qps_1",
    types: Annotated[
        Optional[str],
        typer.Option(
            "--types",
            help="Comma-separated index types to sweep (default: all): AUTOINDEX,FLAT,IVF_FLAT,IVF_SQ8,HNSW,HNSW_SQ,IVF_PQ,BINARY.",
        ),
    ] = None,
    queries: Annotated[int, typer.Option(help="Queries per measurement.")] = 200,
    singles: Annotated[
        int, typer.Option(help="Of those, how many are timed one at a time (p50/p99 latency).")
    ] = 50,
    write_config: Annotated[
        Optional[Path],
        typer.Option(
            "--write-config",
            help="Experiment YAML whose vectors: section gets the recommendation (default: <output>/index_lab_config.yaml).",
        ),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output",
            "-o",
            help="Folder for index_lab.json and index_lab.png (default: <workspace>/results/index_lab).",
        ),
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Sweep Milvus Lite indexes (FLAT, IVF_FLAT, IVF_SQ8, HNSW, HNSW_SQ, AUTOINDEX) and FAISS IVF_PQ and binary
    codes on your embeddings: build time, bytes per vector, recall@10 against exact search, QPS and p50/p99
    latency at batch 1 and batched, with and without a metadata filter. Recommends the fastest Milvus setting
    meeting --target, writes it into an experiment config and plots the recall/QPS frontier."""
    from adaptlab.errors import AdaptlabError
    from adaptlab.indexlab.lab import RANK_KEYS
    from adaptlab.indexlab.stage import index_lab, lab_data
    from adaptlab.pipeline import Session

    if rank_by not in RANK_KEYS:
        raise AdaptlabError(f"--rank-by '{rank_by}' is not one of {', '.join(RANK_KEYS)}")
    if not 0 < target <= 1:
        raise AdaptlabError(f"--target {target} must be a recall between 0 and 1")
    type_list = [t.strip() for t in types.split(",") if t.strip()] if types else None
    if type_list:
        from adaptlab.indexlab.candidates import default_grid

        default_grid(1000, 8, tuple(type_list))  # a typo fails here, before vectors load
    with Session.open(
        workspace, session_config(config), milvus_uri, tracking_uri, console=err_console
    ) as session:
        data = lab_data(session, model, vectors, dataset, collection, queries)
        session.close()  # Milvus Lite: one process per folder; the lab opens its own
        report, paths = index_lab(
            session, data, output, target, rank_by, type_list, write_config, singles=singles
        )
    table = Table(
        "setting",
        "build s",
        "B/vec",
        "recall@10",
        "q/s b=1",
        "p50 ms",
        "p99 ms",
        "q/s batch",
        "filt. recall",
        "filt. q/s b=1",
    )
    for r in report.results:
        mark = " ◀" if report.recommended is r else ""
        table.add_row(
            r.setting + mark,
            f"{r.build_s:.2f}",
            f"{r.bytes_per_vector:.0f}",
            f"{r.recall_at_10:.3f}",
            f"{r.qps_1:.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.qps_batch:.0f}",
            f"{r.filtered_recall_at_10:.3f}",
            f"{r.filtered_qps_1:.0f}",
        )
    console.print(table)
    for item in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {item['setting']}: {item['reason']}")
    best = report.recommended
    if best is None:
        console.print(f"no Milvus setting reached recall@10 ≥ {target}; see the table")
    else:
        console.print(f"recommended: {best.setting} (recall@10 {best.recall_at_10:.3f})")
        if report.confirm:
            c = report.confirm
            console.print(
                f"side by side with AUTOINDEX ({c['pairs']} alternating queries): p50 {c['p50_ms']} vs "
                f"{c['baseline_p50_ms']} ms ({c['speedup_qps_1']}× at batch 1), batched {c['qps_batch']} vs "
                f"{c['baseline_qps_batch']} q/s ({c['speedup_qps_batch']}×)"
            )
            if m := c.get("in_memory"):
                console.print(
                    f"search.in_memory (in-process copy in the server, recall@10 {m['recall_at_10']:.3f}): p50 "
                    f"{m['p50_ms']} vs {m['baseline_p50_ms']} ms ({m['speedup_qps_1']}× at batch 1), batched "
                    f"{m['qps_batch']} vs {m['baseline_qps_batch']} q/s ({m['speedup_qps_batch']}×)"
                )
    if report.cache:
        c = report.cache
        console.print(
            f"query cache: hit rate {c['hit_rate']:.0%} on a repeated-query workload, {c['speedup']}× q/s"
        )
    console.print("\n".join(f"{k}: {v}" for k, v in paths.items()))
