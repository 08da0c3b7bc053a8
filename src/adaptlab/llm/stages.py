"""One function per `adaptlab llm` step, called alike by the CLI and by the YAML chain (`llm run`).

Each takes a pydantic section (its fields are the YAML keys and the CLI's help), does its work with
the library modules next to it, logs an MLflow run where it computes something, and returns a report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adaptlab.errors import AdaptlabError
from adaptlab.llm.formats import Kind, load_file, write_jsonl
from adaptlab.workspace import Workspace


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateConfig(Step):
    """Instruction (and preference) pairs from law sections, by rule, with provenance."""

    source: str = Field(
        "corpus",
        description="'corpus' (the workspace's ingested corpus) or a folder of law "
        "Markdown files (e.g. ${data}/gesetze).",
    )
    out: str = Field(..., description="Folder for instructions.jsonl (and preferences.jsonl).")
    with_context: bool = Field(True, description="Put the section text in the prompt (open book, RAG-style).")
    max_words: int = Field(
        40, gt=0, description="Grounded answer: the section's opening sentences up to this many words."
    )
    context_chars: int = Field(700, gt=0, description="Section text shown in the prompt, in characters.")
    preference: bool = Field(
        True, description="Also write preference pairs (rejected = another section's answer)."
    )
    writer: str = Field(
        "rules",
        description="Who writes the pairs: 'rules' (heading → question), a local model ('smollm2-135m' or an "
        "HF folder) or 'openai:MODEL' (an OpenAI-compatible endpoint); rejected LLM replies fall back to the rule.",
    )
    base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint for 'openai:' writers (default: $OPENAI_BASE_URL)."
    )
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the endpoint's key.")
    max_sections: int | None = Field(
        None, gt=0, description="Use at most this many sections (LLM writing is slow on CPU)."
    )
    writer_max_tokens: int = Field(160, gt=0, description="Token limit of each LLM-written reply.")


class PrepareConfig(Step):
    """Load, validate, de-duplicate and split data files."""

    inputs: list[str] = Field(
        ..., min_length=1, description="Data files (.json, .jsonl, .csv) in any supported format."
    )
    out: str = Field(..., description="Folder for train.jsonl, val.jsonl and test.jsonl.")
    kind: Kind = Field("sft", description="sft (Q&A, instruction, chat) or preference (chosen/rejected).")
    val: float = Field(0.1, ge=0, lt=1, description="Share of rows for validation.")
    test: float = Field(0.1, ge=0, lt=1, description="Share of rows held out for testing.")
    split_by: Literal["source", "id"] = Field(
        "source",
        description="source: whole sources (laws, documents, files) go to one split; id: row by row.",
    )
    near_duplicate: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Jaccard similarity (word 3-grams) from which rows "
        "are near duplicates; 1 keeps near duplicates.",
    )
    seed: int = Field(0, description="Seed of the split order (and of augmentation).")
    augment: bool = Field(
        False,
        description="Add augmented copies of train rows (question paraphrase, context sentence drop and "
        "shuffle; answers unchanged); val and test are never augmented.",
    )
    augment_ops: list[Literal["paraphrase", "drop-sentence", "shuffle"]] = Field(
        default_factory=lambda: ["paraphrase", "drop-sentence", "shuffle"],
        description="Augmentations to apply (each makes at most one new row per row).",
    )


class EvalConfig(Step):
    """Held-out evaluation: answers (EM, token F1, BLEU, ROUGE-L) or preference reward margins."""

    data: str = Field(
        ..., description="Held-out file: SFT rows are answered and scored; preference rows give margins."
    )
    model: str | None = Field(None, description="Base model (default: the adapter's base).")
    adapters: list[str] = Field(
        default_factory=list, description="Adapters to compare with the base (after)."
    )
    template: str | None = Field(None, description="Prompt template (default: the adapter's).")
    limit: int | None = Field(None, gt=0, description="Evaluate at most this many rows.")
    max_new_tokens: int = Field(64, gt=0, description="Answer length limit in tokens.")
    batch_size: int = Field(8, gt=0, description="Prompts per generation batch.")
    beta: float = Field(0.1, gt=0, description="DPO beta for reward margins.")
    max_length: int = Field(256, gt=8, description="Token limit for margin scoring.")
    skip_base: bool = Field(False, description="Do not evaluate the base model.")
    predictions: str | None = Field(None, description="Write every prediction here (jsonl).")
    judge: str | None = Field(
        None,
        description="LLM-as-judge scoring each answer 1-5 (faithfulness, correctness, language): "
        "'smollm2-135m', a local HF folder or 'openai:MODEL'.",
    )
    judge_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint for an 'openai:' judge (default: $OPENAI_BASE_URL)."
    )
    judge_api_key_env: str = Field(
        "OPENAI_API_KEY", description="Environment variable holding the judge's key."
    )
    judge_max_tokens: int = Field(48, gt=0, description="Token limit of each verdict.")


class MergeConfig(Step):
    adapter: str | None = Field(
        None,
        description="LoRA adapter folder (from llm sft or llm dpo; in a chain, "
        "default the chain's last adapter).",
    )
    output: str = Field(..., description="Folder for the merged HF model.")
    model: str | None = Field(None, description="Base model (default: the adapter's base).")


class ExportConfig(Step):
    model: str | None = Field(
        None,
        description="Merged HF folder (Llama architecture) to export; in a chain, "
        "default the merge step's output.",
    )
    out: str = Field(..., description="GGUF file to write (--format gguf) or folder (--format onnx).")
    format: Literal["gguf", "onnx"] = Field(
        "gguf", description="gguf (llama.cpp, ollama) or onnx (onnxruntime; fp32, with KV cache)."
    )
    type: Literal["f32", "f16"] = Field(
        "f32", description="GGUF tensor type: f32 (exact) or f16 (half the size)."
    )
    check: bool = Field(
        True, description="Reload the export and compare greedy output on five fixed prompts."
    )
    check_tokens: int = Field(32, gt=0, description="Greedy tokens generated per prompt by the check.")


@dataclass
class PrepareReport:
    counts: dict[str, int]
    loaded: int
    skipped: dict[str, int]
    exact_duplicates: int
    near_duplicates: int
    files: dict[str, str]
    load_summaries: list[str] = field(default_factory=list)
    augmented: dict[str, int] = field(default_factory=dict)


def workspace_path(value: str, workspace: Workspace) -> Path:
    """`${data}` → the shared data folder, `${workspace}` → the workspace root."""
    from adaptlab.config import expand_path

    return expand_path(value.replace("${workspace}", str(workspace.root)))


def _written(
    cfg: GenerateConfig, sections: list[Any], workspace: Workspace, console: Any
) -> tuple[list[Any], dict[str, Any]]:
    """Pairs written by the configured LLM, rejected replies replaced by the rule's pair."""
    from adaptlab.llm.chat_models import load_chat_model
    from adaptlab.llm.llm_writer import LOCAL_PREFILL, written_examples
    from adaptlab.progress import make_progress

    writer = load_chat_model(cfg.writer, workspace.model_cache, cfg.base_url, cfg.api_key_env, LOCAL_PREFILL)
    with make_progress(console, unit="pairs") as progress:
        task = progress.add_task(f"writing ({writer.name})", total=len(sections))
        examples, report = written_examples(
            sections,
            writer,
            cfg.with_context,
            cfg.max_words,
            cfg.context_chars,
            cfg.writer_max_tokens,
            lambda n: progress.advance(task, n),
        )
    return examples, {"name": writer.name, **report.as_dict()}


