"""Markdown (front matter, heading paths) and HTML (main text, headings) loaders."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab import datasets
from adaptlab.corpus.loaders import LoaderOptions, LoadError, load_file
from adaptlab.corpus.loaders.markdown import markdown_outline, sections_from_outline

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "docs"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_becomes_scalar_metadata() -> None:
    doc = load_file(DOCS / "windenergie.md")[0]
    assert doc.title == "Windenergie an Land"
    assert doc.metadata == {
        "title": "Windenergie an Land",
        "author": "Beispielautorin",
        "date": "2024-03-01",
        "tags": "wind, genehmigung",
        "format": "md",
    }


def test_markdown_headings_become_heading_paths_without_the_title() -> None:
    doc = load_file(DOCS / "windenergie.md")[0]
    assert [s.heading for s in doc.sections] == [
        "",
        "Genehmigung",
        "Genehmigung > Abstandsregeln",
        "Repowering",
    ]
    assert doc.sections[0].text == "Windenergieanlagen erzeugen einen großen Teil des Stroms in Deutschland."


def test_hash_lines_inside_code_fences_are_not_headings() -> None:
    doc = load_file(DOCS / "windenergie.md")[0]
    assert "# kein Heading" in doc.sections[2].text


def test_markdown_without_front_matter_takes_title_from_first_heading(tmp_path: Path) -> None:
    path = _write(tmp_path, "plain.md", "# Netzentgelte\n\nEinleitung.\n\n## Höhe\n\nSie variieren.\n")
    doc = load_file(path)[0]
    assert doc.title == "Netzentgelte"
    assert [(s.heading, s.text) for s in doc.sections] == [("", "Einleitung."), ("Höhe", "Sie variieren.")]


def test_markdown_without_headings_is_titled_by_file_stem(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "notiz.md", "Nur ein Absatz."))[0]
    assert doc.title == "notiz" and doc.sections[0].heading == ""


def test_several_top_level_headings_stay_in_the_path() -> None:
    outline = markdown_outline("# Kapitel A\n\nText A\n\n## Teil\n\nText A1\n\n# Kapitel B\n\nText B\n")
    sections = sections_from_outline(outline, title="Buch")
    assert [s.heading for s in sections] == ["Kapitel A", "Kapitel A > Teil", "Kapitel B"]


def test_heading_level_jump_back_pops_the_path() -> None:
    outline = markdown_outline("## A\n\n#### A.1.1\n\nx\n\n### B.1\n\ny\n")
    assert [s.heading for s in sections_from_outline(outline, "")] == ["A > A.1.1", "A > B.1"]


def test_bad_yaml_front_matter_is_a_load_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\n\nText\n")
    with pytest.raises(LoadError, match=r"^invalid YAML front matter: .*\(line \d+\)$"):
        load_file(path)


def test_unclosed_front_matter_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no closing"):
        load_file(_write(tmp_path, "open.md", "---\ntitle: x\n\nText ohne Ende\n"))


def test_front_matter_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="expected key: value pairs"):
        load_file(_write(tmp_path, "list.md", "---\n- a\n- b\n---\n\nText\n"))


def test_html_main_text_without_boilerplate() -> None:
    doc = load_file(DOCS / "windenergie.html")[0]
    assert doc.title == "Windenergie an Land – Überblick"
    assert "Bundes-Immissionsschutzgesetz" in doc.text
    for boilerplate in ("Impressum", "tracking", "color: black", "Alle Rechte"):
        assert boilerplate not in doc.text
    assert doc.metadata == {"format": "html", "extractor": "trafilatura"}


def test_html_headings_become_sections() -> None:
    doc = load_file(DOCS / "windenergie.html")[0]
    assert [s.heading for s in doc.sections] == ["", "Genehmigung", "Repowering"]
    assert "- weniger Anlagen" in doc.sections[2].text


def test_tiny_html_falls_back_to_beautifulsoup(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "tiny.html", "<html><body><aside>Seitenleiste</aside><script>x()</script></body></html>"
    )
    doc = load_file(path)[0]
    assert doc.text == "Seitenleiste" and doc.title == "tiny"
    assert doc.metadata["extractor"] == "beautifulsoup"


def test_html_main_text_outside_block_elements(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "bare.html", "<html><body>Nur Text ohne Tags</body></html>"))[0]
    assert doc.text == "Nur Text ohne Tags" and doc.metadata["extractor"] == "trafilatura"


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "blank.htm", "<html><head><script>var a;</script></head><body> </body></html>")
    with pytest.raises(LoadError, match="no visible text"):
        load_file(path)


def test_html_in_its_declared_legacy_charset(tmp_path: Path) -> None:
    path = tmp_path / "latin.html"
    path.write_bytes(
        '<html><head><meta charset="iso-8859-1"></head><body><p>Größe</p></body></html>'.encode("latin-1")
    )
    assert "Größe" in load_file(path)[0].text


@pytest.mark.data
def test_german_law_sections_carry_part_and_paragraph() -> None:
    root = datasets.data_root()
    if root is None:
        pytest.skip("../shared/data not found (set ADAPTLAB_DATA)")
    doc = load_file(root / "gesetze" / "enwg_2005.md", LoaderOptions())[0]
    assert doc.title == "Gesetz über die Elektrizitäts- und Gasversorgung"
    assert doc.metadata["law"] == doc.metadata["jurabk"] == "EnWG 2005"
    headings = [s.heading for s in doc.sections]
    assert "Teil 1 - Allgemeine Vorschriften > § 3 Begriffsbestimmungen" in headings
    assert doc.sections[0].heading == "" and "Ausfertigungsdatum" in doc.sections[0].text
    assert not any(h.startswith("Gesetz über") for h in headings)
