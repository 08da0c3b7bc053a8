"""`adaptlab analyze`: measure each model's space on the same texts and write one HTML report (and JSON)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adaptlab.analysis.clusters import kmeans_clusters, top_terms
from adaptlab.analysis.geometry import geometry, neighbour_overlap
from adaptlab.analysis.language import language_bias
from adaptlab.analysis.plots import map_png, project, spectrum_png
from adaptlab.analysis.report import image, table, write_report
from adaptlab.errors import AdaptlabError
from adaptlab.jsonio import write_json

if TYPE_CHECKING:
    from adaptlab.pipeline import Session

SOURCES = ("xquad", "corpus")


@dataclass
class Texts:
    """Texts with a language and a source label each; `parallel` pairs row i (en) with row n+i (de)."""

    texts: list[str]
    lang: list[str]
    source: list[str]
    parallel: int = 0


def xquad_texts(limit: int | None = None) -> Texts:
    """The XQuAD paragraphs in English, then the same paragraphs in German (ids shared, order kept)."""
    from adaptlab.datasets import dataset_dir
    from adaptlab.eval.xquad import xquad_to_beir

    folder = dataset_dir("xquad")
    en, de = (xquad_to_beir(folder, pair).corpus for pair in ("en-en", "de-de"))
    ids = [i for i in en if i in de][: (limit // 2 if limit else None)]
    return Texts(
        [en[i]["text"] for i in ids] + [de[i]["text"] for i in ids],
        ["en"] * len(ids) + ["de"] * len(ids),
        [str(en[i].get("article", "")) for i in ids] * 2,
        parallel=len(ids),
    )


def corpus_texts(session: Session, limit: int) -> Texts:
    """An even sample of the workspace corpus' chunks, labelled by detected language and source file."""
    chunks = list(session.store.iter_chunks())
    if len(chunks) < 10:
        raise AdaptlabError(
            f"the workspace corpus has {len(chunks)} chunks; run `adaptlab ingest FOLDER` first (need 10)"
        )
    step = max(1, len(chunks) // limit)
    picked = chunks[::step][:limit]
    return Texts(
        [c.embed_text for c in picked], [c.lang or "?" for c in picked], [Path(c.source).name for c in picked]
    )


def _top_labels(labels: Sequence[str], keep: int = 10) -> list[str]:
    common = {name for name, _ in Counter(labels).most_common(keep)}
    return [x if x in common else "other" for x in labels]


def analyze(
    session: Session,
    models: Sequence[str],
    source: str = "xquad",
    output: Path | None = None,
    projection: str = "tsne",
    clusters: int = 8,
    max_texts: int = 480,
) -> tuple[dict[str, Any], Path]:
    if source not in SOURCES:
        raise AdaptlabError(f"--texts '{source}' must be one of {', '.join(SOURCES)}")
    if projection not in ("tsne", "pca"):
        raise AdaptlabError(f"--projection '{projection}' must be tsne or pca")
    from adaptlab.compress.vector_cache import VectorCache

    data = xquad_texts(max_texts) if source == "xquad" else corpus_texts(session, max_texts)
    out_dir = Path(output) if output else session.workspace.results_dir / "analyze"
    cache = VectorCache(session.workspace.vector_cache)
    say = session.console.print if session.console else (lambda *_: None)
    vectors: dict[str, np.ndarray] = {}
    for model in dict.fromkeys(models):
        embedder = session.embedder(model)
        say(f"analyze: encoding {len(data.texts)} texts with {embedder.name}")
        vectors[embedder.name] = cache.documents(embedder, data.texts, session.config.embed.batch_size)
    names = list(vectors)
    geo = [{"model": m, **geometry(v)} for m, v in vectors.items()]
    lang = (
        [
            {"model": m, **language_bias(v[: data.parallel], v[data.parallel : 2 * data.parallel])}
            for m, v in vectors.items()
        ]
        if data.parallel
        else []
    )
    overlap = [
        {"model A": a, "model B": b, "top-10 neighbour overlap": neighbour_overlap(vectors[a], vectors[b])}
        for a, b in combinations(names, 2)
    ]
    first = vectors[names[0]]
    labels = kmeans_clusters(first, clusters)
    terms = top_terms(data.texts, labels)
    cluster_rows = [
        {
            "cluster": int(c),
            "texts": int(np.sum(labels == c)),
            "languages": ", ".join(
                f"{k} {v}" for k, v in Counter(np.array(data.lang)[labels == c]).most_common(3)
            ),
            "top terms": ", ".join(terms[c]),
        }
        for c in sorted(terms)
    ]
    images: list[str] = []
    for name, v in vectors.items():
        say(f"analyze: {projection} map of {name}")
        points = project(v, projection)
        images.append(image(map_png(points, data.lang, f"{name}: by language"), f"{name} map by language"))
        if name == names[0]:
            images.append(
                image(
                    map_png(points, _top_labels(data.source), f"{name}: by source"), f"{name} map by source"
                )
            )
            images.append(
                image(
                    map_png(points, [f"cluster {c}" for c in labels], f"{name}: k-means clusters"),
                    f"{name} map by cluster",
                )
            )
    spectra = {m: np.linalg.svd(v - v.mean(axis=0), compute_uv=False) for m, v in vectors.items()}
    sections = [
        (
            "Geometry",
            table(geo) + "<p class=note>average cosine of random pairs (high = anisotropic cone); isotropy "
            "(Mu &amp; Viswanath, 1 = isotropic); effective rank (Roy &amp; Vetterli); uniformity (Wang &amp; Isola, "
            "lower = more uniform).</p>" + image(spectrum_png(spectra), "singular value spectrum"),
        ),
    ]
    if lang:
        sections.append(
            (
                "German / English",
                table(lang) + "<p class=note>XQuAD paragraphs and their professional "
                "translations. translation_top1: the nearest paragraph in the other language is the "
                "translation; same_language_neighbours: 0.5 = no language bias, 1.0 = split by language.</p>",
            )
        )
    if overlap:
        sections.append(("Model agreement", table(overlap)))
    sections.append((f"Clusters ({names[0]}, k-means)", table(cluster_rows)))
    sections.append((f"Maps ({projection})", "<div class=maps>" + "".join(images) + "</div>"))
    summary = {
        "texts": len(data.texts),
        "source": source,
        "models": names,
        "geometry": geo,
        "language": lang,
        "overlap": overlap,
        "clusters": cluster_rows,
        "projection": projection,
    }
    with session.run("analyze", {"models": names, "texts": len(data.texts), "source": source}) as run:
        report = write_report(
            out_dir / "analysis.html",
            f"Embedding analysis: {', '.join(names)}",
            sections,
            note=f"{len(data.texts)} texts from {source}",
        )
        json_path = write_json(summary, out_dir / "analysis.json")
        run.log_artifact(report)
        run.log_artifact(json_path)
        run.log_metrics(
            {f"{_key(r['model'])}/{k}": float(v) for r in geo + lang for k, v in r.items() if k != "model"}
        )
    return summary, report


def _key(name: str) -> str:
    import re

    return re.sub(r"[^0-9A-Za-z_\-. ]", "_", Path(name).name if "/" in name else name)
