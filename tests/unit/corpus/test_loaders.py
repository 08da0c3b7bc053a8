"""The loader registry: dispatch by suffix and the file checks every format shares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adaptlab.corpus import loaders
from adaptlab.corpus.loaders import LoaderOptions, LoadError, load_file, supported_suffixes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DOCS = FIXTURES / "docs"


def _error(path: Path, options: LoaderOptions | None = None) -> str:
    with pytest.raises(LoadError) as info:
        load_file(path, options)
    message = str(info.value)
    assert message and "\n" not in message, "a LoadError message is one line"
    return message


def test_supported_suffixes_cover_every_documented_format() -> None:
    expected = {
        ".txt",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".pdf",
        ".json",
        ".jsonl",
        ".csv",
        ".tsv",
        ".xml",
        ".omn",
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
    }
    assert supported_suffixes() == expected
    assert set(loaders.LOADERS) == expected


@pytest.mark.parametrize(
    "name",
    [
        "notes.txt",
        "windenergie.md",
        "windenergie.html",
        "records.json",
        "records.jsonl",
        "records.csv",
        "mini.omn",
    ],
)
def test_every_fixture_loads_to_documents_with_source_and_format(name: str) -> None:
    documents = load_file(DOCS / name)
    assert documents
    for doc in documents:
        assert doc.source == str(DOCS / name)
        assert doc.text.strip()
        assert doc.metadata["format"]
        assert doc.lang == ""
    assert len({doc.key for doc in documents}) == len(documents), "keys tell documents apart"


def test_text_file_title_is_its_first_line(tmp_path: Path) -> None:
    doc = load_file(DOCS / "notes.txt")[0]
    assert doc.key == "" and doc.title == "Netzausbau in Deutschland"
    assert "Übertragungsnetze" in doc.text
    long_line = tmp_path / "long.txt"
    long_line.write_text("wort " * 40 + "\nrest", encoding="utf-8")
    assert len(load_file(long_line)[0].title) <= 82


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "NOTES.TXT"
    path.write_text("Hallo", encoding="utf-8")
    assert load_file(path)[0].text == "Hallo"


def test_unsupported_suffix_names_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"PK\x03\x04 zip")
    message = _error(path)
    assert message.startswith("unsupported file type .pptx (supported: ")
    assert ".md" in message and ".pdf" in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.txt") == "file not found"
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert _error(folder) == "is a directory"


def test_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "gone.txt")
    assert _error(link).startswith("broken symlink")


def test_working_symlink_loads(tmp_path: Path) -> None:
    link = tmp_path / "link.md"
    link.symlink_to(DOCS / "windenergie.md")
    assert load_file(link)[0].title == "Windenergie an Land"


def test_unreadable_file_is_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("geheim", encoding="utf-8")
    path.chmod(0)
    # root reads anything, so the check is simulated; a non-root run exercises the real one
    if os.geteuid() == 0:
        monkeypatch.setattr(loaders.os, "access", lambda p, mode: False)
    assert _error(path) == "permission denied"


def test_permission_error_while_reading_is_a_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("text", encoding="utf-8")

    def denied(path: Path, options: LoaderOptions) -> list:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(loaders, "loader_for", lambda path: denied)
    assert _error(path) == "permission denied"


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 300_000, encoding="utf-8")
    message = _error(path, LoaderOptions(max_file_mb=0.1))
    assert message == "file is 0.29 MB, over the 0.1 MB limit (raise corpus.max_file_mb)"


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf\n"])
def test_empty_or_whitespace_only_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(content)
    assert _error(path).startswith("empty file")


def test_binary_content_with_a_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert _error(path) == "binary file, not text"


def test_undecodable_bytes_name_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "broken.md"
    path.write_bytes("# Überschrift\n\nText ".encode() + b"\xff\xfe kaputt")
    assert _error(path) == "not UTF-8 text (invalid byte 0xff at offset 21); save it as UTF-8"


def test_windows_1252_text_is_accepted_for_txt(tmp_path: Path) -> None:
    path = tmp_path / "alt.txt"
    path.write_bytes("Größe der Anlage – 5 kW".encode("cp1252"))
    assert load_file(path)[0].text == "Größe der Anlage – 5 kW"


def test_cp1252_fallback_refuses_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "soup.txt"
    path.write_bytes(b"abc \xe4\x01\x02 def")
    assert _error(path).startswith("not UTF-8 text (invalid byte 0xe4 at offset 4)")


def test_utf16_text_with_bom_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes("Wärmepumpe".encode("utf-16"))
    assert load_file(path)[0].text == "Wärmepumpe"
