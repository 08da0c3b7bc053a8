"""HTML: the page's main text (no menus, footers, scripts) via trafilatura, headings as sections.

Web pages are mostly boilerplate; indexing navigation bars would swamp retrieval with noise.
When trafilatura finds no main content (tiny or unusual pages) BeautifulSoup's plain text is used.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import trafilatura
from bs4 import BeautifulSoup

from adaptlab.corpus.loaders.base import LoaderOptions, LoadError
from adaptlab.corpus.loaders.markdown import Outline, sections_from_outline
from adaptlab.corpus.loaders.text import decode_bytes
from adaptlab.corpus.types import Document, Section

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_HEADING_REND = re.compile(r"h([1-6])")
_DROPPED_TAGS = ("script", "style", "noscript", "template")


def read_html(path: Path) -> str:
    """UTF-8 first, then the charset the page declares in a <meta> tag."""
    data = path.read_bytes()
    declared = _META_CHARSET.search(data[:4096])
    return decode_bytes(data, fallback=declared.group(1).decode("ascii") if declared else None)


def main_text_outline(html: str) -> Outline:
    """trafilatura's XML rendering of the main content, as headings and text blocks."""
    xml = trafilatura.extract(
        html,
        output_format="xml",
        favor_recall=True,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
    )
    if not xml:
        return []
    main = ET.fromstring(xml).find("main")
    if main is None:
        return []
    outline = [(0, " ".join(main.text.split()))] if main.text and main.text.strip() else []
    for element in main:
        outline.append(_outline_item(element))
        if element.tail and element.tail.strip():
            outline.append((0, " ".join(element.tail.split())))
    return outline


def _outline_item(element: ET.Element) -> tuple[int, str]:
    if element.tag == "head":
        level = _HEADING_REND.fullmatch(element.get("rend", ""))
        return (int(level.group(1)) if level else 2, _inline_text(element))
    if element.tag == "list":
        return (0, "\n".join("- " + _inline_text(item) for item in element.iter("item")))
    if element.tag == "table":
        rows = (" | ".join(_inline_text(cell) for cell in row) for row in element.iter("row"))
        return (0, "\n".join(rows))
    return (0, _inline_text(element))


def _inline_text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def fallback_text(soup: BeautifulSoup) -> str:
    """All visible text, one line per block, for pages trafilatura judges to have no main content."""
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    body = soup.body or soup
    lines = (line.strip() for line in body.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def page_title(html: str, soup: BeautifulSoup) -> str:
    """<title>, else trafilatura's guess (og:title, first heading)."""
    if soup.title and soup.title.get_text(strip=True):
        return soup.title.get_text(strip=True)
    meta = trafilatura.extract_metadata(html)
    return (meta.title or "") if meta else ""


def load_html(path: Path, options: LoaderOptions) -> list[Document]:
    """One document per page: main text split at its headings."""
    html = read_html(path)
    soup = BeautifulSoup(html, "html.parser")
    title = page_title(html, soup) or path.stem
    sections = sections_from_outline(main_text_outline(html), title)
    extractor = "trafilatura"
    if not sections:
        text = fallback_text(soup)
        if not text:
            raise LoadError("no visible text in the HTML page")
        sections, extractor = [Section(text=text)], "beautifulsoup"
    metadata = {"format": "html", "extractor": extractor}
    return [Document(source=str(path), key="", title=title, sections=sections, metadata=metadata)]
