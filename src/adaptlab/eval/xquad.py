"""XQuAD (SQuAD format, DE and EN share ids) as question → paragraph retrieval sets, also cross-lingual."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adaptlab.datasets import SOURCES
from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import BeirDataset, write_beir

XQUAD_PAIRS = ("en-en", "de-de", "de-en", "en-de")
"""`<query language>-<document language>`: de-en asks German questions of English paragraphs."""


@dataclass(frozen=True)
class _Paragraph:
    doc_id: str
    title: str
    context: str
    questions: tuple[tuple[str, str], ...]  # (question id, question text)


def xquad_to_beir(xquad_dir: Path, pair: str) -> BeirDataset:
    """One XQuAD set: all questions in the query language against all paragraphs in the document language."""
    if pair not in XQUAD_PAIRS:
        raise AdaptlabError(f"unknown XQuAD pair {pair!r}; choose one of {', '.join(XQUAD_PAIRS)}")
    query_lang, doc_lang = pair.split("-")
    docs = _read_paragraphs(Path(xquad_dir), doc_lang)
    asks = docs if query_lang == doc_lang else _read_paragraphs(Path(xquad_dir), query_lang)
    _check_aligned(docs, asks)
    # The article title stays metadata, not text: XQuAD's titles are English even in the German file,
    # so as text they would leak English into German documents and inflate cross-lingual scores.
    corpus = {p.doc_id: {"title": "", "text": p.context, "article": p.title} for p in docs}
    queries = {qid: text for p in asks for qid, text in p.questions}
    qrels = {qid: {p.doc_id: 1} for p in asks for qid, _ in p.questions}
    return BeirDataset(name=f"xquad-{pair}", corpus=corpus, queries=queries, qrels=qrels)


def convert_xquad(xquad_dir: Path, out_dir: Path) -> list[Path]:
    """Write all four XQuAD sets as BEIR folders `out_dir/xquad-<pair>` and return those folders."""
    folders = []
    for pair in XQUAD_PAIRS:
        ds = xquad_to_beir(xquad_dir, pair)
        folder = Path(out_dir) / ds.name
        write_beir(ds, folder)
        folders.append(folder)
    return folders


def _read_paragraphs(xquad_dir: Path, lang: str) -> list[_Paragraph]:
    """Paragraphs in file order; the id `<article>-<paragraph>` is the same in every language."""
    file = xquad_dir / f"xquad.{lang}.json"
    data = _read_json(file)
    try:
        return [
            _Paragraph(
                doc_id=f"{a}-{p}",
                # titles are Wikipedia slugs ("Super_Bowl_50"); spaces make them text a model can read
                title=article["title"].replace("_", " "),
                context=paragraph["context"],
                questions=tuple((qa["id"], qa["question"]) for qa in paragraph["qas"]),
            )
            for a, article in enumerate(data["data"])
            for p, paragraph in enumerate(article["paragraphs"])
        ]
    except (KeyError, TypeError) as exc:
        raise AdaptlabError(f"{file}: not in SQuAD format (missing {exc})") from None


def _read_json(file: Path) -> Any:
    if not file.is_file():
        raise AdaptlabError(f"{file}: file not found. Source: {SOURCES['xquad']}")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AdaptlabError(f"{file}:{exc.lineno}: invalid JSON ({exc.msg})") from None


def _check_aligned(docs: list[_Paragraph], asks: list[_Paragraph]) -> None:
    """Cross-lingual qrels are only right if both files hold the same questions in the same paragraphs."""
    if len(docs) != len(asks):
        raise AdaptlabError(f"XQuAD files are not aligned: {len(asks)} vs {len(docs)} paragraphs")
    for doc, ask in zip(docs, asks):
        doc_ids = [qid for qid, _ in doc.questions]
        ask_ids = [qid for qid, _ in ask.questions]
        if doc.doc_id != ask.doc_id or doc_ids != ask_ids:
            raise AdaptlabError(f"XQuAD files are not aligned: paragraph {ask.doc_id} has other question ids")
