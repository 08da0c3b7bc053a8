"""`adaptlab rag`: answer a question from the corpus, citing numbered sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

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


@app.command("rag")
def rag_command(
    question: Annotated[str, typer.Argument(help="The question, in any language the model knows.")],
    k: Annotated[int, typer.Option("-k", help="Sources to answer from.")] = 5,
    mode: ModeOpt = "hybrid",
    filter: FilterOpt = None,
    model: SearchModelOpt = "minilm",
    generator: Annotated[str, typer.Option("--generator", help="extractive (quoted sentences), smollm2-135m, gemma3-270m (base model, cited by overlap), auto (SmolLM2 if installed), or openai / openai:<model> (an OpenAI-compatible endpoint: $OPENAI_BASE_URL, $OPENAI_MODEL, $OPENAI_API_KEY).")] = "extractive",
    self_query: SelfQueryOpt = False,
    expand: ExpandOpt = False,
    rerank: RerankOpt = None,
    rerank_top: RerankTopOpt = DEFAULT_TOP_N,
    context_tokens: Annotated[Optional[int], typer.Option("--context-tokens", min=64, help="Token budget of the sources given to the generator (near-duplicates are always dropped).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer and sources as JSON.")] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
) -> None:
    """Retrieve the top-k chunks and answer from them; prints the answer and its numbered sources."""
    from adaptlab.pipeline import Session
    from adaptlab.rag.ask import ask
    from adaptlab.rag.generators import load_generator

    writer = load_generator(generator)
    with Session.open(workspace, session_config(config), milvus_uri, "none", console=err_console) as session:
        answer = ask(session, question, writer, k=k, mode=mode, filter=filter, model=model, self_query=self_query,
                     expand=expand, context_tokens=context_tokens, rerank=rerank, rerank_top=rerank_top)
    if as_json:
        print(json.dumps(answer.as_dict(), ensure_ascii=False))
        return
    label = "extractive answer (quoted sentences)" if answer.extractive else f"answer by {answer.generator}"
    console.print(f"[bold]{label}[/bold]\n{answer.text}\n", highlight=False, soft_wrap=True)
    for n, hit in enumerate(answer.sources, 1):
        where = Path(hit.source).name + (f" p.{hit.page}" if hit.page else "")
        mark = "*" if n in answer.citations else " "
        console.print(f"{mark}[{n}] {where} — {hit.heading or hit.title} [{hit.lang}]", highlight=False, soft_wrap=True)
