"""`adaptlab serve`: the HTTP API and web page over a workspace (needs the `serve` extra)."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from adaptlab.cli.common import ConfigOpt, MilvusOpt, TrackingOpt, WorkspaceOpt, err_console, session_config
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
    model_alias: Annotated[Optional[str], typer.Option("--model-alias", help="Serve the registry version this alias points at (champion or challenger) instead of --model; alias moves are picked up without a restart.")] = None,
    registry_name: Annotated[str, typer.Option("--registry-name", help="Registered model to serve with --model-alias.")] = "embedder",
    challenger_share: Annotated[float, typer.Option("--challenger-share", help="A/B: share of sessions (X-Session-Id or `session`) answered by the challenger, 0–1.")] = 0.0,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", help="How often to check the registry's aliases.")] = 2.0,
    drift_window: Annotated[int, typer.Option("--drift-window", help="Test every N queries for drift against the reference window (0: off).")] = 0,
    drift_model: Annotated[str, typer.Option("--drift-model", help="Fixed embedding model for drift tests (independent of the served one).")] = "minilm",
    drift_alpha: Annotated[float, typer.Option("--drift-alpha", help="Alert when a window's permutation p-value is below this.")] = 0.01,
    tracking_uri: TrackingOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
) -> None:
    """Serve /search, /rag, /embed, /documents, /feedback, /health, /metrics, OpenAPI docs at /docs and the web page at /."""
    try:
        import uvicorn

        from adaptlab.serve.app import create_app
    except ImportError as exc:
        raise AdaptlabError(f"serving needs the serve extra: pip install 'adaptlab[serve]' ({exc.name} missing)") from None
    check_generator(generator)
    token = os.environ.get(token_env) or None
    if not token:
        err_console.print(f"${token_env} is not set: POST /documents (upload) is disabled")
    serving = drift = None
    if model_alias:
        from adaptlab.serve.routing import RegistryServing

        serving = RegistryServing(registry_name, model_alias, challenger_share, poll_seconds, tracking_uri)
        _check_alias(serving, workspace, config)
        err_console.print(f"serving {registry_name}@{model_alias}"
                          + (f" with {challenger_share:.0%} of sessions on the challenger" if challenger_share else ""))
    if drift_window:
        from adaptlab.monitor.online import DriftOptions

        drift = DriftOptions(window=drift_window, model=drift_model, alpha=drift_alpha)
    api = create_app(workspace, model, token=token, generator=generator, config=session_config(config),
                     milvus_uri=milvus_uri, serving=serving, drift=drift)
    err_console.print(f"serving on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(api, host=host, port=port, log_level="warning", timeout_keep_alive=5, workers=1)


def _check_alias(serving, workspace, config) -> None:
    """A missing registered model or alias is a one-line error here, not a failed server start-up."""
    from adaptlab.registry.store import ModelRegistry
    from adaptlab.workspace import Workspace

    cfg = session_config(config)
    aliases = ModelRegistry(Workspace.resolve(workspace or cfg.workspace), serving.tracking_uri).aliases(serving.name)
    if serving.alias not in aliases:
        raise AdaptlabError(f"registered model '{serving.name}' has no '{serving.alias}' alias; run "
                            f"`adaptlab registry promote VERSION --alias {serving.alias} --name {serving.name}`")