def generate_stage(cfg: GenerateConfig, workspace: Workspace, console: Any = None) -> dict[str, Any]:
    from adaptlab.llm.corpus_data import (
        instruction_examples,
        preference_pairs,
        sections_from_markdown,
        sections_from_store,
    )

    if cfg.source == "corpus":
        if not workspace.corpus_db.is_file():
            raise AdaptlabError(
                f"no corpus in {workspace.root}; run `adaptlab ingest` first or pass a law folder"
            )
        from adaptlab.corpus.store import CorpusStore

        with CorpusStore(workspace.corpus_db) as store:
            sections = sections_from_store(store)
    else:
        sections = sections_from_markdown(workspace_path(cfg.source, workspace))
    if not sections:
        raise AdaptlabError(f"{cfg.source}: no law sections (§ headings) found to generate from")
    sections = sections[: cfg.max_sections] if cfg.max_sections else sections
    written: dict[str, Any] | None = None
    if cfg.writer == "rules":
        examples = instruction_examples(sections, cfg.with_context, cfg.max_words, cfg.context_chars)
        for example in examples:
            example.meta["writer"] = "rules"
    else:
        examples, written = _written(cfg, sections, workspace, console)
    out = workspace_path(cfg.out, workspace)
    files = {"instructions": str(write_jsonl(examples, out / "instructions.jsonl"))}
    report: dict[str, Any] = {"sections": len(sections), "instructions": len(examples), "files": files}
    if written is not None:
        report["writer"] = written
    if cfg.preference:
        pairs = preference_pairs(examples)
        files["preferences"] = str(write_jsonl(pairs, out / "preferences.jsonl"))
        report["preferences"] = len(pairs)
    return report


