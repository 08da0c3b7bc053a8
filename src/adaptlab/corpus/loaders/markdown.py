"""Markdown: YAML front matter becomes metadata, headings become sections with their heading path.

The heading path ("Teil 1 - Allgemeine Vorschriften > § 3 Begriffsbestimmungen") travels with
every chunk, so a retrieved paragraph still says where in the document it stands.
`sections_from_outline` is shared with the HTML loader.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.loaders.text import read_text
from adaptlab.corpus.types import Document, Section

HEADING_SEPARATOR = " > "
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_END = ("---", "...")
# _ATX_HEADING for a line inside the whole text: the line starts after a \n and ends before one (or the end)
_ATX_HEADING_LINE = re.compile(r"\n {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*(?=\n|\Z)")
# what str.splitlines splits on besides \n
_OTHER_LINE_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")

Outline = list[tuple[int, str]]
"""A document as (level, text) pairs: level 1-6 is a heading, level 0 a block of body text."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Separate a leading `---` YAML block from the body; bad YAML is the user's to fix."""
    if not _newline_lines_only(text):
        return _split_front_matter_by_lines(text)
    first_end = text.find("\n")
    if (text if first_end == -1 else text[:first_end]).strip() != "---":
        return {}, text
    start = first_end + 1 if first_end != -1 else len(text)
    while start < len(text):  # the lines after the opening one, found with str.find instead of a full split
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        if text[start:end].strip() in _FRONT_MATTER_END:
            return _parse_front_matter(text[first_end + 1 : start]), text[end + 1 :]
        start = end + 1
    raise LoadError("front matter starts with '---' but has no closing '---' line")


def _split_front_matter_by_lines(text: str) -> tuple[dict[str, Any], str]:
    """`split_front_matter` for text with line breaks other than \\n (\\r, \\u2028, ...), as str.splitlines sees them."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in _FRONT_MATTER_END), None)
    if end is None:
        raise LoadError("front matter starts with '---' but has no closing '---' line")
    return _parse_front_matter("".join(lines[1:end])), "".join(lines[end + 1 :])


# libyaml's safe loader where PyYAML was built with it (every wheel): ~10x faster than the Python one
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_front_matter(block: str) -> dict[str, Any]:
    try:
        data = yaml.load(block, Loader=_SAFE_LOADER)
    except yaml.YAMLError as err:
        raise LoadError(f"invalid YAML front matter: {_yaml_reason(err)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoadError(f"front matter is a YAML {type(data).__name__}, expected key: value pairs")
    return data


def _yaml_reason(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    mark = getattr(err, "problem_mark", None)
    # +2: the mark counts from 0 inside the block, which starts after the opening '---' line
    return f"{problem} (line {mark.line + 2})" if mark is not None else problem


def front_matter_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """Keep what a filter can use: scalars, dates as ISO strings, lists of scalars joined with ', '."""
    meta: dict[str, Any] = {}
    for key, value in data.items():
        scalar = _scalar(value)
        if scalar is None and isinstance(value, list):
            items = [str(s) for s in map(_scalar, value) if s is not None]
            scalar = ", ".join(items) if items else None
        if scalar is not None:
            meta[str(key)] = scalar
    return meta


def _scalar(value: Any) -> str | int | float | bool | None:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return None


def markdown_outline(body: str) -> Outline:
    """ATX headings (`#`..`######`) outside fenced code blocks, and the text between them.

    Without fences and with only \\n line breaks, one regex pass over the whole text finds the heading
    lines; otherwise every line is looked at (`_outline_by_lines`, which gives the same outline).
    """
    if "```" in body or "~~~" in body or not _newline_lines_only(body):
        return _outline_by_lines(body)
    outline: Outline = []
    text = "\n" + body  # every heading line now starts after a newline
    start = 1
    for heading in _ATX_HEADING_LINE.finditer(text):
        _flush_text(text[start : heading.start()], outline)
        outline.append((len(heading.group(1)), heading.group(2).strip()))
        start = heading.end()
    _flush_text(text[start:], outline)
    return outline


def _outline_by_lines(body: str) -> Outline:
    outline: Outline = []
    block: list[str] = []
    fence: str | None = None
    for line in body.splitlines():
        fence_match = _FENCE.match(line)
        if fence_match and (fence is None or fence_match.group(1)[0] == fence):
            fence = fence_match.group(1)[0] if fence is None else None
        heading = None if fence else _ATX_HEADING.match(line)
        if heading:
            _flush(block, outline)
            outline.append((len(heading.group(1)), heading.group(2).strip()))
        else:
            block.append(line)
    _flush(block, outline)
    return outline


def _newline_lines_only(text: str) -> bool:
    """True when str.splitlines would split `text` at \\n and nowhere else."""
    return not any(ch in text for ch in _OTHER_LINE_BREAKS)


def _flush(block: list[str], outline: Outline) -> None:
    _flush_text("\n".join(block), outline)
    block.clear()


def _flush_text(text: str, outline: Outline) -> None:
    text = text.strip("\n")
    if text.strip():
        outline.append((0, text))


def sections_from_outline(outline: Outline, title: str) -> list[Section]:
    """Body blocks grouped under their heading path; the document-title `#` heading is left out."""
    title_headings = _title_heading_indices(outline, title)
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    for index, (level, text) in enumerate(outline):
        if level == 0:
            heading = HEADING_SEPARATOR.join(h for _, h in stack)
            if sections and sections[-1].heading == heading:
                sections[-1].text += "\n\n" + text
            else:
                sections.append(Section(text=text, heading=heading))
        elif index not in title_headings:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
    return sections


def _title_heading_indices(outline: Outline, title: str) -> set[int]:
    """A `#` heading is the document's title when it is the only one or repeats the title."""
    h1 = [i for i, (level, _) in enumerate(outline) if level == 1]
    wanted = title.casefold().strip()
    return {i for i in h1 if len(h1) == 1 or (wanted and outline[i][1].casefold().startswith(wanted))}


def _title(meta: dict[str, Any], outline: Outline, fallback: str) -> str:
    for key in ("Title", "title"):
        if isinstance(meta.get(key), str) and meta[key].strip():
            return meta[key].strip()
    return next((text for level, text in outline if level == 1), fallback)


def load_markdown(path: Path, options: LoaderOptions) -> list[Document]:
    """One document per file, one section per heading path."""
    front, body = split_front_matter(read_text(path))
    meta = front_matter_metadata(front)
    if "jurabk" in meta:
        meta["law"] = meta["jurabk"]
    outline = markdown_outline(body)
    title = _title(meta, outline, path.stem)
    sections = sections_from_outline(outline, title)
    if not sections:
        raise LoadError("no text outside headings and front matter")
    meta["format"] = "md"
    return [Document(source=str(path), key="", title=title, sections=sections, metadata=meta)]
