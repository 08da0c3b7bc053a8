"""JSON, JSONL and CSV loaders: one document per record, configurable fields, clear errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adaptlab.corpus.loaders import LoaderOptions, LoadError, load_file

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "docs"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_json_object_with_a_record_list() -> None:
    docs = load_file(DOCS / "records.json")
    assert [(d.key, d.title, d.text) for d in docs] == [
        ("q1", "Netzentgelte", "Netzentgelte sind Entgelte für die Nutzung der Stromnetze."),
        ("q2", "Regelenergie", "Regelenergie gleicht kurzfristige Schwankungen im Stromnetz aus."),
    ]
    assert docs[0].metadata == {"source": "glossar", "year": 2023, "format": "json"}


def test_json_single_object_and_list_of_strings(tmp_path: Path) -> None:
    single = load_file(_write(tmp_path, "one.json", '{"body": "Ein Text.", "author": "A"}'))
    assert [(d.key, d.text, d.metadata) for d in single] == [
        ("1", "Ein Text.", {"author": "A", "format": "json"})
    ]
    strings = load_file(_write(tmp_path, "texts.json", '["Erster Text.", "Zweiter Text."]'))
    assert [(d.key, d.title) for d in strings] == [("1", "Erster Text."), ("2", "Zweiter Text.")]


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^invalid JSON on line 3: Expecting"):
        load_file(_write(tmp_path, "bad.json", '[\n {"text": "a"},\n {"text": }\n]'))


def test_json_scalar_is_not_records(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="single int"):
        load_file(_write(tmp_path, "n.json", "42"))


def test_no_text_field_names_what_was_looked_for_and_found(tmp_path: Path) -> None:
    path = _write(tmp_path, "qa.json", '[{"id": 1, "question": "Was?"}, {"id": 2, "question": "Wie?"}]')
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(info.value) == (
        "no text field (looked for text, content, body; found: id, question) — set corpus.text_fields"
    )


def test_options_choose_text_title_id_and_metadata_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "qa.json", '[{"nr": "x7", "frage": "Was ist EEG?", "thema": "Recht", "extra": 1}]'
    )
    options = LoaderOptions(
        text_fields=["frage"], title_field="thema", id_field="nr", metadata_fields=["extra"]
    )
    doc = load_file(path, options)[0]
    assert (doc.key, doc.title, doc.text, doc.metadata) == (
        "x7",
        "Recht",
        "Was ist EEG?",
        {"extra": 1, "format": "json"},
    )


def test_duplicate_ids_stay_distinct(tmp_path: Path) -> None:
    docs = load_file(
        _write(tmp_path, "dup.json", '[{"id": "a", "text": "eins"}, {"id": "a", "text": "zwei"}]')
    )
    assert [d.key for d in docs] == ["a", "a#2"]


def test_jsonl_skips_bad_lines_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        docs = load_file(DOCS / "records.jsonl")
    assert [(d.key, d.metadata) for d in docs] == [
        ("1", {"lang_hint": "de", "format": "jsonl"}),
        ("3", {"format": "jsonl"}),
    ]
    assert "skipped 2 bad line(s): line 2: invalid JSON" in caplog.text


def test_jsonl_key_is_line_number_without_id(tmp_path: Path) -> None:
    docs = load_file(_write(tmp_path, "a.jsonl", '{"text": "eins"}\n\n{"text": "zwei"}\n'))
    assert [d.key for d in docs] == ["1", "3"]


def test_jsonl_where_every_line_is_bad(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^no valid JSON line \(line 1: invalid JSON: "):
        load_file(_write(tmp_path, "bad.jsonl", "{oops\nnot json\n"))


def test_csv_with_sniffed_semicolon_delimiter() -> None:
    docs = load_file(DOCS / "records.csv")
    assert [(d.key, d.title) for d in docs] == [("a1", "Kraft-Wärme-Kopplung"), ("a2", "Wärmepumpe")]
    assert docs[0].text == "KWK-Anlagen erzeugen gleichzeitig Strom und Wärme; das spart Brennstoff."
    assert docs[0].metadata == {"category": "Effizienz", "format": "csv"}


def test_tsv_and_explicit_delimiter(tmp_path: Path) -> None:
    tsv = load_file(_write(tmp_path, "a.tsv", "text\tnote\nHallo, Welt\tx\n"))
    assert tsv[0].text == "Hallo, Welt" and tsv[0].key == "1"
    piped = load_file(_write(tmp_path, "b.csv", "text|n\nA;B|1\n"), LoaderOptions(csv_delimiter="|"))
    assert piped[0].text == "A;B"


def test_csv_in_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("text;ort\nWärme aus Abwasser;Köln\n".encode("cp1252"))
    assert load_file(path)[0].metadata["ort"] == "Köln"


def test_csv_is_read_leniently_like_spreadsheets_do(tmp_path: Path) -> None:
    docs = load_file(_write(tmp_path, "loose.csv", 'text,x\n"a"b,1\n"offen\n'))
    assert [d.text for d in docs] == ["ab", "offen\n"]


def test_csv_with_only_a_header_has_no_records(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no records found"):
        load_file(_write(tmp_path, "h.csv", "text,title\n"))
