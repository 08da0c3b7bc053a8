"""Embedding compression on the shared data: quality kept vs memory saved, per model and method.

Runs `adaptlab.compress.compress` (the code behind `adaptlab compress`) on XQuAD en-en and de-de and on
two term → definition sets built in memory from the Open Energy Ontology (every class with an English
definition is a document, its definition alone as text; queries are the English labels, `oeo-en`, and
the first German term, `oeo-de`, which asks German terms of English definitions). Writes the results JSON
(with machine and library versions) and the Pareto plot, and prints the Markdown table for the docs.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/compression.py
    # defaults: --model minilm --model use-multilingual --output docs/results/compression.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from adaptlab.compress import DEFAULT_METHODS, compress
from adaptlab.compress.plot import pareto_plot
from adaptlab.compress.report import kept_markdown
from adaptlab.corpus.loaders.ontology import parse_ontology_classes
from adaptlab.datasets import dataset_dir
from adaptlab.eval.beir import BeirDataset
from adaptlab.jsonio import write_json
from adaptlab.pipeline import Session

def sweep(dim: int) -> list[str]:
    """Settings beyond each method's default, relative to the model's dimension, so the plot shows a front."""
    return ["binary-rescore:10", "binary-rescore-int8:10", f"pq:{dim // 4}", f"pq:{dim // 16}",
            f"pca:{dim // 2}", f"pca:{dim // 8}", f"matryoshka:{dim // 2}", f"matryoshka:{dim // 8}"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", help="zoo names (default: minilm and use-multilingual)")
    p.add_argument("--dataset", action="append", help="datasets (default: xquad-en-en, xquad-de-de, oeo-en, oeo-de)")
    p.add_argument("--methods", default=None, help="comma-separated (default: every method plus a sweep)")
    p.add_argument("--workspace", default=None, help="adaptlab workspace: vector cache and MLflow store")
    p.add_argument("--output", type=Path, default=Path("docs/results/compression.json"))
    return p.parse_args(argv)


def oeo_sets() -> dict[str, BeirDataset]:
    """OEO term → definition retrieval: English labels (oeo-en) and German terms (oeo-de) as queries."""
    classes = [c for f in sorted(dataset_dir("oeo").glob("*.omn")) for c in parse_ontology_classes(f)]
    defined = {f"c{i}": c for i, c in enumerate(classes) if c["definition"]}
    corpus = {cid: {"title": "", "text": c["definition"]} for cid, c in defined.items()}
    english = {cid: c["label_en"] for cid, c in defined.items() if c["label_en"]}
    german = {cid: c["terms_de"][0] for cid, c in defined.items() if c["terms_de"]}
    return {
        name: BeirDataset(name, corpus, {f"q-{cid}": text for cid, text in asks.items()},
                          {f"q-{cid}": {cid: 1} for cid in asks})
        for name, asks in (("oeo-en", english), ("oeo-de", german))
    }


def environment() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.lower().startswith("model name")), platform.machine())
    return {
        "date": dt.date.today().isoformat(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        **{pkg: version(pkg) for pkg in ("faiss-cpu", "numpy", "scikit-learn", "torch", "sentence-transformers")},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    models = args.model or ["minilm", "use-multilingual"]
    names = args.dataset or ["xquad-en-en", "xquad-de-de", "oeo-en", "oeo-de"]
    built = oeo_sets() if any(n.startswith("oeo-") for n in names) else {}
    datasets = [built.get(n, n) for n in names]
    start_env = environment()
    results, runs = [], {}
    with Session.open(args.workspace) as session:
        for model in models:  # one run per model: the sweep depends on the model's dimension
            methods = args.methods.split(",") if args.methods else [*DEFAULT_METHODS, *sweep(session.embedder(model).dim)]
            report = compress(session, [model], datasets, methods, args.output.parent / "compression-runs" / model)
            results.extend(report.results)
            runs[model] = json.loads(report.json_path.read_text(encoding="utf-8"))
    shutil.rmtree(args.output.parent / "compression-runs")
    plot = pareto_plot(results, args.output.with_suffix(".png"))
    write_json({
        "environment": start_env,
        "command": " ".join(["benchmarks/compression.py", *(sys.argv[1:] if argv is None else argv)]),
        "oeo_sets": oeo_sets.__doc__,
        **{key: value for key, value in runs[models[0]].items() if key != "results"},
        "methods": {model: run["methods"] for model, run in runs.items()},
        "skipped": [skip for run in runs.values() for skip in run["skipped"]],
        "results": [r.as_dict() for r in results],
    }, args.output)
    for model in dict.fromkeys(r.model for r in results):
        print(f"\n{model}\n\n{kept_markdown(results, model)}")
    print(f"\nwrote {args.output} and {plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
