"""`adaptlab serve`: the HTTP API and web page over a workspace (needs the `serve` extra)."""

from __future__ import annotations

import os
from typing import Annotated, Optional, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from adaptlab.cli.common import ConfigOpt, MilvusOpt, TrackingOpt, WorkspaceOpt, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError
from adaptlab.rag.generators import check_generator

T = TypeVar("T", bound=BaseModel)


@app.command("serve")
def serve_command(
    host: Annotated[Optional[str], typer.Option(help="Interface to bind; 127.0.0.1 keeps it on this machine. (default: serve.host, 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(help="TCP port. (default: serve.port, 8000)")] = None,
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Model(s) to serve; the first is the default. (default: serve.models, minilm)")] = None,
    generator: Annotated[Optional[str], typer.Option("--generator", help="Who writes /rag answers: extractive (quoted sentences), smollm2-135m, gemma3-270m, or auto (SmolLM2 if installed). (default: serve.generator, extractive)")] = None,
    token_env: Annotated[Optional[str], typer.Option("--token-env", help="Environment variable holding the bearer token for /documents (unset: uploads off). (default: ADAPTLAB_API_TOKEN)")] = None,
    model_alias: Annotated[Optional[str], typer.Option("--model-alias", help="Serve the registry version this alias points at (champion or challenger) instead of --model; alias moves are picked up without a restart.")] = None,
    registry_name: Annotated[Optional[str], typer.Option("--registry-name", help="Registered model to serve with --model-alias. (default: embedder)")] = None,
    challenger_share: Annotated[Optional[float], typer.Option("--challenger-share", help="A/B: share of sessions (X-Session-Id or `session`) answered by the challenger, 0–1. (default: 0)")] = None,
    poll_seconds: Annotated[Optional[float], typer.Option("--poll-seconds", help="How often to check the registry's aliases. (default: 2)")] = None,
    drift_window: Annotated[Optional[int], typer.Option("--drift-window", help="Test every N queries for drift against the reference window (0: off). (default: 0)")] = None,
    drift_model: Annotated[Optional[str], typer.Option("--drift-model", help="Fixed embedding model for drift tests (independent of the served one). (default: minilm)")] = None,
    drift_alpha: Annotated[Optional[float], typer.Option("--drift-alpha", help="Alert when a window's permutation p-value is below this. (default: 0.01)")] = None,
    tracking_uri: TrackingOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
) -> None:
    """Serve /search, /rag, /embed, /documents, /feedback, /health, /metrics, OpenAPI docs at /docs and the web page at /.

    Every option left out comes from the config's `serve:` section (`--config`), else its default."""
    try:
        import uvicorn

        from adaptlab.serve.app import create_app
    except ImportError as exc:
        raise AdaptlabError(f"serving needs the serve extra: pip install 'adaptlab[serve]' ({exc.name} missing)") from None
    cfg = session_config(config)
    opts = _settings(cfg.serve, host=host, port=port, models=model, generator=generator, token_env=token_env,
                     model_alias=model_alias, registry_name=registry_name, challenger_share=challenger_share,
                     poll_seconds=poll_seconds)
    drift_opts = _settings(cfg.serve.drift, "drift-", window=drift_window, model=drift_model, alpha=drift_alpha)
    host, port, model, generator, token_env = opts.host, opts.port, opts.models, opts.generator, opts.token_env
    model_alias, registry_name, challenger_share, poll_seconds = (
        opts.model_alias, opts.registry_name, opts.challenger_share, opts.poll_seconds)
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
    if drift_opts.window:
        from adaptlab.monitor.online import DriftOptions

        drift = DriftOptions(window=drift_opts.window, model=drift_opts.model, alpha=drift_opts.alpha)
    if cfg.features.reads_online:
        err_console.print(f"/search reads online features from {cfg.features.online} "
                          f"(popularity boost {cfg.features.popularity_boost:g}, min rating {cfg.features.min_rating})")
    api = create_app(workspace, model, token=token, generator=generator, config=cfg,
                     milvus_uri=milvus_uri, serving=serving, drift=drift)
    err_console.print(f"serving on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(api, host=host, port=port, log_level="warning", timeout_keep_alive=5, workers=1)


def _settings(section: T, prefix: str = "", **flags: object) -> T:
    """The config section with the flags the user gave laid over it, validated as the YAML would be."""
    given = {k: v for k, v in flags.items() if v is not None}
    try:
        return section.model_validate({**section.model_dump(), **given})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0])
        flag = "--" + prefix + ("model" if key == "models" else key).replace("_", "-")
        where = flag if key in given else f"serve.{prefix.replace('-', '.')}{key} (config)"
        raise AdaptlabError(f"{where} {first['input']!r}: {first['msg']}") from None


def _check_alias(serving, workspace, config) -> None:
    """A missing registered model or alias is a one-line error here, not a failed server start-up."""
    from adaptlab.registry.store import ModelRegistry
    from adaptlab.workspace import Workspace

    cfg = session_config(config)
    aliases = ModelRegistry(Workspace.resolve(workspace or cfg.workspace), serving.tracking_uri).aliases(serving.name)
    if serving.alias not in aliases:
        raise AdaptlabError(f"registered model '{serving.name}' has no '{serving.alias}' alias; run "
                            f"`adaptlab registry promote VERSION --alias {serving.alias} --name {serving.name}`")
