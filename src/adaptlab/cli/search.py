"""`adaptlab search`: ranked chunks for a query, with score, source and section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adaptlab.cli.common import (
    ConfigOpt,
    FilterOpt,
    MilvusOpt,
    ModeOpt,
    SearchModelOpt,
    WorkspaceOpt,
    console,
    err_console,
    session_config,
)
from adaptlab.cli.main import app
from adaptlab.cli.rerank import DEFAULT_TOP_N, RerankOpt, RerankTopOpt
from adaptlab.cli.query_options import ExpandOpt, SelfQueryOpt
from adaptlab.pipeline import Session, search
from adaptlab.retrieval.dense import SearchHit


def hits_table(query: str, hits: list[SearchHit], width: int = 160) -> Table:
    table = Table(title=f"“{query}”", show_lines=True, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("source / section")
    table.add_column("text")
    for hit in hits:
        where = Path(hit.source).name + (f" p.{hit.page}" if hit.page else "")
        section = hit.heading or hit.title
        text = hit.text if len(hit.text) <= width else hit.text[: width - 1] + "…"
        table.add_row(str(hit.rank), f"{hit.score:.3f}", f"{where}\n[dim]{section}[/dim] [{hit.lang}]", text)
    return table


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for, in any language the model knows.")],
    k: Annotated[int, typer.Option("-k", help="Number of results.")] = 10,
    filter: FilterOpt = None,
    model: SearchModelOpt = "minilm",
    mode: ModeOpt = "dense",
    self_query: SelfQueryOpt = False,
    expand: ExpandOpt = False,
    rerank: RerankOpt = None,
    rerank_top: RerankTopOpt = DEFAULT_TOP_N,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON on stdout.")] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
) -> None:
    """Search the corpus: prints ranked chunks with score, source and section."""
    with Session.open(workspace, session_config(config), milvus_uri, "none", console=err_console) as session:
        hits = search(session, model, [query], k=k, filter=filter, mode=mode, self_query=self_query, expand=expand,
                      rerank=rerank, rerank_top=rerank_top)[0]
    if as_json:
        print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False))
    elif not hits:
        console.print("no results")
    else:
        console.print(hits_table(query, hits))
