"""Drift detection on real query streams: detection power on shifted streams, false alarms on unshifted ones.

Streams (../shared/data):
  xquad-en, xquad-de   XQuAD questions (1,190 per language, same questions translated)
  laws                 German law section headings (the laws-heading queries)
Shifts:
  language switch      reference xquad-en, window xquad-de (the same questions in German)
  topic switch         reference xquad-de, window laws (both German: only the topic moves)
  partial shifts       windows where a fraction f of the queries come from the shifted stream
Null:
  many random disjoint splits of one stream into reference and window (exchangeable by construction)

Detector: adaptlab's MMD permutation test on MiniLM query embeddings plus the language-mix chi-square test,
each at alpha/2. Baseline from the field's library in the same run: a classifier two-sample test (C2ST,
scikit-learn logistic regression, 5-fold accuracy, one-sided binomial p-value) on the same embeddings.

    python benchmarks/drift.py --trials 160 --shift-trials 30 --windows 100 200

Writes docs/results/drift.json. Timings are from a shared, loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import track

from adaptlab.datasets import dataset_dir
from adaptlab.eval.laws import laws_heading_to_beir
from adaptlab.monitor.drift import DriftDetector, Reference, query_languages

console = Console(stderr=True, width=160)
OUT = Path(__file__).resolve().parent.parent / "docs" / "results" / "drift.json"


def xquad_questions(lang: str) -> list[str]:
    data = json.loads((dataset_dir("xquad") / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    return [
        qa["question"] for article in data["data"] for para in article["paragraphs"] for qa in para["qas"]
    ]


def load_streams() -> dict[str, list[str]]:
    laws = list(laws_heading_to_beir(dataset_dir("gesetze"), "all").queries.values())
    return {"xquad-en": xquad_questions("en"), "xquad-de": xquad_questions("de"), "laws": laws}


def cached_embeddings(embedder: Any, texts: list[str]) -> np.ndarray:
    """Query vectors, kept in the workspace vector cache so a re-run skips the encoding."""
    from adaptlab.compress.vector_cache import VectorCache
    from adaptlab.workspace import Workspace

    cache = VectorCache(Workspace.resolve(None).vector_cache)
    return cache.queries(embedder, texts)


def c2st_p_value(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """Classifier two-sample test: can a classifier tell the samples apart better than chance?"""
    from scipy.stats import binomtest
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    features = np.vstack([x, y])
    labels = np.r_[np.zeros(len(x)), np.ones(len(y))]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    predicted = cross_val_predict(LogisticRegression(C=1.0, max_iter=500), features, labels, cv=folds)
    correct = int((predicted == labels).sum())
    majority = max(len(x), len(y)) / len(labels)
    return float(binomtest(correct, len(labels), majority, alternative="greater").pvalue)


def run_trials(
    name: str,
    ref_pool: tuple[np.ndarray, list[str]],
    win_pool: tuple[np.ndarray, list[str]],
    size: int,
    trials: int,
    alpha: float,
    fraction: float,
    same: bool,
    seed: int,
) -> dict[str, Any]:
    """Alarm rates over `trials` random (reference, window) draws; `fraction` of the window is shifted."""
    rng = np.random.default_rng(seed)
    ref_vecs, ref_langs = ref_pool
    win_vecs, win_langs = win_pool
    alarms = {"adaptlab": 0, "embedding": 0, "language": 0, "c2st": 0}
    seconds = {"adaptlab": 0.0, "c2st": 0.0}
    for trial in track(range(trials), description=f"{name} n={size}", console=console, transient=True):
        order = rng.permutation(len(ref_vecs))
        ref_idx, rest = order[:size], order[size:]
        n_shift = round(fraction * size)
        shifted = rng.choice(len(win_vecs), n_shift, replace=False) if n_shift else np.array([], dtype=int)
        own = rest[: size - n_shift]  # unshifted part: disjoint from the reference
        window = np.vstack([ref_vecs[own], win_vecs[shifted]]) if n_shift < size else win_vecs[shifted]
        langs = [ref_langs[i] for i in own] + [win_langs[i] for i in shifted]
        reference = Reference(ref_vecs[ref_idx], [ref_langs[i] for i in ref_idx], "minilm", 0.0)
        start = time.perf_counter()
        result = DriftDetector(reference, alpha, permutations=500, seed=trial).test(window, langs)
        seconds["adaptlab"] += time.perf_counter() - start
        alarms["adaptlab"] += result.drift
        alarms["embedding"] += "embedding" in result.kinds
        alarms["language"] += "language" in result.kinds
        start = time.perf_counter()
        alarms["c2st"] += c2st_p_value(reference.embeddings, window, trial) < alpha
        seconds["c2st"] += time.perf_counter() - start
    rates = {k: v / trials for k, v in alarms.items()}
    return {
        "stream": name,
        "window": size,
        "reference": size,
        "shifted_fraction": fraction,
        "null": same,
        "trials": trials,
        "alarm_rate": rates,
        "ms_per_window": {k: 1000 * v / trials for k, v in seconds.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--trials", type=int, default=160, help="Null (unshifted) windows per stream and size."
    )
    parser.add_argument("--shift-trials", type=int, default=30, help="Windows per shifted setting.")
    parser.add_argument("--windows", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.2, 0.3, 1.0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    from adaptlab.models.loading import load_embedder
    from adaptlab.workspace import Workspace

    streams = load_streams()
    embedder = load_embedder("minilm", Workspace.resolve(None).model_cache)
    start = time.perf_counter()
    pools = {
        name: (embedder.encode_queries(texts), query_languages(texts)) for name, texts in streams.items()
    }
    embed_seconds = time.perf_counter() - start
    console.print({k: (len(v[1]), {lang: v[1].count(lang) for lang in set(v[1])}) for k, v in pools.items()})

    rows: list[dict[str, Any]] = []
    for size in args.windows:
        for name in streams:
            rows.append(
                run_trials(
                    f"null {name}",
                    pools[name],
                    pools[name],
                    size,
                    args.trials,
                    args.alpha,
                    0.0,
                    True,
                    seed=size,
                )
            )
        for label, ref, win in (
            ("language switch xquad-en→de", "xquad-en", "xquad-de"),
            ("topic switch xquad-de→laws", "xquad-de", "laws"),
        ):
            for fraction in args.fractions:
                rows.append(
                    run_trials(
                        label,
                        pools[ref],
                        pools[win],
                        size,
                        args.shift_trials,
                        args.alpha,
                        fraction,
                        False,
                        seed=size + int(fraction * 100),
                    )
                )
    null_rows = [r for r in rows if r["null"]]
    pooled = {k: float(np.mean([r["alarm_rate"][k] for r in null_rows])) for k in ("adaptlab", "c2st")}
    result = {
        "benchmark": "drift",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.system()}; shared 2-core machine under load from other jobs",
        "model": "minilm (all-MiniLM-L6-v2), query embeddings",
        "method": "MMD² (Gaussian kernel, median heuristic) permutation test, 500 permutations, + language-mix "
        "chi-square; each at alpha/2 (Bonferroni)",
        "baseline": "classifier two-sample test (scikit-learn LogisticRegression, 5-fold, binomial p) at alpha",
        "alpha": args.alpha,
        "streams": {k: len(v) for k, v in streams.items()},
        "embed_seconds": embed_seconds,
        "false_alarm_rate_pooled": pooled,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    for r in rows:
        console.print(
            f"{r['stream']:32s} n={r['window']:4d} f={r['shifted_fraction']:.1f}  "
            f"adaptlab {r['alarm_rate']['adaptlab']:.3f} (emb {r['alarm_rate']['embedding']:.3f}, "
            f"lang {r['alarm_rate']['language']:.3f})  c2st {r['alarm_rate']['c2st']:.3f}  "
            f"{r['ms_per_window']['adaptlab']:.0f} / {r['ms_per_window']['c2st']:.0f} ms"
        )
    console.print(f"pooled false-alarm rate: {pooled}; wrote {args.out}")


if __name__ == "__main__":
    main()
