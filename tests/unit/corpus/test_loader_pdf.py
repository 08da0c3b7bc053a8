"""PDF loader: one section per page, clear errors for corrupt, encrypted and scanned files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfWriter

from adaptlab.corpus.loaders import LoadError, load_file


def minimal_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A valid PDF with one line of Helvetica text per page, written by hand (no reportlab)."""
    count = len(pages)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {count} >>"]
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if title:
        objects.append(f"<< /Title ({title}) >>")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    info = f" /Info {len(objects)} 0 R" if title else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.fixture
def pdf_path(tmp_path: Path) -> Path:
    path = tmp_path / "bericht.pdf"
    path.write_bytes(
        minimal_pdf(["Erste Seite zum Netzausbau", "Zweite Seite zur Speicherung"], title="Jahresbericht")
    )
    return path


def _error(path: Path) -> str:
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_one_section_per_page_with_page_numbers(pdf_path: Path) -> None:
    doc = load_file(pdf_path)[0]
    assert [(s.page, s.text) for s in doc.sections] == [
        (1, "Erste Seite zum Netzausbau"),
        (2, "Zweite Seite zur Speicherung"),
    ]
    assert doc.title == "Jahresbericht" and doc.key == ""
    assert doc.metadata == {"format": "pdf", "pages": 2}


def test_title_falls_back_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "ohne_titel.pdf"
    path.write_bytes(minimal_pdf(["Text"]))
    assert load_file(path)[0].title == "ohne_titel"


def test_truncated_pdf_says_no_eof_marker(pdf_path: Path) -> None:
    data = pdf_path.read_bytes()
    pdf_path.write_bytes(data[: len(data) // 2])
    assert _error(pdf_path) == "corrupt PDF (no EOF marker, probably truncated); re-export it"


def test_garbage_after_a_pdf_header_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body\n%%EOF\n")
    assert _error(path).startswith("corrupt PDF (")


def test_not_a_pdf_at_all(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_text("just some text", encoding="utf-8")
    assert _error(path) == "not a PDF (no %PDF header); check the file type"


def test_password_protected_pdf(tmp_path: Path, pdf_path: Path) -> None:
    writer = PdfWriter(clone_from=pdf_path)
    writer.encrypt("geheim", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    writer.write(locked)
    assert _error(locked) == "encrypted PDF (password required); save an unprotected copy"


def test_pdf_encrypted_without_user_password_loads(tmp_path: Path, pdf_path: Path) -> None:
    writer = PdfWriter(clone_from=pdf_path)
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    protected = tmp_path / "owner_only.pdf"
    writer.write(protected)
    assert load_file(protected)[0].sections[0].text == "Erste Seite zum Netzausbau"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    scanned = tmp_path / "scan.pdf"
    writer.write(scanned)
    assert _error(scanned) == "no text in the PDF (no text layer, and its pages are blank)"
