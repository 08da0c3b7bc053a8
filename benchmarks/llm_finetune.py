"""LLM fine-tuning on CPU: LoRA SFT and DPO of SmolLM2-135M-Instruct, measured on held-out data.

1. SFT on instruction pairs generated from the German laws (rule heading → question, grounded answer,
   open book), split by law: token F1 / EM / BLEU / ROUGE-L of the base and the tuned model on
   questions about laws never trained on; training time.
2. DPO on dpo_en_demo (split by row): held-out reward margin (β·log-ratio chosen − rejected against the
   base) and the policy's own chosen-vs-rejected log-prob margin and accuracy, before and after; time.
3. Merge the SFT adapter, export GGUF (f32), reload it and compare greedy output with the merged HF
   model on five fixed prompts.
Writes docs/results/llm_finetune.json. Timings are on a shared, loaded 2-core machine.

    .venv/bin/python benchmarks/llm_finetune.py            # ~15-25 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from adaptlab.datasets import dataset_dir  # noqa: E402
from adaptlab.jsonio import write_json  # noqa: E402
from adaptlab.llm.cleaning import dedupe, split_by_source  # noqa: E402
from adaptlab.llm.corpus_data import instruction_examples, sections_from_markdown  # noqa: E402
from adaptlab.llm.dpo_config import DPOConfig  # noqa: E402
from adaptlab.llm.dpo_trainer import train_dpo  # noqa: E402
from adaptlab.llm.evaluate import evaluate_answers, preference_margins  # noqa: E402
from adaptlab.llm.formats import load_file, write_jsonl  # noqa: E402
from adaptlab.llm.gguf_export import compare_greedy, export_gguf  # noqa: E402
from adaptlab.llm.merge import merge_lora  # noqa: E402
from adaptlab.llm.models import SMOLLM2, load_model  # noqa: E402
from adaptlab.llm.sft_config import SFTConfig  # noqa: E402
from adaptlab.llm.sft_trainer import train_sft  # noqa: E402
from adaptlab.llm.templates import ChatTemplate  # noqa: E402
from adaptlab.tracking.mlflow_runs import RunLogger  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OFF = RunLogger(None, None)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sft_part(args: argparse.Namespace, work: Path, cache: Path) -> dict:
    examples = instruction_examples(
        sections_from_markdown(dataset_dir("gesetze")),
        with_context=True,
        max_words=args.answer_words,
        context_chars=args.context_chars,
    )
    examples, dup = dedupe(examples)
    splits = split_by_source(examples, val=0.1, test=0.2, seed=0)
    rng = random.Random(0)
    train = rng.sample(splits["train"], min(len(splits["train"]), args.sft_steps * args.batch_size))
    test = rng.sample(splits["test"], min(len(splits["test"]), args.test_examples))
    train_file = write_jsonl(train, work / "laws-train.jsonl")
    write_jsonl(test, work / "laws-test.jsonl")
    log(
        f"laws: {len(examples)} pairs ({dup.exact} exact, {dup.near} near duplicates dropped); "
        f"train laws {sorted({e.source for e in splits['train']})}, test laws {sorted({e.source for e in splits['test']})}"
    )
    tokenizer, base = load_model(SMOLLM2, cache)
    template = ChatTemplate("tokenizer", tokenizer)
    log(f"base model: generating {len(test)} held-out answers")
    before = evaluate_answers(base, template, test, "base", args.max_new_tokens, 8)
    log(f"base {before.metrics} in {before.seconds:.0f} s")
    cfg = SFTConfig(
        model=SMOLLM2,
        train=str(train_file),
        output=str(work / "sft-adapter"),
        max_steps=args.sft_steps,
        batch_size=args.batch_size,
        learning_rate=args.sft_lr,
        max_length=args.max_length,
        save_steps=max(5, args.sft_steps // 2),
        logging_steps=5,
        lora_r=16,
        lora_alpha=32,
        target_modules=["all-linear"],
    )
    log(f"SFT: {cfg.max_steps} steps × batch {cfg.batch_size}, max_length {cfg.max_length}")
    trained = train_sft(cfg, OFF, cache)
    from peft import PeftModel

    tuned = PeftModel.from_pretrained(base, trained.adapter).eval()
    after = evaluate_answers(tuned, template, test, "sft", args.max_new_tokens, 8)
    log(f"tuned {after.metrics} in {after.seconds:.0f} s; training {trained.seconds:.0f} s")
    return {
        "data": {
            "source": "gesetze (rule heading-question, open book)",
            "pairs": len(examples),
            "exact_duplicates": dup.exact,
            "near_duplicates": dup.near,
            "train_laws": sorted({e.source for e in splits["train"]}),
            "test_laws": sorted({e.source for e in splits["test"]}),
            "train_examples_used": len(train),
            "test_examples": len(test),
        },
        "config": cfg.model_dump(),
        "base": before.metrics,
        "tuned": after.metrics,
        "token_f1_gain": after.metrics["token_f1"] - before.metrics["token_f1"],
        "token_f1_ratio": after.metrics["token_f1"] / max(before.metrics["token_f1"], 1e-9),
        "train_seconds": trained.seconds,
        "steps": trained.steps,
        "final_loss": trained.final_loss,
        "eval_seconds": {"base": before.seconds, "tuned": after.seconds},
        "examples": [
            {
                "prompt": e.prompt_messages[-1]["content"][-160:],
                "reference": e.answer,
                "base": b["prediction"],
                "tuned": t["prediction"],
            }
            for e, b, t in list(zip(test, before.predictions, after.predictions))[:3]
        ],
        "adapter": trained.adapter,
    }


def dpo_part(args: argparse.Namespace, work: Path, cache: Path) -> dict:
    from peft import PeftModel

    pairs = load_file(dataset_dir("llm") / "dpo_en_demo.json", "preference").items
    splits = split_by_source(pairs, val=0.0, test=args.dpo_test / len(pairs), seed=0, key="id")
    rng = random.Random(0)
    train = rng.sample(splits["train"], min(len(splits["train"]), args.dpo_steps * args.dpo_batch))
    test = splits["test"]
    train_file = write_jsonl(train, work / "dpo-train.jsonl")
    tokenizer, base = load_model(SMOLLM2, cache)
    template = ChatTemplate("tokenizer", tokenizer)
    start = time.perf_counter()
    before = preference_margins(base, template, test, beta=args.beta, max_length=args.max_length)
    margin_seconds = time.perf_counter() - start
    log(f"DPO held-out before: {before}")
    cfg = DPOConfig(
        model=SMOLLM2,
        train=str(train_file),
        output=str(work / "dpo-adapter"),
        max_steps=args.dpo_steps,
        batch_size=args.dpo_batch,
        learning_rate=args.dpo_lr,
        max_length=args.max_length,
        beta=args.beta,
        save_steps=max(5, args.dpo_steps // 2),
        logging_steps=5,
        lora_r=16,
        lora_alpha=32,
        target_modules=["all-linear"],
    )
    trained = train_dpo(cfg, OFF, cache)
    policy = PeftModel.from_pretrained(base, trained.adapter).eval()
    after = preference_margins(policy, template, test, beta=args.beta, max_length=args.max_length)
    log(f"DPO held-out after: {after}; training {trained.seconds:.0f} s")
    return {
        "data": {
            "source": "llm/dpo_en_demo.json",
            "pairs": len(pairs),
            "train_pairs_used": len(train),
            "test_pairs": len(test),
        },
        "config": cfg.model_dump(),
        "before": before,
        "after": after,
        "reward_margin_gain": after["reward_margin"] - before["reward_margin"],
        "logp_margin_gain": after["logp_margin"] - before["logp_margin"],
        "train_seconds": trained.seconds,
        "steps": trained.steps,
        "final_loss": trained.final_loss,
        "margin_eval_seconds": margin_seconds,
    }


def export_part(adapter: str, work: Path, cache: Path) -> dict:
    start = time.perf_counter()
    merged = merge_lora(Path(adapter), work / "merged", cache_dir=cache)
    merge_seconds = time.perf_counter() - start
    start = time.perf_counter()
    gguf = export_gguf(merged, work / "gguf" / "smollm2-laws-f32.gguf", "f32")
    export_seconds = time.perf_counter() - start
    check = compare_greedy(merged, gguf, max_new_tokens=24)
    log(f"GGUF: {check['matching']}/{check['prompts']} prompts give the same greedy output")
    return {
        "merge_seconds": merge_seconds,
        "export_seconds": export_seconds,
        "gguf_type": "f32",
        "gguf_mb": gguf.stat().st_size / 1e6,
        **check,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft-steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--sft-lr", type=float, default=5e-4)
    parser.add_argument("--answer-words", type=int, default=12)
    parser.add_argument("--context-chars", type=int, default=200)
    parser.add_argument("--test-examples", type=int, default=24)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--dpo-steps", type=int, default=12)
    parser.add_argument("--dpo-batch", type=int, default=2)
    parser.add_argument("--dpo-lr", type=float, default=1e-4)
    parser.add_argument("--dpo-test", type=int, default=20)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--parts", default="sft,dpo,export")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "llm_finetune.json")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--merge-from",
        type=Path,
        default=None,
        help="Also take the parts of this results file (parts run as separate processes).",
    )
    args = parser.parse_args()
    import torch

    work = args.workdir or Path(tempfile.mkdtemp(prefix="llm-bench-"))
    cache = work / "model-cache"
    cache.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    # parts run separately (e.g. --parts dpo later) update the same results file
    earlier = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    if args.merge_from:
        earlier.update(
            {
                k: v
                for k, v in json.loads(args.merge_from.read_text(encoding="utf-8")).items()
                if k in ("sft", "dpo", "gguf") or k.startswith("seconds_")
            }
        )
    result: dict = {
        **{k: v for k, v in earlier.items() if k in ("sft", "dpo", "gguf") or k.startswith("seconds_")},
        "benchmark": "llm_finetune",
        "model": "SmolLM2-135M-Instruct (Q4_1 GGUF de-quantised to fp32)",
        "machine": {
            "cpu_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "note": "2 CPU cores shared with other jobs (loaded machine): times are upper bounds",
        },
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    start = time.perf_counter()
    if parts != ["none"]:
        t0 = time.perf_counter()
        load_model(SMOLLM2, cache)
        result["load_seconds"] = time.perf_counter() - t0
    if "sft" in parts:
        result["sft"] = sft_part(args, work, cache)
        write_json(result, args.out)
    if "dpo" in parts:
        result["dpo"] = dpo_part(args, work, cache)
        write_json(result, args.out)
    if "export" in parts and "sft" in parts:
        result["gguf"] = export_part(result["sft"]["adapter"], work, cache)
        write_json(result, args.out)
    if parts != ["none"]:
        result[f"seconds_{'_'.join(parts)}"] = time.perf_counter() - start
    result["done_when"] = {
        "sft_beats_base_token_f1": "sft" in result
        and result["sft"]["tuned"]["token_f1"] > result["sft"]["base"]["token_f1"],
        "dpo_raises_heldout_reward_margin": "dpo" in result
        and result["dpo"]["after"]["reward_margin"] > result["dpo"]["before"]["reward_margin"],
        "gguf_same_greedy_output_5_prompts": "gguf" in result and result["gguf"]["same"],
    }
    write_json(result, args.out)
    log(
        f"wrote {args.out}: {json.dumps(result['done_when'])} in {(time.perf_counter() - start) / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
