"""Layer-drop distillation of all-MiniLM-L6-v2 (6 → 3 layers): size, CPU encode speed and quality kept.

In one run, on the same texts and thread count:

* the 6-layer teacher (sentence-transformers fp32, the plain library baseline),
* two 3-layer students just dropped, no training: layers 0,2,4 and 1,3,5,
* the better of the two (mean nDCG@10 over the quality sets) after distillation with
  `SentenceTransformerTrainer` + `losses.MSELoss` to the frozen teacher's embedding
  (`adaptlab.compress.layer_drop`), on texts from the shared corpora that no quality set contains:
  sections of the laws of the train split (cut into 48-word pieces), definitions of the OEO train
  classes, STSb train and Tatoeba sentences (English and German).

Speed texts: law sections of the laws-heading test split plus XQuAD en paragraphs (real chunks), encoded by
each model in turn (round-robin, the median round is reported). Quality: nDCG@10 on XQuAD en-en, de-en and
laws-heading (test split), relative to the teacher.

    nice -n 5 .venv/bin/python benchmarks/layer_drop.py      # → docs/results/layer_drop.json
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import statistics
import shutil
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from adaptlab.compress.layer_drop import corpus_sentences, folder_size_mb, layer_drop
from adaptlab.eval.retrieval_eval import (
    DocumentVectorCache,
    document_text,
    evaluate_retrieval,
    resolve_datasets,
)
from adaptlab.jsonio import machine_info, write_json
from adaptlab.models.backends.sentence_transformers_backend import SentenceTransformerEmbedder
from adaptlab.models.resolve import minilm_dir

QUALITY_SETS = ("xquad-en-en", "xquad-de-en", "laws-heading")


def quality(embedder: SentenceTransformerEmbedder, datasets: list[Any]) -> dict[str, float]:
    cache = DocumentVectorCache()  # en-en and de-en share the paragraphs
    return {ds.name: evaluate_retrieval(embedder, ds, cache=cache).metrics["ndcg@10"] for ds in datasets}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sentences", type=int, default=1600, help="distillation texts")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--speed-texts", type=int, default=400)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output", type=Path, default=Path("docs/results/layer_drop.json"))
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    datasets = resolve_datasets(list(QUALITY_SETS))
    laws = next(ds for ds in datasets if ds.name.startswith("laws"))
    xquad = next(ds for ds in datasets if "en-en" in ds.name)
    speed_texts = [document_text(d) for d in laws.corpus.values()][: args.speed_texts // 2]
    speed_texts += [document_text(d) for d in xquad.corpus.values()][: args.speed_texts - len(speed_texts)]

    teacher_dir = minilm_dir()
    work = Path(tempfile.mkdtemp(prefix="layer-drop-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the students are only needed for this run
    folders: dict[str, Path] = {"teacher (6 layers)": teacher_dir}
    reports: dict[str, Any] = {}
    for keep in ([0, 2, 4], [1, 3, 5]):
        name = f"dropped {','.join(map(str, keep))}"
        folders[name] = work / name.replace(" ", "-").replace(",", "")
        reports[name] = layer_drop(teacher_dir, folders[name], keep, source_name="minilm").to_dict()

    ndcg: dict[str, dict[str, float]] = {}
    for name, folder in folders.items():
        start = time.perf_counter()
        ndcg[name] = quality(SentenceTransformerEmbedder(folder, name=name, device="cpu"), datasets)
        print(f"{name}: {ndcg[name]} ({time.perf_counter() - start:.0f} s)", flush=True)

    best = max(
        (n for n in folders if n.startswith("dropped")), key=lambda n: statistics.mean(ndcg[n].values())
    )
    keep = reports[best]["layers_kept"]
    texts, sources = corpus_sentences(args.sentences)
    distilled = f"distilled {','.join(map(str, keep))}"
    folders[distilled] = work / "distilled"
    reports[distilled] = layer_drop(
        teacher_dir,
        folders[distilled],
        keep,
        texts=texts,
        sources=sources,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        source_name="minilm",
    ).to_dict()
    print(f"{distilled}: {reports[distilled]}", flush=True)
    ndcg[distilled] = quality(
        SentenceTransformerEmbedder(folders[distilled], name=distilled, device="cpu"), datasets
    )
    print(f"{distilled}: {ndcg[distilled]}", flush=True)

    models = {n: SentenceTransformerEmbedder(f, name=n, device="cpu") for n, f in folders.items()}
    timings: dict[str, list[float]] = {n: [] for n in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.encode_documents(speed_texts, batch_size=32)
            timings[name].append(time.perf_counter() - start)
    teacher = "teacher (6 layers)"
    base_s = statistics.median(timings[teacher])
    base_mb = folder_size_mb(teacher_dir)
    rows = []
    for name in models:
        seconds = statistics.median(timings[name])
        kept = {k: v / ndcg[teacher][k] for k, v in ndcg[name].items()}
        rows.append(
            {
                "model": name,
                "layers": reports.get(name, {}).get("layers_kept", list(range(6))),
                "model_mb": folder_size_mb(folders[name]),
                "size_vs_teacher": round(folder_size_mb(folders[name]) / base_mb, 3),
                "chunks_per_s": round(len(speed_texts) / seconds, 1),
                "speedup_vs_teacher": round(base_s / seconds, 2),
                "seconds_per_round": [round(t, 2) for t in timings[name]],
                "ndcg_at_10": {k: round(v, 4) for k, v in ndcg[name].items()},
                "quality_kept": {k: round(v, 4) for k, v in kept.items()},
                "quality_kept_mean": round(statistics.mean(kept.values()), 4),
            }
        )
    payload = {
        "benchmark": "layer_drop",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(
            load_before,
            "2 shared CPU cores, loaded by other processes (a CI run) during the run: absolute chunks/s "
            "and training seconds are low and noisy; models ran round-robin so speed ratios stay meaningful",
        ),
        "libraries": {lib: version(lib) for lib in ("torch", "sentence-transformers", "transformers")},
        "settings": {
            "threads": args.threads,
            "speed_texts": len(speed_texts),
            "rounds": args.rounds,
            "quality_sets": list(QUALITY_SETS),
            "chosen_for_distillation": best,
            "distillation": {
                "texts": len(texts),
                "sources": sources,
                "epochs": args.epochs,
                "learning_rate": args.learning_rate,
                "batch_size": 32,
                "loss": "MSELoss",
                "steps": reports[distilled]["steps"],
                "label_s": reports[distilled]["label_s"],
                "train_s": reports[distilled]["train_s"],
                "final_loss": reports[distilled]["final_loss"],
            },
        },
        "results": rows,
    }
    write_json(payload, args.output)
    print("\n| model | layers | MB | chunks/s | speed-up | nDCG@10 kept (en-en / de-en / laws) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        kept_s = " / ".join(f"{v:.1%}" for v in r["quality_kept"].values())
        print(
            f"| {r['model']} | {r['layers']} | {r['model_mb']} | {r['chunks_per_s']} | "
            f"{r['speedup_vs_teacher']}× | {kept_s} |"
        )


if __name__ == "__main__":
    main()
