"""`adaptlab llm …`: instruction/preference data, LoRA SFT and DPO, evaluation, merge, GGUF export, chat.

One command per step; `adaptlab llm run CONFIG` chains them from a YAML file (configs/llm-sft-laws.yaml).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from adaptlab.cli.common import TrackingOpt, WorkspaceOpt, console, err_console
from adaptlab.cli.main import app
from adaptlab.errors import AdaptlabError
from adaptlab.llm.dpo_config import DPOConfig
from adaptlab.llm.sft_config import SFTConfig
from adaptlab.llm.stages import EvalConfig, ExportConfig, GenerateConfig, PrepareConfig, as_json

llm_app = typer.Typer(
    help="Fine-tune a small LLM: data → SFT / DPO with LoRA → evaluate → merge → GGUF → chat.",
    no_args_is_help=True,
)
app.add_typer(llm_app, name="llm")

_T = SFTConfig.model_fields
_D = DPOConfig.model_fields
_G = GenerateConfig.model_fields
_P = PrepareConfig.model_fields
_E = EvalConfig.model_fields


def _h(fields: dict, name: str) -> str:
    return fields[name].description or ""


def _ws(workspace: Path | None):  # noqa: ANN202
    from adaptlab.workspace import Workspace

    return Workspace.resolve(workspace)


def _validated(model: type, data: dict[str, Any]) -> Any:
    """A config from YAML section + flags; a bad value is one line naming the flag."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise AdaptlabError(f"--{str(problem['loc'][0]).replace('_', '-')}: {problem['msg']}") from None


def _section(config: Path | None, name: str) -> dict[str, Any]:
    if config is None:
        return {}
    from adaptlab.llm.pipeline import load_pipeline

    section = getattr(load_pipeline(config), name, None)
    return section.model_dump(exclude_unset=True) if section is not None else {}


