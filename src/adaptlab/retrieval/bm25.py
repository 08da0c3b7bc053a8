"""BM25 (bm25s) over language-analysed texts: in memory for BEIR sets, persisted for the workspace corpus.

The workspace index lives in `<workspace>/bm25/<corpus>/` with a fingerprint of the chunk ids (content
hashes) and the analyzer version; it is rebuilt only when either changed, so searches after an
unchanged ingest load it instead of re-tokenising the corpus.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from adaptlab.corpus.store import ChunkRecord, CorpusStore
from adaptlab.corpus.types import content_hash
from adaptlab.retrieval.analysis import ANALYZER_VERSION, analyze_mixed, analyze_query
from adaptlab.retrieval.compounds import CompoundSplitter, compound_stems
from adaptlab.retrieval.dense import SearchHit, hydrate
from adaptlab.retrieval.filters import parse_filter

Ranking = list[tuple[str, float]]
"""(document id, score), best first."""
MIN_QUERY_LANGUAGE_SHARE = 0.02
"""A query is analysed in each language that holds at least this share of the documents. A few stray documents
(a German section detected as English, "(weggefallen)" as undetermined) would otherwise add their analysis to
every query, and their terms, rare in the corpus, would outscore the real matches (laws: −0.03 nDCG@10)."""
_MANIFEST = "adaptlab.json"


class BM25Index:
    """Documents with ids and languages, scored by bm25s (Lucene BM25, k1=1.5, b=0.75).

    German compounds count with their parts: a German document is indexed with the stems of its compounds'
    parts beside its own terms, and a query gets the same (`compounds`), split on the corpus' document
    frequencies, so "Anlage" finds "Windenergieanlage" and "Windenergieanlagen" finds "Anlagen für Windenergie".
    """

    def __init__(self, ids: list[str], langs: list[str], model: bm25s.BM25) -> None:
        self.ids = ids
        self.langs = langs
        self.query_langs = query_languages(langs)
        self.model = model
        self.splitter: CompoundSplitter | None = None
        self._memo: dict[str, tuple[str, ...]] = {}
        if "de" in self.query_langs:  # the query side splits on what the index holds, built or loaded alike
            self.splitter = CompoundSplitter.from_bm25(model.vocab_dict, model.scores["indptr"])

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], langs: Sequence[str]) -> BM25Index:
        """Index `texts[i]` under `ids[i]`, analysed as language `langs[i]` (German: compound parts added)."""
        terms = analyze_mixed(texts, langs)
        german = [i for i, lang in enumerate(langs) if lang == "de"]
        if german:
            frequencies: dict[str, int] = {}
            for i in german:
                for term in set(terms[i]):
                    frequencies[term] = frequencies.get(term, 0) + 1
            splitter, memo = CompoundSplitter(frequencies), {}
            for i in german:
                terms[i] = terms[i] + compound_stems(texts[i], splitter, memo)
        model = bm25s.BM25()
        model.index(terms, show_progress=False)
        return cls(list(ids), list(langs), model)

    def query_terms(self, query: str) -> list[str]:
        """The query's terms under every corpus language, plus its compounds' parts when German is one."""
        terms = analyze_query(query, self.query_langs)
        if self.splitter is not None:
            terms += [t for t in dict.fromkeys(compound_stems(query, self.splitter, self._memo)) if t not in terms]
        return terms

    def search_many(self, queries: Sequence[str], k: int = 10, mask: np.ndarray | None = None) -> list[Ranking]:
        """Top-`k` per query; documents that share no term with the query (score 0) are left out.

        `mask` (one 0/1 weight per document, in index order) restricts the search to a subset.
        """
        if not self.ids or not queries:
            return [[] for _ in queries]
        terms = [self.query_terms(q) for q in queries]
        k = min(k, len(self.ids))
        docs, scores = self.model.retrieve(
            terms, k=k, show_progress=False, weight_mask=None if mask is None else mask.astype(np.float32)
        )
        return [
            [(self.ids[int(d)], float(s)) for d, s in zip(row_docs, row_scores) if s > 0]
            for row_docs, row_scores in zip(docs, scores)
        ]

    def save(self, folder: Path, fingerprint: str) -> None:
        """Write next to the folder, then swap it in, so a reader never sees half an index."""
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save(str(tmp), show_progress=False)
        manifest = {"fingerprint": fingerprint, "ids": self.ids, "langs": self.langs}
        (tmp / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> BM25Index | None:
        """The saved index if it was built from the corpus with this fingerprint, else None."""
        try:
            manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if manifest.get("fingerprint") != fingerprint:
            return None
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(manifest["ids"], manifest["langs"], model)


def query_languages(langs: Sequence[str]) -> list[str]:
    """The languages a query is analysed in: those of at least MIN_QUERY_LANGUAGE_SHARE of the documents,
    undetermined ('und') only when no language is detected at all."""
    counts: dict[str, int] = {}
    for lang in langs:
        counts[lang] = counts.get(lang, 0) + 1
    floor = MIN_QUERY_LANGUAGE_SHARE * len(langs)
    chosen = sorted(lang for lang, n in counts.items() if n >= floor and lang != "und")
    return chosen or sorted(counts)


def corpus_fingerprint(chunk_ids: Sequence[str]) -> str:
    return content_hash(ANALYZER_VERSION, *sorted(chunk_ids))


class WorkspaceBM25:
    """BM25 over the workspace corpus (chunks' heading + text), with the simple Milvus filters."""

    def __init__(self, store: CorpusStore, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self._index: BM25Index | None = None
        self._fingerprint = ""
        self._generation: tuple[int, int] | None = None
        self._records: list[ChunkRecord] | None = None

    def index(self) -> BM25Index:
        """The index for the corpus as it is now: kept, loaded, or rebuilt when the corpus changed."""
        generation = self.store.generation()
        if self._index is not None and generation == self._generation:
            return self._index  # no write since the last check: skip hashing every chunk id per search
        fingerprint = corpus_fingerprint(self.store.chunk_ids())
        if self._index is None or fingerprint != self._fingerprint:
            records = None
            self._index = BM25Index.load(self.folder, fingerprint)
            if self._index is None:
                records = list(self.store.iter_chunks())
                self._index = BM25Index.build(
                    [r.chunk_id for r in records], [r.embed_text for r in records], [r.lang for r in records]
                )
                self._index.save(self.folder, fingerprint)
            self._fingerprint = fingerprint
            self._records = records
        self._generation = generation
        return self._index

    def rank_many(self, queries: list[str], k: int = 10, filter: str | None = None) -> list[Ranking]:
        """(chunk id, score) per query, best first, without reading the chunks."""
        index = self.index()
        return index.search_many(queries, k, self._mask(index, filter) if filter else None)

    def search_many(self, queries: list[str], k: int = 10, filter: str | None = None) -> list[list[SearchHit]]:
        return hydrate(self.store, self.rank_many(queries, k, filter))

    def search(self, query: str, k: int = 10, filter: str | None = None) -> list[SearchHit]:
        return self.search_many([query], k, filter)[0]

    def _mask(self, index: BM25Index, expr: str) -> np.ndarray:
        rule = parse_filter(expr)
        if self._records is None:
            by_id = self.store.chunks_by_ids(index.ids)
            self._records = [by_id[cid] for cid in index.ids]
        rule.check_fields(self._records)
        return np.fromiter((rule.matches(r) for r in self._records), dtype=np.float32, count=len(self._records))

