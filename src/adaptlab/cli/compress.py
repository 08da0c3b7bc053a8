"""`adaptlab compress`: what each embedding compression keeps of float32 quality, per byte saved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adaptlab.cli.common import ConfigOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
from adaptlab.cli.main import app
from adaptlab.compress.registry import DEFAULT_METHODS, METHODS

HELP = (
    "Measure embedding compression methods on BEIR sets: bytes per vector, compression factor vs float32, "
    "nDCG@10 and the share of float32's nDCG@10 kept, search ms/query (one thread) and fit time. "
    "Writes compression.json and a Pareto plot (compression.png) and logs both to MLflow.\n\n"
    "Methods (NAME or NAME:ARG, comma-separated):\n\n"
    + "\n\n".join(f"• {name}: {method.help}" for name, method in METHODS.items())
)


compress_app = typer.Typer(
    help=HELP, invoke_without_command=True, pretty_exceptions_enable=False
)
app.add_typer(compress_app, name="compress")


@compress_app.callback()
def compress_command(
    ctx: typer.Context,
    model: Annotated[list[str], typer.Option("--model", "-m", help="Zoo name or local folder (repeatable).")] = ["minilm"],  # noqa: B006
    dataset: Annotated[list[str], typer.Option("--dataset", "-d", help="BEIR folder, 'xquad' or 'xquad-de-de' etc. (repeatable).")] = ["xquad-en-en"],  # noqa: B006
    methods: Annotated[str, typer.Option("--methods", help="Comma-separated methods; float32 is always added as the reference.")] = ",".join(DEFAULT_METHODS),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder for compression.json and compression.png (default: <workspace>/results/compress).")] = None,
    repeats: Annotated[int, typer.Option(help="Timed search repeats per method (the median is reported).")] = 3,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    if ctx.invoked_subcommand is not None:  # `adaptlab compress model ...`: the group only dispatches
        return
    from adaptlab.compress.evaluate import compress
    from adaptlab.compress.registry import parse_methods
    from adaptlab.compress.report import results_table
    from adaptlab.pipeline import Session

    specs = parse_methods(methods)  # a typo fails here, before any model loads
    with Session.open(workspace, session_config(config), tracking_uri=tracking_uri, console=err_console) as session:
        report = compress(session, model, dataset, specs, output, repeats)
    console.print(results_table(report.results))
    console.print(f"results: {report.json_path}\nplot: {report.plot_path}")


@compress_app.command("model")
def compress_model_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (model.onnx, tokenizer, adaptlab_onnx.json).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Zoo name or local sentence-transformers folder.")] = "minilm",
    to: Annotated[str, typer.Option("--to", help="onnx-int8 (fused graph, dynamic int8) or onnx-fp32 (fused graph).")] = "onnx-int8",
    fuse: Annotated[bool, typer.Option("--fuse/--no-fuse", help="Fuse attention, LayerNorm and GELU with onnxruntime's optimiser.")] = True,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export an encoder to ONNX (torch.onnx.export), optionally int8-quantised; the folder then works as
    `--model OUT_DIR` in embed, search and eval."""
    from adaptlab.compress.onnx_export import TARGETS, export_onnx
    from adaptlab.errors import AdaptlabError
    from adaptlab.models.registry import get_spec
    from adaptlab.models.resolve import sentence_transformers_dir
    from adaptlab.workspace import Workspace

    if to not in TARGETS:
        raise AdaptlabError(f"--to '{to}' is not a target; choose from {', '.join(TARGETS)}")
    spec = get_spec(model)
    if spec.backend != "sentence-transformers":
        raise AdaptlabError(f"model '{model}' runs on {spec.backend}; only sentence-transformers models can be exported")
    folder = sentence_transformers_dir(spec, Workspace.resolve(workspace).model_cache)
    with err_console.status(f"exporting {spec.name} to {to} ..."):
        manifest = export_onnx(folder, out_dir, to, fuse=fuse, source_name=spec.name)
    console.print(
        f"{out_dir}: {manifest.target}, {manifest.size_mb} MB, pooling {manifest.pooling}, "
        f"min cosine vs sentence-transformers {manifest.check_min_cosine}, {manifest.export_s} s\n"
        f"use it: adaptlab embed --model {out_dir} ..."
    )
