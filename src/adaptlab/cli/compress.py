"""`adaptlab compress`: what each embedding compression keeps of float32 quality, per byte saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from adaptlab.cli.common import ConfigOpt, MilvusOpt, TrackingOpt, WorkspaceOpt, console, err_console, session_config
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
    to: Annotated[str, typer.Option("--to", help="onnx-int8 (fused graph, dynamic int8), onnx-fp32 (fused graph) or layer-drop (fewer layers, distilled).")] = "onnx-int8",
    fuse: Annotated[bool, typer.Option("--fuse/--no-fuse", help="Fuse attention, LayerNorm and GELU with onnxruntime's optimiser.")] = True,
    layers: Annotated[int, typer.Option("--layers", help="layer-drop: encoder layers the student keeps, evenly spread up to the last (6 → 3: 1,3,5).")] = 3,
    keep: Annotated[str | None, typer.Option("--keep", help="layer-drop: exact layers to keep, e.g. 1,3,5 (overrides --layers).")] = None,
    sentences: Annotated[int, typer.Option("--sentences", min=0, help="layer-drop: distillation texts from the shared corpora (laws/OEO train, STSb, Tatoeba); 0 = drop only.")] = 2000,
    epochs: Annotated[float, typer.Option("--epochs", min=0.01, help="layer-drop: passes over the distillation texts.")] = 1.0,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="layer-drop: stop after this many steps.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="layer-drop: register the student under NAME (default: the folder's name) so --model NAME works.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export an encoder to ONNX (torch.onnx.export), optionally int8-quantised, or make a smaller student by
    layer dropping plus distillation (--to layer-drop); the folder then works as `--model OUT_DIR` in embed,
    search and eval."""
    from adaptlab.compress.onnx_export import TARGETS, export_onnx
    from adaptlab.errors import AdaptlabError
    from adaptlab.models.registry import get_spec
    from adaptlab.models.resolve import sentence_transformers_dir
    from adaptlab.workspace import Workspace

    if to not in (*TARGETS, "layer-drop"):
        raise AdaptlabError(f"--to '{to}' is not a target; choose from {', '.join((*TARGETS, 'layer-drop'))}")
    if to == "layer-drop":
        _layer_drop_command(out_dir, model, layers, keep, sentences, epochs, max_steps, name, workspace)
        return
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


def _layer_drop_command(out_dir: Path, model: str, layers: int, keep: str | None, sentences: int, epochs: float,
                        max_steps: int | None, name: str | None, workspace: Path | None) -> None:
    """Drop layers, distil, save, register: `compress model --to layer-drop`."""
    from adaptlab.compress.layer_drop import corpus_sentences, layer_drop, parse_keep, spread_layers
    from adaptlab.errors import AdaptlabError
    from adaptlab.models.registry import get_spec
    from adaptlab.models.resolve import sentence_transformers_dir
    from adaptlab.train.model_store import register_model, resolve_model
    from adaptlab.workspace import Workspace

    ws = Workspace.resolve(workspace)
    spec = get_spec(resolve_model(ws, model))
    if spec.backend != "sentence-transformers":
        raise AdaptlabError(f"model '{model}' runs on {spec.backend}; layer-drop needs a sentence-transformers model")
    folder = sentence_transformers_dir(spec, ws.model_cache)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    total = int(config.get("num_hidden_layers", 0))
    kept = parse_keep(keep, total) if keep else spread_layers(total, layers)
    texts, sources = corpus_sentences(sentences) if sentences else ([], {})
    with err_console.status(f"layer-drop {spec.name}: keeping layers {kept} of {total}, distilling on {len(texts)} texts ..."):
        report = layer_drop(folder, out_dir, kept, texts=texts, sources=sources, epochs=epochs, max_steps=max_steps,
                            source_name=spec.name)
    entry = register_model(ws, name or Path(out_dir).name, out_dir)
    console.print(
        f"{out_dir}: layers {report.layers_kept} of {report.layers_before}, {report.size_mb} MB, "
        f"{report.train_sentences} texts, {report.steps} steps, {report.train_s} s, last loss {report.final_loss}\n"
        f"registered as '{name or Path(out_dir).name}' ({entry['key']}); use it: adaptlab embed --model {name or Path(out_dir).name} ..."
    )


@compress_app.command("apply")
def compress_apply_command(
    codec: Annotated[str, typer.Option("--codec", help="int8 (HNSW_SQ), int8-ivf (IVF_SQ8) or float32 (HNSW, undo).")] = "int8",
    model: Annotated[str, typer.Option("--model", "-m", help="Model whose collection to re-index (zoo, registered name or folder).")] = "minilm",
    write_config: Annotated[Path | None, typer.Option("--write-config", help="Experiment YAML whose vectors: section records the new index (default: --config, else <workspace>/results/compress/compress_config.yaml).")] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    milvus_uri: MilvusOpt = None,
) -> None:
    """Apply the chosen codec to the model's Milvus collection: rebuild its vector index in place (rows stay,
    nothing is re-embedded) and record the index in the experiment config."""
    from adaptlab.compress.apply import CODECS, apply_codec
    from adaptlab.errors import AdaptlabError
    from adaptlab.pipeline import Session

    if codec not in CODECS:
        raise AdaptlabError(f"--codec '{codec}' cannot be applied to Milvus; choose from {', '.join(CODECS)}")
    with Session.open(workspace, session_config(config), milvus_uri, "none", console=err_console) as session:
        target = write_config or config or session.workspace.root / "results" / "compress" / "compress_config.yaml"
        collection = session.collection(model)
        with err_console.status(f"re-indexing {collection} for {codec} ..."):
            report = apply_codec(session.vectors, collection, codec, target)
    console.print(
        f"{report.collection}: {report.rows} vectors, index {report.index_before} → {report.index_after} "
        f"{report.params} (search {report.search_params}), {report.seconds} s\nconfig: {report.config}"
    )