def _write_json(path: Path | None, text: str) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@llm_app.command("generate")
def generate_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for instructions.jsonl and preferences.jsonl.")
    ],
    source: Annotated[
        str, typer.Option("--source", help=GenerateConfig.model_fields["source"].description)
    ] = "corpus",
    with_context: Annotated[
        bool, typer.Option("--context/--no-context", help="Section text in the prompt (open book) or not.")
    ] = True,
    max_words: Annotated[int, typer.Option("--max-words", help="Words of the grounded answer.")] = 40,
    context_chars: Annotated[
        int, typer.Option("--context-chars", help="Characters of section text in the prompt.")
    ] = 700,
    preference: Annotated[
        bool, typer.Option("--preference/--no-preference", help="Also write preference pairs.")
    ] = True,
    writer: Annotated[str, typer.Option("--writer", help=_h(_G, "writer"))] = "rules",
    base_url: Annotated[Optional[str], typer.Option("--base-url", help=_h(_G, "base_url"))] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env", help=_h(_G, "api_key_env"))] = "OPENAI_API_KEY",
    max_sections: Annotated[
        Optional[int], typer.Option("--max-sections", help=_h(_G, "max_sections"))
    ] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report here.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Instruction and preference pairs from law sections, by rule or written by an LLM (provenance kept)."""
    from adaptlab.llm.stages import generate_stage

    cfg = _validated(
        GenerateConfig,
        {
            "source": source,
            "out": str(out),
            "with_context": with_context,
            "max_words": max_words,
            "context_chars": context_chars,
            "preference": preference,
            "writer": writer,
            "base_url": base_url,
            "api_key_env": api_key_env,
            "max_sections": max_sections,
        },
    )
    report = generate_stage(cfg, _ws(workspace), err_console)
    if "writer" in report:
        w = report["writer"]
        console.print(
            f"{w['name']}: {w['written']} pairs written, {w['fallback']} by the rule after a rejected reply, "
            f"{w['dropped']} sections dropped",
            highlight=False,
        )
        for reason, n in w["rejected"].items():
            err_console.print(f"  rejected {n} × {reason}", highlight=False)
    _write_json(json_out, as_json(report))
    console.print(
        f"{report['instructions']} instruction pairs from {report['sections']} sections"
        + (f", {report['preferences']} preference pairs" if "preferences" in report else "")
        + f" → {out}"
    )


@llm_app.command("prepare")
def prepare_command(
    inputs: Annotated[list[Path], typer.Argument(help="Data files (.json, .jsonl, .csv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for train/val/test.jsonl.")],
    kind: Annotated[
        str, typer.Option("--kind", help="sft (Q&A, instruction, chat) or preference (chosen/rejected).")
    ] = "sft",
    val: Annotated[float, typer.Option("--val", help="Share of rows for validation.")] = 0.1,
    test: Annotated[float, typer.Option("--test", help="Share of rows held out for testing.")] = 0.1,
    split_by: Annotated[
        str, typer.Option("--split-by", help="source (whole sources per split) or id (row by row).")
    ] = "source",
    near_duplicate: Annotated[
        float, typer.Option("--near-duplicate", help="Jaccard threshold for near duplicates (1 = off).")
    ] = 0.9,
    augment: Annotated[bool, typer.Option("--augment/--no-augment", help=_h(_P, "augment"))] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report here.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Load and validate data files (bad rows counted with reasons), drop duplicates, split by source."""
    from adaptlab.llm.stages import prepare_stage

    cfg = _validated(
        PrepareConfig,
        {
            "inputs": [str(p) for p in inputs],
            "out": str(out),
            "kind": kind,
            "val": val,
            "test": test,
            "split_by": split_by,
            "near_duplicate": near_duplicate,
            "augment": augment,
        },
    )
    report = prepare_stage(cfg, _ws(workspace))
    for line in report.load_summaries:
        (err_console if "skipped" in line else console).print(line, highlight=False)
    console.print(
        f"{report.loaded} rows, {report.exact_duplicates} exact and {report.near_duplicates} near duplicates "
        f"dropped → train {report.counts['train']}, val {report.counts['val']}, test {report.counts['test']} "
        f"in {out}"
        + (
            f" (train includes {sum(report.augmented.values())} augmented rows: {report.augmented})"
            if augment
            else ""
        )
    )
    _write_json(json_out, as_json(report))


def _train_flags(**flags: Any) -> dict[str, Any]:
    modules = flags.pop("target_modules", None)
    if modules:
        flags["target_modules"] = [m.strip() for m in modules.split(",") if m.strip()]
    return {k: v for k, v in flags.items() if v is not None}


ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help=_h(_T, "model"))]
TemplateOpt = Annotated[Optional[str], typer.Option("--template", help=_h(_T, "template"))]
OutputOpt = Annotated[Optional[str], typer.Option("--output", "-o", help=_h(_T, "output"))]
StepsOpt = Annotated[Optional[int], typer.Option("--max-steps", help=_h(_T, "max_steps"))]
EpochsOpt = Annotated[Optional[float], typer.Option("--epochs", help=_h(_T, "epochs"))]
BatchOpt = Annotated[Optional[int], typer.Option("--batch-size", help=_h(_T, "batch_size"))]
AccumOpt = Annotated[Optional[int], typer.Option("--grad-accum", help=_h(_T, "gradient_accumulation"))]
LrOpt = Annotated[Optional[float], typer.Option("--lr", help="Peak learning rate (SFT 2e-4, DPO 5e-5).")]
LengthOpt = Annotated[Optional[int], typer.Option("--max-length", help=_h(_T, "max_length"))]
ExamplesOpt = Annotated[Optional[int], typer.Option("--max-examples", help=_h(_T, "max_examples"))]
RankOpt = Annotated[Optional[int], typer.Option("--lora-r", help=_h(_T, "lora_r"))]
AlphaOpt = Annotated[Optional[int], typer.Option("--lora-alpha", help=_h(_T, "lora_alpha"))]
DropoutOpt = Annotated[Optional[float], typer.Option("--lora-dropout", help=_h(_T, "lora_dropout"))]
TargetsOpt = Annotated[
    Optional[str], typer.Option("--target-modules", help="Comma-separated; " + _h(_T, "target_modules"))
]
SaveOpt = Annotated[Optional[int], typer.Option("--save-steps", help=_h(_T, "save_steps"))]
EvalStepsOpt = Annotated[Optional[int], typer.Option("--eval-steps", help=_h(_T, "eval_steps"))]
PatienceOpt = Annotated[
    Optional[int], typer.Option("--early-stopping", help=_h(_T, "early_stopping_patience"))
]
PrecisionOpt = Annotated[Optional[str], typer.Option("--precision", help=_h(_T, "precision"))]
CheckpointingOpt = Annotated[
    Optional[bool],
    typer.Option(
        "--gradient-checkpointing/--no-gradient-checkpointing",
        help=_h(_T, "gradient_checkpointing"),
        show_default=False,
    ),
]
QloraOpt = Annotated[
    Optional[bool], typer.Option("--qlora/--no-qlora", help=_h(_T, "qlora"), show_default=False)
]
YamlOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="LLM pipeline YAML whose section applies (flags override it)."),
]


