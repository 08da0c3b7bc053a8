"""The whole-text fast paths give exactly what the readable per-line reference gives.

`benchmarks/ingest_reference.py` holds the previous implementation of every function the speed work
rewrote; here both run on hand-picked tricky inputs (German legal abbreviations, lists, tables,
headings, umlauts, odd whitespace and line breaks) and on random mixtures of those pieces.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

import ingest_reference as ref  # noqa: E402

from adaptlab.corpus import cleaning, sentences  # noqa: E402
from adaptlab.corpus.chunking import SentencePacker  # noqa: E402
from adaptlab.corpus.language import detect_language, detect_languages  # noqa: E402
from adaptlab.corpus.loaders import markdown as md  # noqa: E402
from adaptlab.corpus.loaders.base import LoadError  # noqa: E402

TRICKY = [
    "Nach § 3 Abs. 1 Nr. 2 EnWG gilt dies. Die Anlage kostet z. B. 5 Mio. Euro.",
    "Siehe Art. 3 Satz 2 i.V.m. Anl. 1 sowie vgl. Nr. 4. Am 1. Januar 2020 trat es in Kraft.",
    "(1) Zweck des Gesetzes ist eine möglichst sichere,\npreisgünstige Versorgung.\n\n(2) Die Regulierung "
    "dient\nden Zielen.\n1.  die freie Preisbildung\n    zu stärken,\n2. den Wettbewerb zu fördern;\na) erstens\n"
    "b) zweitens\n- Punkt\n* Stern\n• Kreis\n-\nkein Punkt",
    "| Spalte A | Spalte B |\n|---|---|\n| Wärme | 3,5 kWh |\n\n| Öl | 2. Stufe |",
    "Energie-\nwirtschaft und Nord-\nSüd, Wind-\nund Solar, Wind-\n  oder Wasser; a-\nb-\nc-\nd und X-\nY-\nZ-\nw",
    "Ligaturen: eﬀektiv, ﬁnal, ﬂach, Soft\u00adhyphen, Null\u200bbreite, geschütztes\u00a0Leerzeichen,\tTab, "
    "schmales\u202fLeerzeichen.\r\nWindows-Zeile\rAlter Mac.",
    "  führende Leerzeichen  \n \t \n\n\n   mehrere    Leerzeilen \x0c Seitenvorschub\u2028Zeilentrenner\x85.",
    "Frage? Antwort! Ende… Nächster Satz. „Zitat.“ Weiter. (Klammer.) Danach. U.S. Army. Dr. Müller kam.",
    "e.g. Milvus or i.e. a vector database. The U.S. grid is big. Fig. 3 shows it. No. 5 is here.",
    "Ä Ö Ü ä ö ü ß. Über Öl. Äpfel! 3. Änderung. § 5 (weggefallen)",
    "",
    " \n \n",
    "-",
    "1.",
    "a-\n",
    "Ende.\n",
]

PIECES = [
    "Abs.",
    "Nr.",
    "z. B.",
    "§",
    "3",
    "12.",
    "Wärme",
    "Straße",
    "Öl",
    "EnWG",
    "i.V.m.",
    "usw.",
    "Der",
    "die",
    "Anlage",
    "muss.",
    "Satz",
    "ggf.",
    "Mio.",
    "Euro",
    "(1)",
    "a)",
    "1.",
    "-",
    "•",
    "|",
    "Wind-",
    "und",
    "oder",
    "Netz-",
    "betreiber",
    ".",
    "!",
    "?",
    "…",
    "„",
    "“",
    '"',
    "U.S.",
    "Dr.",
    "Art.",
    "Tel.",
    "AB",
    "CD",
    "e.g.",
]
SPACES = [
    " ",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\n",
    "\n\n",
    " \n ",
    "\t",
    "\u00a0",
    "\u2028",
    "\r\n",
    "\n\n\n",
    "-\n",
]


def _random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 120)):
            parts += [rng.choice(PIECES), rng.choice(SPACES)]
        texts.append("".join(parts))
    return texts


CASES = TRICKY + _random_texts(400, seed=7)


@pytest.mark.parametrize(
    ("fast", "reference"),
    [
        (cleaning.normalize_unicode, ref.normalize_unicode),
        (cleaning.dehyphenate, ref.dehyphenate),
        (cleaning.normalize_whitespace, ref.normalize_whitespace),
        (cleaning.clean_text, ref.clean_text),
        (sentences.split_sentences, ref.split_sentences),
    ],
    ids=["normalize_unicode", "dehyphenate", "normalize_whitespace", "clean_text", "split_sentences"],
)
def test_text_functions_equal_the_reference(fast, reference) -> None:
    for text in CASES:
        assert fast(text) == reference(text), repr(text)
    # the same on text that has been through the earlier cleaning steps, as in the pipeline
    for text in CASES:
        cleaned = ref.clean_text(text)
        assert fast(cleaned) == reference(cleaned), repr(cleaned)


def test_dehyphenate_keeps_the_single_pass_semantics() -> None:
    # a one-letter syllable between two breaks: the first join consumes it, so the lower-case pass skips
    # the second break and the upper-case pass keeps its hyphen
    assert cleaning.dehyphenate("a-\nb-\nc-\nd") == ref.dehyphenate("a-\nb-\nc-\nd") == "ab-cd"


@pytest.mark.parametrize(("budget", "overlap"), [(500, 20), (12, 3), (5, 0), (1, 1)])
def test_packing_equals_the_reference(budget: int, overlap: int) -> None:
    packer = SentencePacker(budget, overlap)
    for text in CASES:
        cleaned = ref.clean_text(text)
        assert packer.pack(cleaned) == ref.pack(cleaned, budget, overlap), repr(cleaned)
    # whitespace other than space and newline must survive inside a sentence, as the reference keeps it
    odd = "Ein Satz\u2028mit Trenner. Zweiter Satz."
    assert packer.pack(odd) == ref.pack(odd, budget, overlap)


@pytest.mark.parametrize(("budget", "overlap"), [(500, 20), (12, 3), (1, 1)])
def test_packed_word_counts_equal_counting_the_words_again(budget: int, overlap: int) -> None:
    packer = SentencePacker(budget, overlap)
    for text in [*CASES, "Ein Satz\u2028mit Trenner. Zweiter Satz."]:
        for raw in (text, ref.clean_text(text)):
            for piece, words in packer.pack_measured(raw):
                assert words == len(piece.split()), repr(piece)


def test_language_batch_equals_one_library_call_per_text() -> None:
    texts = (
        [t for t in TRICKY if t]
        + [
            "DER NETZBETREIBER IST VERPFLICHTET, DIE ANLAGE UNVERZÜGLICH ANZUSCHLIESSEN UND ZU BETREIBEN. "
            * 3,
            "The grid operator must connect the installation without delay.\n\n" * 5,
            "   \n\n  Der Netzbetreiber ist verpflichtet, die Anlage unverzüglich anzuschließen. " * 4,
            "Le gestionnaire du réseau doit raccorder l'installation sans délai. " * 4,
            "§ 3 Abs. 1",
            "Wärmepumpe",
        ]
        + _random_texts(60, seed=11)
    )
    for sample_chars in (600, 1500):
        expected = [ref.detect_language(t, sample_chars=sample_chars) for t in texts]
        assert detect_languages(texts, sample_chars=sample_chars) == expected
        assert [detect_language(t, sample_chars=sample_chars) for t in texts] == expected


MARKDOWN = [
    "# Titel\n\nText davor.\n\n## § 1 Zweck\n\nDieses Gesetz regelt.\n\n### Unter ###\nmehr\n#kein Titel\n"
    "    # eingerückt (Code)\n   # drei Leerzeichen\n####### sieben\n# \n##\tTab\nEnde",
    "ohne Überschrift\n\nnur Text\n",
    "## erst\n## zwei\n## drei",
    "Text\r\n# CRLF\r\nmehr",
    "Text\n```\n# kein Titel im Code\n```\n# Titel\n",
    "Text\n~~~\n# auch nicht\n~~~\n## doch\nx",
    "# Ä Ö Ü\u2028# nicht getrennt\n",
    "\n\n\n# leer davor\n\n\n",
]


def test_markdown_outline_equals_the_line_by_line_parse() -> None:
    for body in MARKDOWN + _random_texts(100, seed=3):
        assert md.markdown_outline(body) == md._outline_by_lines(body), repr(body)


@pytest.mark.parametrize(
    "text",
    [
        "---\ntitle: Gesetz\njurabk: EnWG\n---\n# Gesetz\n\nText",
        "---\ntitle: a\n...\nbody",
        "---\n---\nbody",
        "  ---  \ntitle: x\n---  \nrest\n",
        "kein front matter\n---\n",
        "---",
        "---\ntitle: offen\n",
        "---\r\ntitle: crlf\r\n---\r\nbody",
        "",
    ],
)
def test_front_matter_split_equals_the_line_by_line_split(text: str) -> None:
    def outcome(split):
        try:
            return split(text)
        except LoadError as err:
            return str(err)

    assert outcome(md.split_front_matter) == outcome(md._split_front_matter_by_lines)
