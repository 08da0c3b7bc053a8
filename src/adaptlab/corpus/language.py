"""Offline language identification (py3langid's bundled model) for documents and chunks."""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_LANGUAGES: tuple[str, ...] = ("de", "en", "fr", "nl", "it", "es", "pl", "da", "cs", "sv")
UNDETERMINED = "und"
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(languages))
    return ident


def detect_language(
    text: str,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    min_letters: int = 12,
    min_confidence: float = 0.5,
    sample_chars: int = 1500,
) -> tuple[str, float]:
    """ISO 639-1 code and confidence; 'und' when the text is too short or too ambiguous to tell.

    Restricting to the languages the corpus can plausibly contain makes short texts far more reliable;
    the first `sample_chars` characters decide (a longer sample costs time and rarely changes the answer).
    """
    sample = text[:sample_chars]
    if len(_LETTERS.findall(sample)) < min_letters:
        return UNDETERMINED, 0.0
    lang, prob = _identifier(tuple(languages)).classify(sample)
    prob = float(prob)
    if prob < min_confidence:
        return UNDETERMINED, prob
    return str(lang), prob
