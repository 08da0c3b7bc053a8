"""The LLM chain's extras on CPU, measured with SmolLM2-135M-Instruct: ONNX export, LLM judge, LLM writer.

1. onnx: export the fp32 HF folder (the de-quantised packaged model; a merged adapter has the same
   layout) with `torch.onnx.export`, reload with onnxruntime, compare greedy tokens with transformers on
   the five fixed prompts; file size and greedy tokens/s of both runtimes, measured in the same run.
2. judge: SmolLM2 as LLM-as-judge on held-out law questions (laws never used for training, split as in
   llm_finetune), each with one candidate answer of known token F1: the reference itself, its first
   half, the answer of another section of the same law (wrong context), or the section text after the
   answer. Reported: the share of parsable verdicts, the mean score per kind, and Spearman's rank
   correlation of the judge's scores with token F1 (the judge's agreement with the metric).
3. writer: SmolLM2 writes question-answer pairs for held-out law sections; how many replies pass
   validation and grounding, and why the others were rejected (the rule fills in for them).
Writes docs/results/llm_judge_onnx.json. Timings are on a shared, loaded 2-core machine.

    .venv/bin/python benchmarks/llm_judge_onnx.py --workdir /tmp/llm-extras   # ~20-40 min on 2 busy cores
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
from adaptlab.llm.corpus_data import grounded_answer, instruction_examples, sections_from_markdown  # noqa: E402
from adaptlab.llm.metrics import token_f1  # noqa: E402
from adaptlab.llm.models import SMOLLM2, model_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def onnx_part(folder: Path, work: Path, tokens: int) -> dict:
    from adaptlab.llm.onnx_export import compare_onnx_greedy, export_onnx

    exported = export_onnx(folder, work / "onnx")
    log(f"onnx: {exported}")
    check = compare_onnx_greedy(folder, work / "onnx", max_new_tokens=tokens)
    safetensors = sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e6
    log(f"onnx: {check['matching']}/{check['prompts']} same, tokens/s {check['tokens_per_s']}")
    return {**exported, "hf_safetensors_mb": round(safetensors, 1), "check": check, "max_new_tokens": tokens}


def held_out(context_chars: int, answer_words: int) -> tuple[list, list]:
    """Test-split law sections and their rule-based examples (the split of benchmarks/llm_finetune.py)."""
    sections = sections_from_markdown(dataset_dir("gesetze"))
    examples, _ = dedupe(instruction_examples(sections, True, answer_words, context_chars))
    test = split_by_source(examples, val=0.1, test=0.2, seed=0)["test"]
    test_ids = {tuple(e.meta["chunk_ids"]) for e in test}
    return test, [s for s in sections if s.ids in test_ids]


def judge_part(args: argparse.Namespace, cache: Path) -> dict:
    from scipy.stats import spearmanr

    from adaptlab.llm.chat_models import LocalChatModel
    from adaptlab.llm.judge import LOCAL_PREFILL, judge_answers

    test, sections = held_out(args.context_chars, args.answer_words)
    text_of = {s.ids: " ".join(s.text.split()) for s in sections}
    rng = random.Random(0)
    rows = rng.sample(test, min(args.judge_rows, len(test)))
    by_law: dict[str, list] = {}
    for example in test:
        by_law.setdefault(example.source, []).append(example)
    kinds = ("reference", "first half", "wrong section", "later text")
    candidates = []
    for index, example in enumerate(rows):
        kind = kinds[index % len(kinds)]
        reference = example.answer
        if kind == "reference":
            answer = reference
        elif kind == "first half":
            words = reference.split()
            answer = " ".join(words[: max(1, len(words) // 2)])
        elif kind == "wrong section":
            others = [e for e in by_law[example.source] if e.answer != reference]
            answer = rng.choice(others).answer if others else "Keine Angabe."
        else:
            rest = text_of.get(tuple(example.meta["chunk_ids"]), "")[len(reference) :]
            answer = grounded_answer(rest, args.answer_words) or "Keine Angabe."
        candidates.append((example, kind, answer, token_f1(answer, reference)))
    judge = LocalChatModel(SMOLLM2, cache, batch_size=8, prefill=LOCAL_PREFILL)
    log(f"judge: {len(candidates)} verdicts")
    start = time.perf_counter()
    result = judge_answers(
        judge,
        [e.prompt_messages[-1]["content"] for e, *_ in candidates],
        [e.answer for e, *_ in candidates],
        [a for _, _, a, _ in candidates],
        args.judge_tokens,
    )
    seconds = time.perf_counter() - start
    pairs = [(v.score, v.correctness, f) for v, (_, _, _, f) in zip(result.verdicts, candidates) if v]
    per_kind = {}
    for kind in kinds:
        scores = [v.score for v, c in zip(result.verdicts, candidates) if v and c[1] == kind]
        f1s = [c[3] for c in candidates if c[1] == kind]
        per_kind[kind] = {
            "rows": len(f1s),
            "mean_token_f1": sum(f1s) / max(1, len(f1s)),
            "parsed": len(scores),
            "mean_judge_score": sum(scores) / len(scores) if scores else None,
        }
    rho = spearmanr([p[0] for p in pairs], [p[2] for p in pairs]) if len(pairs) > 2 else None
    rho_c = spearmanr([p[1] for p in pairs], [p[2] for p in pairs]) if len(pairs) > 2 else None
    return {
        "rows": len(candidates),
        "laws": sorted({e.source for e, *_ in candidates}),
        "seconds": seconds,
        **result.metrics(),
        "unparsable_reasons": dict(result.failures),
        "per_kind": per_kind,
        "spearman_score_vs_token_f1": None if rho is None else {"rho": rho.statistic, "p": rho.pvalue},
        "spearman_correctness_vs_token_f1": None
        if rho_c is None
        else {"rho": rho_c.statistic, "p": rho_c.pvalue},
        "example_replies": result.replies[:6],
    }


def writer_part(args: argparse.Namespace, cache: Path) -> dict:
    from adaptlab.llm.chat_models import LocalChatModel
    from adaptlab.llm.llm_writer import LOCAL_PREFILL, written_examples

    _, sections = held_out(args.context_chars, args.answer_words)
    sections = random.Random(1).sample(sections, min(args.writer_sections, len(sections)))
    writer = LocalChatModel(SMOLLM2, cache, batch_size=8, prefill=LOCAL_PREFILL)
    log(f"writer: {len(sections)} sections")
    start = time.perf_counter()
    examples, report = written_examples(
        sections, writer, True, args.answer_words, args.context_chars, args.writer_tokens
    )
    written = [e for e in examples if e.meta.get("rule") == "llm-written"]
    return {
        "sections": len(sections),
        "seconds": time.perf_counter() - start,
        **report.as_dict(),
        "examples": [{"prompt": e.messages[0]["content"][-160:], "answer": e.answer} for e in written[:3]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="onnx,judge,writer")
    parser.add_argument("--onnx-tokens", type=int, default=32)
    parser.add_argument("--judge-rows", type=int, default=48)
    parser.add_argument("--judge-tokens", type=int, default=24)
    parser.add_argument("--writer-sections", type=int, default=16)
    parser.add_argument("--writer-tokens", type=int, default=96)
    parser.add_argument("--answer-words", type=int, default=12)
    parser.add_argument("--context-chars", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "llm_judge_onnx.json")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    import torch

    work = args.workdir or Path(tempfile.mkdtemp(prefix="llm-extras-"))
    cache = work / "model-cache"
    cache.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    earlier = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    result: dict = {
        **{k: v for k, v in earlier.items() if k in ("onnx", "judge", "writer")},
        "benchmark": "llm_judge_onnx",
        "model": "SmolLM2-135M-Instruct (Q4_1 GGUF de-quantised to fp32)",
        "machine": {
            "cpu_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "note": "2 CPU cores shared with other agents (load average 3.5-12 while measured): times are "
            "upper bounds; ratios within one run (same threads) are comparable",
        },
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    folder = model_folder(SMOLLM2, cache)
    run = {
        "onnx": lambda: onnx_part(folder, work, args.onnx_tokens),
        "judge": lambda: judge_part(args, cache),
        "writer": lambda: writer_part(args, cache),
    }
    for name in parts:  # in the order given
        result[name] = {**run[name](), "args": {k: str(v) for k, v in vars(args).items()}}
        write_json(result, args.out)
        log(f"{name} done → {args.out}")


if __name__ == "__main__":
    main()
