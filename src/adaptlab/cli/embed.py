"""`adaptlab embed`: encode every chunk not yet embedded by a model, into Milvus."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from adaptlab.cli.common import ConfigOpt, MilvusOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.pipeline import Session, embed


@app.command("embed")
def embed_command(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Zoo name or local model folder (repeatable).")] = ["minilm"],  # noqa: B006
    batch_size: Annotated[Optional[int], typer.Option(help="Texts per forward pass (default 32).")] = None,
    index_type: Annotated[Optional[str], typer.Option(help="FLAT, IVF_FLAT, IVF_SQ8, HNSW, HNSW_SQ or AUTOINDEX.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Encode with Ray actors (local Ray unless --ray-address).")] = False,
    ray_address: Annotated[
        Optional[str], typer.Option(help="Ray cluster to join ('auto', 'ray://head:10001'); implies --ray.")
    ] = None,
    ray_actors: Annotated[
        Optional[int], typer.Option(min=1, help="Encoder actors (default: one per GPU, else per CPU slot).")
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Embed the corpus with a model and write the vectors to its Milvus collection.

    Only chunks not yet in the collection are encoded, so an interrupted run (even kill -9)
    resumes where it stopped, with nothing lost or doubled. Vectors of replaced chunks are deleted.
    With --ray (or `embed.ray.enabled` in the config) Ray actors encode and this process writes Milvus.
    """
    cfg = session_config(config)
    if batch_size:
        cfg.embed.batch_size = batch_size
    if ray or ray_address or ray_actors:
        cfg.embed.ray.enabled = True
        cfg.embed.ray.address = ray_address or cfg.embed.ray.address
        cfg.embed.ray.actors = ray_actors or cfg.embed.ray.actors
    if index_type:
        cfg.vectors = cfg.vectors.model_validate({**cfg.vectors.model_dump(), "index_type": index_type.upper()})
    reports = []
    with Session.open(workspace, cfg, milvus_uri, tracking_uri, console=err_console) as session:
        if session.store.stats()["chunks"] == 0:
            err_console.print("the corpus is empty: run `adaptlab ingest PATH` first")
            raise typer.Exit(1)
        for name in model:
            report = embed(session, name)  # on Ray actors when cfg.embed.ray.enabled
            reports.append(report)
            if not as_json:
                console.print(
                    f"{report.model}: {report.embedded_now} chunks embedded now "
                    f"({report.chunks_per_second:.1f}/s), {report.already_embedded} already; "
                    f"{report.vectors_in_collection} vectors in '{report.collection}' for {report.chunks_in_corpus} chunks"
                )
    if as_json:
        print(json.dumps([{**r.__dict__, "chunks_per_second": r.chunks_per_second} for r in reports]))
