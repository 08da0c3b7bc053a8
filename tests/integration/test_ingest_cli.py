"""`adaptlab ingest` on real files: idempotence, change detection, pruning and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import run_cli

MINIMAL_PDF_HEAD = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"


def _ingest(*args: str) -> tuple[int, dict, str]:
    result = run_cli("ingest", *args, "--json", "--tracking-uri", "none")
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, report, result.stderr


def _good_files(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.txt").write_text("Der Netzbetreiber muss die Anlage anschließen. Das gilt ab sofort.", "utf-8")
    (folder / "b.md").write_text("---\ntitle: Gesetz\n---\n# Gesetz\n\n## § 1 Zweck\n\nDieses Gesetz regelt den Netzanschluss.\n", "utf-8")
    (folder / "c.html").write_text("<html><head><title>Wind</title></head><body><article><h1>Wind</h1><p>Wind turbines convert wind into electricity for the grid.</p></article></body></html>", "utf-8")
    (folder / "d.jsonl").write_text('{"id": 1, "text": "Photovoltaik erzeugt Strom aus Sonnenlicht."}\n', "utf-8")
    (folder / "e.csv").write_text("id,text\n1,Ein Batteriespeicher speichert elektrische Energie.\n", "utf-8")


def _broken_files(folder: Path) -> int:
    """Twenty kinds of bad input, each of which must be skipped with a reason."""
    folder.mkdir()
    bad = {
        "corrupt.pdf": MINIMAL_PDF_HEAD,
        "fake.pdf": b"this is not a pdf at all",
        "empty.txt": b"",
        "blank.md": b"   \n\n\t  \n",
        "binary.txt": bytes(range(256)) * 8,
        "latin.txt": "Grüße".encode() + b"\x81\x8d\x8f\x90\x9d" * 3,
        "image.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "archive.zip": b"PK\x03\x04" + b"\x00" * 64,
        "report.docx": b"PK\x03\x04" + b"\x00" * 64,
        "broken.json": b'{"records": [1, 2,',
        "lines.jsonl": b"{not json}\n{also not}\n",
        "notext.csv": b"id,count\n1,2\n",
        "notext.json": b'[{"id": 1, "value": 3}]',
        "frontmatter.md": b"---\ntitle: [unclosed\n---\n# Hi\n\ntext",
        "huge.txt": b"wort " * 40_000,
        "random.xml": b"<root><child>not a MaStR export</child></root>",
        "noext": b"some text without a suffix",
        "empty.html": b"<html><body></body></html>",
        "nul.md": b"# Title\n\x00\x00\x00binary",
    }
    for name, content in bad.items():
        (folder / name).write_bytes(content)
    os.symlink(folder / "does-not-exist.txt", folder / "dangling.txt")
    return len(bad) + 1


def test_good_files_are_ingested_and_bad_ones_skipped_with_one_line_each(workspace: Path, tmp_path: Path) -> None:
    _good_files(tmp_path / "good")
    n_bad = _broken_files(tmp_path / "bad")
    code, report, stderr = _ingest(str(tmp_path / "good"), str(tmp_path / "bad"), "--max-file-mb", "0.1")
    assert n_bad == 20
    assert code == 1, stderr
    assert report["files_ingested"] == 5 and report["files_skipped"] == 20
    skipped_lines = [line for line in stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped_lines) == 20
    assert all(": " in line and str(tmp_path) in line for line in skipped_lines)
    assert "Traceback" not in stderr


def test_ingesting_twice_changes_nothing_and_an_edit_rechunks_one_file(workspace: Path, tmp_path: Path) -> None:
    _good_files(tmp_path / "good")
    code, first, _ = _ingest(str(tmp_path / "good"))
    assert code == 0 and first["files_ingested"] == 5
    code, second, _ = _ingest(str(tmp_path / "good"))
    assert second["files_unchanged"] == 5 and second["chunks_written"] == 0
    assert second["corpus"]["chunks"] == first["corpus"]["chunks"]
    (tmp_path / "good" / "a.txt").write_text("Ganz neuer Inhalt über Windenergie an Land.", "utf-8")
    code, third, _ = _ingest(str(tmp_path / "good"))
    assert third["files_ingested"] == 1 and third["files_unchanged"] == 4
    assert third["documents_updated"] == 1 and third["corpus"]["documents"] == first["corpus"]["documents"]


def test_prune_removes_documents_of_deleted_files(workspace: Path, tmp_path: Path) -> None:
    _good_files(tmp_path / "good")
    _ingest(str(tmp_path / "good"))
    (tmp_path / "good" / "e.csv").unlink()
    code, report, _ = _ingest(str(tmp_path / "good"), "--prune")
    assert code == 0 and report["documents_removed"] == 1 and report["corpus"]["documents"] == 4


def test_missing_path_is_reported_not_raised(workspace: Path, tmp_path: Path) -> None:
    code, report, stderr = _ingest(str(tmp_path / "nowhere"))
    assert code == 1 and "no such file or directory" in stderr and "Traceback" not in stderr
