"""German laws as a retrieval set: a section's heading without its § number → that section's text.

"Begriffsbestimmungen" must find § 3's text among all sections of the laws in the split. The split is by
law, so a model adapted on the train laws is tested on laws it never saw: the laws sorted by a hash of
their abbreviation, every third one is test (5 of the 15 shared laws), the rest train.
Sections are parsed by the Markdown loader, exactly as `ingest` parses them.

Headings repeat across laws ("Begriffsbestimmungen" is in 13 of 15), so on the merged set such a query
has one relevant section and several equally plausible ones: the task's ceiling is below 1.
"""

from __future__ import annotations

import re
from pathlib import Path

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.loaders.markdown import HEADING_SEPARATOR, load_markdown
from adaptlab.corpus.types import content_hash
from adaptlab.datasets import SOURCES
from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import BeirDataset

SPLITS = ("train", "test", "all")
_SECTION_NUMBER = re.compile(r"^§§?\s*\d+\s*[a-z]?\b(?:\s*(?:bis|und|,|-)\s*\d+\s*[a-z]?\b)*\s*")
_REPEALED = re.compile(r"^\(?\s*(weggefallen|aufgehoben)\s*\)?$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def law_split(law: str, laws: list[str]) -> str:
    """'test' for every third law in hash order of the abbreviations, else 'train'."""
    order = sorted(laws, key=lambda name: content_hash("laws-heading", name))
    return "test" if order.index(law) % 3 == 2 else "train"


def heading_query(heading: str) -> str:
    """'§ 3 Begriffsbestimmungen' → 'Begriffsbestimmungen'; '' when nothing usable is left."""
    query = _SECTION_NUMBER.sub("", heading).strip()
    if not _LETTER.search(query) or _REPEALED.match(query):
        return ""
    return query


def laws_heading_to_beir(gesetze_dir: Path, split: str = "test") -> BeirDataset:
    """Queries and corpus from the laws of `split`; every § section with text is a document."""
    if split not in SPLITS:
        raise AdaptlabError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    laws = _read_laws(Path(gesetze_dir))
    corpus: dict[str, dict[str, str]] = {}
    queries: dict[str, str] = {}
    for law, sections in laws.items():
        if split != "all" and law_split(law, list(laws)) != split:
            continue
        asked: dict[str, list[tuple[str, str]]] = {}
        for doc_id, heading, text in sections:
            corpus[doc_id] = {"title": "", "text": text, "law": law, "section": heading}
            query = heading_query(heading)
            if query:
                asked.setdefault(query.casefold(), []).append((doc_id, query))
        for same in asked.values():
            if len(same) == 1:  # a heading used twice in one law has no single right answer
                queries[same[0][0]] = same[0][1]
    qrels = {qid: {qid: 1} for qid in queries}
    suffix = "" if split == "test" else f"-{split}"
    return BeirDataset(name=f"laws-heading{suffix}", corpus=corpus, queries=queries, qrels=qrels)


def _read_laws(gesetze_dir: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Law abbreviation → its § sections as (doc id, heading, text); sections without text left out."""
    files = sorted(gesetze_dir.glob("*.md"))
    if not files:
        raise AdaptlabError(f"{gesetze_dir}: no law Markdown files. Source: {SOURCES['gesetze']}")
    laws: dict[str, list[tuple[str, str, str]]] = {}
    for path in files:
        try:
            doc = load_markdown(path, LoaderOptions())[0]
        except LoadError as exc:
            raise AdaptlabError(f"{path}: {exc}") from None
        law = str(doc.metadata.get("law") or path.stem)
        sections = laws.setdefault(law, [])
        for number, section in enumerate(doc.sections):
            heading = section.heading.split(HEADING_SEPARATOR)[-1]
            if heading.startswith("§") and _LETTER.search(section.text):
                sections.append((f"{path.stem}-{number}", heading, section.text))
    return laws