def prepare_stage(cfg: PrepareConfig, workspace: Workspace) -> PrepareReport:
    from collections import Counter

    from adaptlab.llm.cleaning import dedupe, split_by_source

    items: list[Any] = []
    skipped: Counter[str] = Counter()
    summaries = []
    for name in cfg.inputs:
        report = load_file(workspace_path(name, workspace), cfg.kind)
        items.extend(report.items)
        skipped.update(report.skipped)
        summaries.append(report.summary())
    if not items:
        raise AdaptlabError("no usable rows: " + " | ".join(summaries))
    kept, dups = dedupe(items, threshold=cfg.near_duplicate)
    splits = split_by_source(kept, cfg.val, cfg.test, cfg.seed, key=cfg.split_by)
    augmented: dict[str, int] = {}
    if cfg.augment:  # after the split and on train only, so no variant of a test row is trained on
        from adaptlab.llm.augment import augment_examples

        extra, counts = augment_examples(splits["train"], cfg.augment_ops, cfg.seed)
        splits["train"] = [*splits["train"], *extra]
        augmented = dict(counts)
    out = workspace_path(cfg.out, workspace)
    files = {name: str(write_jsonl(rows, out / f"{name}.jsonl")) for name, rows in splits.items()}
    return PrepareReport(
        {k: len(v) for k, v in splits.items()},
        len(items),
        dict(skipped),
        dups.exact,
        dups.near,
        files,
        summaries,
        augmented,
    )


def _tracking(uri: str | None, workspace: Workspace, name: str):  # noqa: ANN202
    from adaptlab.tracking.mlflow_runs import tracked_run

    return tracked_run(workspace, name, tracking_uri=uri)


def sft_stage(cfg: Any, workspace: Workspace, tracking_uri: str | None = None) -> Any:
    from adaptlab.llm.sft_trainer import train_sft

    cfg = _resolve_paths(cfg, workspace)
    with _tracking(tracking_uri, workspace, "llm-sft") as logger:
        result = train_sft(cfg, logger, workspace.model_cache)
        logger.log_dict(result.as_dict(), "llm_sft.json")
    return result


def dpo_stage(cfg: Any, workspace: Workspace, tracking_uri: str | None = None) -> Any:
    from adaptlab.llm.dpo_trainer import train_dpo

    cfg = _resolve_paths(cfg, workspace)
    with _tracking(tracking_uri, workspace, "llm-dpo") as logger:
        result = train_dpo(cfg, logger, workspace.model_cache)
        logger.log_dict(result.as_dict(), "llm_dpo.json")
    return result


def _resolve_paths(cfg: Any, workspace: Workspace) -> Any:
    updates = {
        k: str(workspace_path(getattr(cfg, k), workspace))
        for k in ("train", "val", "output", "adapter")
        if isinstance(getattr(cfg, k, None), str)
    }
    return cfg.model_copy(update=updates)


def eval_stage(
    cfg: EvalConfig, workspace: Workspace, tracking_uri: str | None = None, console: Any = None
) -> dict[str, Any]:
    """Base (before) and each adapter (after) on the same held-out rows."""
    from adaptlab.llm.evaluate import evaluate_answers, preference_margins, resolve_inference
    from adaptlab.llm.models import load_model
    from adaptlab.llm.templates import ChatTemplate
    from adaptlab.progress import make_progress

    path = workspace_path(cfg.data, workspace)
    rows = load_file(path, "sft")
    kind = "sft"
    if not rows.items:
        rows, kind = load_file(path, "preference"), "preference"
    if not rows.items:
        raise AdaptlabError(f"{path}: no usable rows for evaluation ({rows.summary()})")
    items = rows.items[: cfg.limit] if cfg.limit else rows.items
    adapters = [str(workspace_path(a, workspace)) for a in cfg.adapters]
    base_name, template_name = resolve_inference(cfg.model, adapters[0] if adapters else None, cfg.template)
    tokenizer, base = load_model(base_name, workspace.model_cache)
    template = ChatTemplate(template_name, tokenizer)
    candidates: list[tuple[str, str | None]] = ([] if cfg.skip_base else [("base", None)]) + [
        (Path(a).name, a) for a in adapters
    ]
    if not candidates:
        raise AdaptlabError("nothing to evaluate: give --adapter or drop --skip-base")
    judge = None
    if cfg.judge and kind == "sft":
        from adaptlab.llm.chat_models import load_chat_model
        from adaptlab.llm.judge import LOCAL_PREFILL

        judge = load_chat_model(
            cfg.judge, workspace.model_cache, cfg.judge_base_url, cfg.judge_api_key_env, LOCAL_PREFILL
        )
    results: list[dict[str, Any]] = []
    predictions: list[dict[str, Any]] = []
    with _tracking(tracking_uri, workspace, "llm-eval") as logger:
        logger.log_params(
            {
                "stage": "llm-eval",
                "data": str(path),
                "kind": kind,
                "rows": len(items),
                "model": base_name,
                "adapters": adapters,
                "template": template_name,
                "judge": getattr(judge, "name", None),
            }
        )
        for name, adapter in candidates:
            model = base
            if adapter:
                from peft import PeftModel

                model = PeftModel.from_pretrained(base, adapter).eval()
            if kind == "sft":
                with make_progress(console, unit="answers") as progress:
                    task = progress.add_task(f"answering ({name})", total=len(items))
                    scored = evaluate_answers(
                        model,
                        template,
                        items,
                        name,
                        cfg.max_new_tokens,
                        cfg.batch_size,
                        lambda n, t=task: progress.advance(t, n),
                    )
                metrics = scored.metrics
                rows = [{"model": name, **row} for row in scored.predictions]
                if judge is not None:
                    metrics = {**metrics, **_judged(judge, items, rows, cfg.judge_max_tokens, console, name)}
                predictions += rows
            else:
                metrics = preference_margins(model, template, items, cfg.beta, cfg.max_length)
            logger.log_metrics(
                {f"{name}.{k}": v for k, v in metrics.items() if isinstance(v, (int, float)) and v == v}
            )
            results.append({"model": name, "adapter": adapter, **metrics})
            if adapter:
                base = model.unload()  # the next adapter starts from the clean base again
    if cfg.predictions and predictions:
        write_jsonl(predictions, workspace_path(cfg.predictions, workspace))
    return {
        "data": str(path),
        "kind": kind,
        "rows": len(items),
        "model": base_name,
        "template": template_name,
        "results": results,
    }


