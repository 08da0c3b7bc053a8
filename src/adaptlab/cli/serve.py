"""`adaptlab serve`: the HTTP API and web page over a workspace (needs the `serve` extra)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from adaptlab.cli.common import ConfigOpt, MilvusOpt, WorkspaceOpt, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError
from adaptlab.rag.generators import check_generator


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    model: Annotated[list[str], typer.Option("--model", "-m", help="Model(s) to serve; the first is the default.")] = ["minilm"],  # noqa: B006
    generator: Annotated[str, typer.Option("--generator", help="Who writes /rag answers: extractive (quoted sentences), smollm2-135m, or auto (SmolLM2 if installed).")] = "extractive",
    token_env: Annotated[str, typer.Option("--token-env", help="Environment variable holding the bearer token for /documents (unset: uploads off).")] = "ADAPTLAB_API_TOKEN",
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
) -> None:
    """Serve /search, /rag, /embed, /documents, /health, OpenAPI docs at /docs and the web page at /."""
    try:
        import uvicorn

        from adaptlab.serve.app import create_app
    except ImportError as exc:
        raise AdaptlabError(f"serving needs the serve extra: pip install 'adaptlab[serve]' ({exc.name} missing)") from None
    check_generator(generator)
    token = os.environ.get(token_env) or None
    if not token:
        err_console.print(f"${token_env} is not set: POST /documents (upload) is disabled")
    api = create_app(workspace, model, token=token, generator=generator, config=session_config(config),
                     milvus_uri=milvus_uri)
    err_console.print(f"serving on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(api, host=host, port=port, log_level="warning", timeout_keep_alive=5, workers=1)
