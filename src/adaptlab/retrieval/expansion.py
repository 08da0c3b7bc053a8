"""Query expansion for the lexical side: German compounds split, ontology terms translated, LLM rewrites fused.

BM25 matches whole (stemmed) words, so "Windenergieanlagen" misses a section about "Anlagen" for
"Windenergie", and "Stromspeicher" misses "electricity storage". Two cheap remedies add terms to the
BM25 query only (the dense side keeps the question as asked):

- compound splitting after Koehn & Knight (2003): a word is split where every part is a word of the
  corpus' own BM25 vocabulary (German linking elements -s-, -es- allowed) and the parts are
  more frequent than the whole (geometric mean of document frequencies); no lexicon download;
- synonyms from an ontology's German/English term pairs (the Open Energy Ontology's labels and
  `IAO_0000118` terms): a term found in the query brings its other-language terms along.

With an LLM configured, `multi_query` asks it for rewrites; each is searched and the rankings are
fused by RRF, so a bad rewrite can only add candidates, not remove the question's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from adaptlab.corpus.language import detect_language
from adaptlab.retrieval.analysis import _stemmer
from adaptlab.retrieval.compounds import CompoundSplitter
from adaptlab.retrieval.dense import SearchHit
from adaptlab.retrieval.fusion import RRF_K, rrf
from adaptlab.retrieval.self_query import Completer

_WORD = re.compile(r"[^\W\d_]+")


class OntologySynonyms:
    """German ↔ English terms of the same ontology class; a term in the query brings its translations.

    Terms match on word stems (German and English snowball), so "Windenergieanlagen" finds the term
    "Windenergieanlage" and "heat pumps" finds "heat pump".
    """

    def __init__(self, groups: Iterable[Sequence[str]], max_words: int = 5) -> None:
        self.table: dict[str, set[str]] = {}
        self.max_words = max_words
        for group in groups:
            terms = {t.strip() for t in group if t and t.strip()}
            for term in terms:
                for key in _stem_keys(term):
                    self.table.setdefault(key, set()).update(terms - {term})

    @classmethod
    def from_ontology(cls, oeo_dir: Path) -> OntologySynonyms:
        """Each class' English label and terms with its German terms (classes without German terms add nothing)."""
        from adaptlab.eval.oeo import oeo_classes

        return cls(
            [entry["label_en"], *entry["terms_en"], *entry["terms_de"]]
            for entry in oeo_classes(oeo_dir)
            if entry["terms_de"]
        )

    def __len__(self) -> int:
        return len(self.table)

    def lookup(self, query: str) -> list[str]:
        """Translations of the terms found in `query` (longest first), none that the query already holds."""
        words = _WORD.findall(query.casefold())
        query_keys: set[str] = set()
        found: dict[str, None] = {}
        for lang in ("de", "en"):
            stems = _stemmer(lang).stemWords(words)
            query_keys.update(stems)
            for n in range(min(self.max_words, len(stems)), 0, -1):
                for i in range(len(stems) - n + 1):
                    for term in sorted(self.table.get(" ".join(stems[i : i + n]), ())):
                        found.setdefault(term, None)
        return [t for t in found if not _stem_keys(t) & query_keys and t.casefold() not in query.casefold()]


def _stem_keys(phrase: str) -> set[str]:
    """The phrase's words stemmed as German and as English, joined: its keys in the synonym table."""
    words = _WORD.findall(phrase.casefold())
    return {" ".join(_stemmer(lang).stemWords(words)) for lang in ("de", "en")} if words else set()


@dataclass
class Expansion:
    """The query for BM25 (the original plus added terms) and what was added, for display and logs."""

    query: str
    lexical_query: str
    compounds: dict[str, list[str]] = field(default_factory=dict)
    synonyms: list[str] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "lexical_query": self.lexical_query,
            "compounds": self.compounds,
            "synonyms": self.synonyms,
            "rewrites": self.rewrites,
        }


class QueryExpander:
    """Compound parts and ontology synonyms appended to the BM25 query; either part may be absent."""

    def __init__(
        self,
        splitter: CompoundSplitter | None = None,
        synonyms: OntologySynonyms | None = None,
        max_synonyms: int = 6,
    ) -> None:
        self.splitter = splitter
        self.synonyms = synonyms
        self.max_synonyms = max_synonyms

    def expand(self, query: str) -> Expansion:
        compounds: dict[str, list[str]] = {}
        if (
            self.splitter is not None and detect_language(query)[0] != "en"
        ):  # English has few closed compounds
            for word in dict.fromkeys(_WORD.findall(query)):
                parts = self.splitter.split(word)
                if len(parts) > 1:
                    compounds[word] = parts
        synonyms = self.synonyms.lookup(query)[: self.max_synonyms] if self.synonyms is not None else []
        added = [p for parts in compounds.values() for p in parts] + synonyms
        lexical = f"{query} {' '.join(added)}" if added else query
        return Expansion(query, lexical, compounds, synonyms)


@cache
def default_synonyms() -> OntologySynonyms | None:
    """The Open Energy Ontology's term pairs from the shared data folder, when it is there."""
    from adaptlab.datasets import data_root

    root = data_root()
    folder = root / "oeo" if root is not None else None
    if folder is None or not any(folder.glob("*.omn")):
        return None
    return OntologySynonyms.from_ontology(folder)


MULTI_QUERY_PROMPT = (
    "Rewrite the user's search question {n} different ways: other words, the other language (German or "
    "English), more specific terms. One rewrite per line, no numbering, nothing else."
)


def multi_query(llm: Completer, question: str, n: int = 3) -> list[str]:
    """Up to `n` rewrites of `question` by the LLM (empty when it fails or only echoes the question)."""
    try:
        reply = llm.complete(
            [
                {"role": "system", "content": MULTI_QUERY_PROMPT.format(n=n)},
                {"role": "user", "content": question},
            ],
            160,
        )
    except (OSError, ValueError):
        return []
    seen = {question.casefold().strip()}
    rewrites: list[str] = []
    for line in reply.splitlines():
        text = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"')
        if 3 <= len(text) <= 300 and text.casefold() not in seen:
            seen.add(text.casefold())
            rewrites.append(text)
    return rewrites[:n]


def fuse_hits(rankings: Sequence[Sequence[SearchHit]], k: int, rrf_k: int = RRF_K) -> list[SearchHit]:
    """Rankings of the same chunks (the question's and its rewrites') fused by reciprocal rank."""
    hits: dict[str, SearchHit] = {}
    for ranking in rankings:
        for hit in ranking:
            hits.setdefault(hit.chunk_id, hit)
    fused = rrf([{h.chunk_id: -float(h.rank) for h in ranking} for ranking in rankings], rrf_k)
    order = sorted(fused.items(), key=lambda item: item[1], reverse=True)[:k]
    return [replace(hits[cid], rank=rank, score=score) for rank, (cid, score) in enumerate(order, 1)]