def _report_training(result: Any, json_out: Path | None) -> None:
    resumed = f", resumed from {result.resumed_from}" if result.resumed_from else ""
    loss = f", final loss {result.final_loss:.3f}" if result.final_loss is not None else ""
    console.print(
        f"adapter → {result.adapter} ({result.train_examples} examples, {result.steps} steps, "
        f"{result.seconds:.0f} s{loss}{resumed})"
    )
    if result.skipped:
        err_console.print(f"skipped rows: {json.dumps(result.skipped)}")
    _write_json(json_out, json.dumps(result.as_dict(), indent=2, default=str))


@llm_app.command("sft")
def sft_command(
    train: Annotated[Optional[str], typer.Option("--train", help=_h(_T, "train"))] = None,
    val: Annotated[Optional[str], typer.Option("--val", help=_h(_T, "val"))] = None,
    model: ModelOpt = None,
    template: TemplateOpt = None,
    output: OutputOpt = None,
    max_steps: StepsOpt = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    grad_accum: AccumOpt = None,
    lr: LrOpt = None,
    max_length: LengthOpt = None,
    max_examples: ExamplesOpt = None,
    lora_r: RankOpt = None,
    lora_alpha: AlphaOpt = None,
    lora_dropout: DropoutOpt = None,
    target_modules: TargetsOpt = None,
    save_steps: SaveOpt = None,
    eval_steps: EvalStepsOpt = None,
    early_stopping: PatienceOpt = None,
    precision: PrecisionOpt = None,
    gradient_checkpointing: CheckpointingOpt = None,
    qlora: QloraOpt = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report here.")] = None,
    config: YamlOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """LoRA supervised fine-tuning (trl SFTTrainer); loss on answer tokens only; re-run to resume."""
    from adaptlab.llm.stages import sft_stage

    flags = _train_flags(
        train=train,
        val=val,
        model=model,
        template=template,
        output=output,
        max_steps=max_steps,
        epochs=epochs,
        batch_size=batch_size,
        gradient_accumulation=grad_accum,
        learning_rate=lr,
        max_length=max_length,
        max_examples=max_examples,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        target_modules=target_modules,
        save_steps=save_steps,
        eval_steps=eval_steps,
        early_stopping_patience=early_stopping,
        precision=precision,
        gradient_checkpointing=gradient_checkpointing,
        qlora=qlora,
    )
    cfg = _validated(SFTConfig, {**_section(config, "sft"), **flags})
    _report_training(sft_stage(cfg, _ws(workspace), tracking_uri), json_out)


@llm_app.command("dpo")
def dpo_command(
    train: Annotated[Optional[str], typer.Option("--train", help=_h(_D, "train"))] = None,
    val: Annotated[Optional[str], typer.Option("--val", help=_h(_D, "val"))] = None,
    adapter: Annotated[Optional[str], typer.Option("--adapter", help=_h(_D, "adapter"))] = None,
    beta: Annotated[Optional[float], typer.Option("--beta", help=_h(_D, "beta"))] = None,
    model: ModelOpt = None,
    template: TemplateOpt = None,
    output: OutputOpt = None,
    max_steps: StepsOpt = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    grad_accum: AccumOpt = None,
    lr: LrOpt = None,
    max_length: LengthOpt = None,
    max_examples: ExamplesOpt = None,
    lora_r: RankOpt = None,
    lora_alpha: AlphaOpt = None,
    lora_dropout: DropoutOpt = None,
    target_modules: TargetsOpt = None,
    save_steps: SaveOpt = None,
    eval_steps: EvalStepsOpt = None,
    early_stopping: PatienceOpt = None,
    precision: PrecisionOpt = None,
    gradient_checkpointing: CheckpointingOpt = None,
    qlora: QloraOpt = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report here.")] = None,
    config: YamlOpt = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """LoRA direct preference optimisation (trl DPOTrainer) on chosen/rejected pairs; re-run to resume."""
    from adaptlab.llm.stages import dpo_stage

    flags = _train_flags(
        train=train,
        val=val,
        adapter=adapter,
        beta=beta,
        model=model,
        template=template,
        output=output,
        max_steps=max_steps,
        epochs=epochs,
        batch_size=batch_size,
        gradient_accumulation=grad_accum,
        learning_rate=lr,
        max_length=max_length,
        max_examples=max_examples,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        target_modules=target_modules,
        save_steps=save_steps,
        eval_steps=eval_steps,
        early_stopping_patience=early_stopping,
        precision=precision,
        gradient_checkpointing=gradient_checkpointing,
        qlora=qlora,
    )
    cfg = _validated(DPOConfig, {**_section(config, "dpo"), **flags})
    _report_training(dpo_stage(cfg, _ws(workspace), tracking_uri), json_out)


def eval_table(report: dict[str, Any]) -> Table:
    """Models across (base = before, adapters = after), metrics down."""
    results = report["results"]
    table = Table(
        title=f"{report['kind']} evaluation on {report['rows']} held-out rows of {Path(report['data']).name}"
    )
    table.add_column("metric")
    for row in results:
        table.add_column(row["model"], justify="right")
    keys = [k for k in results[0] if k not in ("model", "adapter", "n")]
    for key in keys:
        table.add_row(
            key, *[f"{row[key]:.3f}" if isinstance(row[key], float) else str(row[key]) for row in results]
        )
    return table


@llm_app.command("eval")
def eval_command(
    data: Annotated[str, typer.Option("--data", help=EvalConfig.model_fields["data"].description)],
    adapter: Annotated[
        Optional[list[str]],
        typer.Option("--adapter", "-a", help="Adapter to compare with the base; repeatable."),
    ] = None,
    model: Annotated[
        Optional[str], typer.Option("--model", "-m", help="Base model (default: the adapter's base).")
    ] = None,
    template: TemplateOpt = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Evaluate at most this many rows.")] = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Answer length limit in tokens.")
    ] = 64,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Prompts per generation batch.")] = 8,
    skip_base: Annotated[bool, typer.Option("--skip-base", help="Do not evaluate the base model.")] = False,
    predictions: Annotated[
        Optional[str], typer.Option("--predictions", help="Write every prediction here (jsonl).")
    ] = None,
    judge: Annotated[Optional[str], typer.Option("--judge", help=_h(_E, "judge"))] = None,
    judge_base_url: Annotated[
        Optional[str], typer.Option("--judge-base-url", help=_h(_E, "judge_base_url"))
    ] = None,
    judge_api_key_env: Annotated[
        str, typer.Option("--judge-api-key-env", help=_h(_E, "judge_api_key_env"))
    ] = "OPENAI_API_KEY",
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report here.")] = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Before/after on held-out data: EM, token F1, BLEU, ROUGE-L, an optional LLM judge (or DPO margins)."""
    from adaptlab.llm.stages import eval_stage

    cfg = _validated(
        EvalConfig,
        {
            "data": data,
            "adapters": adapter or [],
            "model": model,
            "template": template,
            "limit": limit,
            "max_new_tokens": max_new_tokens,
            "batch_size": batch_size,
            "skip_base": skip_base,
            "predictions": predictions,
            "judge": judge,
            "judge_base_url": judge_base_url,
            "judge_api_key_env": judge_api_key_env,
        },
    )
    report = eval_stage(cfg, _ws(workspace), tracking_uri, err_console)
    console.print(eval_table(report))
    _write_json(json_out, as_json(report))


@llm_app.command("merge")
def merge_command(
    adapter: Annotated[str, typer.Argument(help="LoRA adapter folder (from llm sft or llm dpo).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Folder for the merged HF model.")],
    model: Annotated[
        Optional[str], typer.Option("--model", "-m", help="Base model (default: the adapter's base).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Fold LoRA into the base weights and save a standalone Hugging Face folder."""
    from adaptlab.llm.stages import MergeConfig, merge_stage

    out = merge_stage(
        _validated(MergeConfig, {"adapter": adapter, "output": output, "model": model}), _ws(workspace)
    )
    console.print(f"merged model → {out}")


@llm_app.command("export")
def export_command(
    model: Annotated[str, typer.Argument(help="Merged HF folder (Llama architecture for GGUF).")],
    out: Annotated[str, typer.Option("--out", "-o", help="GGUF file (or, with --format onnx, a folder).")],
    out_format: Annotated[
        str, typer.Option("--format", help="gguf (llama.cpp, ollama) or onnx (onnxruntime).")
    ] = "gguf",
    out_type: Annotated[
        str, typer.Option("--type", help="GGUF: f32 (exact) or f16 (half the size).")
    ] = "f32",
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Reload and compare greedy output on 5 prompts.")
    ] = True,
    check_tokens: Annotated[
        int, typer.Option("--check-tokens", help="Greedy tokens per prompt in the check.")
    ] = 32,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report here.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export a merged model to GGUF or ONNX and prove the export generates the same text."""
    from adaptlab.llm.stages import export_stage

    report = export_stage(
        _validated(
            ExportConfig,
            {
                "model": model,
                "out": out,
                "format": out_format,
                "type": out_type,
                "check": check,
                "check_tokens": check_tokens,
            },
        ),
        _ws(workspace),
    )
    if out_format == "onnx":
        console.print(f"ONNX (fp32, opset {report['opset']}, {report['mb']} MB) → {report['onnx']}")
    else:
        console.print(f"GGUF ({report['type']}, {report['mb']} MB) → {report['gguf']}")
    if "check" in report:
        verdict = report["check"]
        style = "green" if verdict["same"] else "red"
        console.print(
            f"[{style}]{verdict['matching']}/{verdict['prompts']} prompts: same greedy output as the HF model[/{style}]"
        )
        if "tokens_per_s" in verdict:
            console.print(f"greedy tokens/s: {verdict['tokens_per_s']}", highlight=False)
    _write_json(json_out, as_json(report))
    if "check" in report and not report["check"]["same"]:
        raise typer.Exit(1)


@llm_app.command("chat")
def chat_command(
    model: Annotated[
        Optional[str],
        typer.Option("--model", "-m", help="Base model, merged folder or .gguf (default smollm2-135m)."),
    ] = None,
    adapter: Annotated[Optional[str], typer.Option("--adapter", "-a", help="LoRA adapter to apply.")] = None,
    template: TemplateOpt = None,
    system: Annotated[Optional[str], typer.Option("--system", help="System prompt.")] = None,
    batch: Annotated[
        Optional[Path],
        typer.Option("--batch", help="Answer every row of this jsonl/json/csv file instead of chatting."),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Where --batch writes its answers (jsonl; default stdout)."),
    ] = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Reply length limit in tokens.")
    ] = 200,
    temperature: Annotated[float, typer.Option("--temperature", help="0 = greedy.")] = 0.0,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="--batch: prompts per generation batch.")
    ] = 8,
    workspace: WorkspaceOpt = None,
) -> None:
    """Chat with history and streaming; or, with --batch, answer a whole file (one JSON line per row)."""
    from adaptlab.llm.evaluate import resolve_inference
    from adaptlab.llm.models import SMOLLM2, load_model
    from adaptlab.llm.templates import ChatTemplate

    base, template_name = resolve_inference(model or (None if adapter else SMOLLM2), adapter, template)
    tokenizer, lm = load_model(base, _ws(workspace).model_cache, Path(adapter) if adapter else None)
    chat_template = ChatTemplate(template_name, tokenizer)
    prefix = [{"role": "system", "content": system}] if system else []
    if batch is not None:
        _batch_answers(lm, chat_template, batch, out, prefix, max_new_tokens, batch_size)
        return
    _interactive(lm, chat_template, prefix, max_new_tokens, temperature)


def _batch_answers(
    lm: Any,
    template: Any,
    path: Path,
    out: Path | None,
    prefix: list[dict[str, str]],
    max_new_tokens: int,
    batch_size: int,
) -> None:
    from adaptlab.llm.formats import RowError, prompt_of, read_rows
    from adaptlab.llm.generation import generate_batch
    from adaptlab.progress import make_progress

    prompts, rows, bad = [], [], 0
    for number, row in enumerate(read_rows(path), 1):
        try:
            if isinstance(row, RowError) or not isinstance(row, dict):
                raise RowError("row is not an object")
            turns = prompt_of(row)
            if turns[-1]["role"] == "assistant":
                turns = turns[:-1]
            prompts.append(prefix + turns)
            rows.append(row)
        except RowError as exc:
            bad += 1
            err_console.print(f"{path} row {number}: {exc}; skipped", highlight=False)
    with make_progress(err_console, unit="answers") as progress:
        task = progress.add_task("answering", total=len(prompts))
        answers = generate_batch(
            lm, template, prompts, max_new_tokens, batch_size, lambda n: progress.advance(task, n)
        )
    lines = [
        json.dumps({**row, "generated": answer}, ensure_ascii=False) for row, answer in zip(rows, answers)
    ]
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print(f"{len(lines)} answers → {out}" + (f" ({bad} rows skipped)" if bad else ""))
    else:
        for line in lines:
            print(line)


def _interactive(
    lm: Any, template: Any, history: list[dict[str, str]], max_new_tokens: int, temperature: float
) -> None:
    from adaptlab.llm.generation import stream_reply

    err_console.print("chat: empty line or Ctrl-D ends, /reset clears the history")
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            break
        if not line:
            break
        if line == "/reset":
            history = [m for m in history if m["role"] == "system"]
            continue
        history.append({"role": "user", "content": line})
        console.print("assistant> ", end="")
        reply = ""
        for piece in stream_reply(lm, template, history, max_new_tokens, temperature):
            reply += piece
            console.print(piece, end="", highlight=False, markup=False)
        console.print()
        history.append({"role": "assistant", "content": reply.strip()})


@llm_app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="LLM pipeline YAML (see configs/llm-sft-laws.yaml).")],
    json_out: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the chain's report here.")
    ] = None,
    workspace: WorkspaceOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Run the chain a YAML describes: generate → prepare → sft → eval → dpo → merge → export."""
    from adaptlab.llm.pipeline import load_pipeline, run_pipeline

    report = run_pipeline(load_pipeline(config), workspace, tracking_uri, err_console)
    for step, value in report.items():
        if step == "eval":
            console.print(eval_table(value))
        else:
            console.print(f"[bold]{step}[/bold]: {json.dumps(value, default=str)[:300]}", highlight=False)
    _write_json(json_out, json.dumps(report, indent=2, default=str))
