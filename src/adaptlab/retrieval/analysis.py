"""Language-aware text analysis for BM25: lower-cased word tokens, stopwords removed, snowball stems.

Documents are analysed in their own language (the chunk's detected `lang`); a query, whose language is
unreliable to detect from a few words, is analysed the way each language of the corpus is and the
terms are united, so its terms meet the documents' terms whatever language those were stemmed in.

German compounds are split on top of this analysis, by the BM25 index (`bm25.BM25Index`, `compounds`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import bm25s
import Stemmer

SNOWBALL = {"de": "german", "en": "english"}
"""ISO 639-1 code → PyStemmer algorithm; other languages get plain lower-cased tokens."""
STOPWORDS = {"de": "de", "en": "en"}
"""ISO 639-1 code → bm25s stopword list."""
ANALYZER_VERSION = "2"
"""Part of the persisted index's fingerprint: a change here (or in what BM25Index.build adds) must rebuild
indexes. 2: German compound parts indexed."""


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = SNOWBALL.get(lang)
    return Stemmer.Stemmer(name) if name else None


def analyze(texts: Sequence[str], lang: str) -> list[list[str]]:
    """Terms of each text, analysed as language `lang` (ISO code; unknown codes: no stopwords, no stems)."""
    if not texts:
        return []
    return bm25s.tokenize(
        list(texts), lower=True, stopwords=STOPWORDS.get(lang, []), stemmer=_stemmer(lang),
        return_ids=False, show_progress=False,
    )


def analyze_mixed(texts: Sequence[str], langs: Sequence[str]) -> list[list[str]]:
    """Terms of texts in several languages, each analysed in its own (`langs[i]` for `texts[i]`)."""
    terms: list[list[str]] = [[] for _ in texts]
    for lang in dict.fromkeys(langs):
        positions = [i for i, text_lang in enumerate(langs) if text_lang == lang]
        for i, tokens in zip(positions, analyze([texts[i] for i in positions], lang)):
            terms[i] = tokens
    return terms


def analyze_query(query: str, langs: Iterable[str]) -> list[str]:
    """The query's terms under every corpus language, united in first-seen order, each once."""
    terms: dict[str, None] = {}
    for lang in sorted(set(langs)):
        terms.update(dict.fromkeys(analyze([query], lang)[0]))
    return list(terms)
