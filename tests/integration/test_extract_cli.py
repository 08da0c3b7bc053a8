"""`adaptlab extract` as a user runs it: a folder of mixed inputs (text, Markdown table, a scanned
image, a broken file) → validated records in JSON lines; bad inputs named, good ones written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

from adaptlab.ocr.engine import OcrUnavailableError, check_tesseract
from adaptlab.ocr.synthetic import find_font, render_text

pytestmark = pytest.mark.slow


def test_extract_folder_with_scan_table_and_bad_files(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("01_windpark_datenblatt.txt", "08_speicher_tabelle.md", "20_netzausbau_kein_record.txt"):
        shutil.copy(FIXTURES / "extract" / "docs" / name, inputs / name)
    (inputs / "kaputt.pdf").write_bytes(b"%PDF-1.4\nnot really\n")
    scanned = False
    font = find_font()
    try:
        check_tesseract()
        scanned = font is not None
    except OcrUnavailableError:
        pass
    if scanned:
        text = (FIXTURES / "extract" / "docs" / "02_solarpark_prosa.txt").read_text("utf-8")
        render_text(text, font, width=1800).save(inputs / "scan.png")
    out = tmp_path / "out" / "records.jsonl"
    result = run_cli("extract", str(inputs), "--schema", "mastr-unit", "--out", str(out), "--json")
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    reasons = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert reasons["20_netzausbau_kein_record.txt"] == "no record found"
    assert reasons["kaputt.pdf"].startswith("corrupt PDF")
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    by_file: dict[str, list[dict]] = {}
    for line in lines:
        by_file.setdefault(Path(line["source"]).name, []).append(line["record"])
    assert by_file["01_windpark_datenblatt.txt"] == [{
        "name": "Windpark Hohe Heide WEA 3", "technology": "wind", "net_capacity_kw": 3600.0,
        "commissioning_date": "2017-09-14", "postcode": "25813", "city": "Husum", "state": "Schleswig-Holstein"}]  # fmt: skip
    assert [r["net_capacity_kw"] for r in by_file["08_speicher_tabelle.md"]] == [10000.0, 4500.0]
    assert all(line["method"] == "rules" for line in lines)
    if scanned:  # the OCR path: the scanned copy of document 02 gives the same record
        [record] = by_file["scan.png"]
        assert record["name"] == "Sonnenfeld Ost" and record["net_capacity_kw"] == 7500.0
        assert record["commissioning_date"] == "2021-03-03" and record["postcode"] == "39418"
    assert summary["records"] == len(lines) == 3 + scanned


def test_bad_schema_and_bad_options_are_usage_errors(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object", "properties": {"rows": {"type": "array"}}}', "utf-8")
    result = run_cli("extract", str(tmp_path), "--schema", str(schema))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {schema}: property 'rows' has unsupported type 'array'; use string, number, integer, "
        "boolean, a date string or an enum (flat records only)"
    )
    result = run_cli("extract", str(tmp_path), "--schema", "mastr-unit", "--llm", "gpt-9")
    assert (
        result.returncode == 2
        and "unknown --llm 'gpt-9'; use one of none, auto, smollm2-135m" in result.stderr
    )