def _judged(
    judge: Any, items: list[Any], rows: list[dict[str, Any]], max_tokens: int, console: Any, name: str
) -> dict[str, Any]:
    """The judge's verdict on every prediction (kept in the rows) and the summary metrics."""
    from adaptlab.llm.judge import judge_answers
    from adaptlab.progress import make_progress

    with make_progress(console, unit="verdicts") as progress:
        task = progress.add_task(f"judging ({name})", total=len(rows))
        result = judge_answers(
            judge,
            [e.prompt_messages[-1]["content"] for e in items],
            [row["reference"] for row in rows],
            [row["prediction"] for row in rows],
            max_tokens,
            lambda n: progress.advance(task, n),
        )
    for row, verdict, reply in zip(rows, result.verdicts, result.replies):
        row["judge"] = verdict.model_dump() if verdict is not None else {"unparsable": reply}
    return result.metrics()


def merge_stage(cfg: MergeConfig, workspace: Workspace) -> Path:
    from adaptlab.llm.merge import merge_lora

    if cfg.adapter is None:
        raise AdaptlabError("merge: no adapter given")
    return merge_lora(
        workspace_path(cfg.adapter, workspace),
        workspace_path(cfg.output, workspace),
        cfg.model,
        workspace.model_cache,
    )


def export_stage(cfg: ExportConfig, workspace: Workspace) -> dict[str, Any]:
    from adaptlab.llm.gguf_export import compare_greedy, export_gguf

    if cfg.model is None:
        raise AdaptlabError("export: no model folder given")
    folder = workspace_path(cfg.model, workspace)
    if not (folder / "config.json").is_file():
        raise AdaptlabError(f"{folder}: not an HF model folder; merge an adapter first (adaptlab llm merge)")
    if cfg.format == "onnx":
        return _export_onnx(folder, workspace_path(cfg.out, workspace), cfg.check, cfg.check_tokens)
    out = export_gguf(folder, workspace_path(cfg.out, workspace), cfg.type)
    report: dict[str, Any] = {"gguf": str(out), "mb": round(out.stat().st_size / 1e6, 1), "type": cfg.type}
    if cfg.check:
        report["check"] = compare_greedy(folder, out, max_new_tokens=cfg.check_tokens)
    return report


def _export_onnx(folder: Path, out: Path, check: bool, tokens: int) -> dict[str, Any]:
    """ONNX folder, reloaded with onnxruntime and checked; the report is also its manifest."""
    from adaptlab.llm.onnx_export import compare_onnx_greedy, export_onnx, write_manifest

    report: dict[str, Any] = {"format": "onnx", "source": str(folder), **export_onnx(folder, out)}
    if check:
        report["check"] = compare_onnx_greedy(folder, out, max_new_tokens=tokens)
    write_manifest(out, report)
    return report


def as_dict(report: Any) -> Any:
    return asdict(report) if hasattr(report, "__dataclass_fields__") else report


def as_json(report: Any) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False, default=str)
