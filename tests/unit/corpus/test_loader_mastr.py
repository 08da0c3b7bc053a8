"""MaStR exports (XML in UTF-8 and UTF-16, CSV) and the open-MaStR field description lists."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adaptlab import datasets
from adaptlab.corpus.loaders import LoaderOptions, LoadError, load_file
from adaptlab.corpus.loaders.mastr import humanise, iso_date, parse_number, technology_of

MASTR = Path(__file__).resolve().parents[2] / "fixtures" / "mastr"
SCHEMA_CSV = "Column,Description,Type,Example\n"


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    """A two-field description list, so the tests do not depend on the shared data."""
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "bnetza_mastr_solar_raw.csv").write_text(
        SCHEMA_CSV
        + "EinheitMastrNummer,MaStR-Nummer der Einheit,string,SEE91234567890\n"
        + "Bruttoleistung,Bruttoleistung der Einheit in kW.,decimal,25000\n"
        + "EinheitBetriebsstatus,,string,\n"
        + "EinheitBetriebsstatus_extended,Betriebsstatus der Einheit,string,InPlanung\n",
        encoding="utf-8",
    )
    return folder


def test_xml_units_become_german_text_with_labels(schema_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        docs = load_file(MASTR / "EinheitenSolar.xml", LoaderOptions(mastr_schema_dir=schema_dir))
    assert [d.key for d in docs] == ["SEE912345678901", "SEE934567890123"]
    assert "skipped 1 unit(s) without EinheitMastrNummer (unit #2)" in caplog.text
    first = docs[0]
    assert first.title == "Solareinheit Solarpark Musterfeld (SEE912345678901)"
    lines = first.text.splitlines()
    assert lines[0] == "MaStR-Nummer der Einheit: SEE912345678901"
    assert "Bruttoleistung der Einheit in kW: 9850.5" in lines
    assert "Betriebsstatus der Einheit: In Betrieb" in lines, "description of the _extended twin"
    assert "Anzahl Module: 24630" in lines, "humanised name without description"
    assert not any(line.startswith("Kraftwerksnummer") for line in lines), "empty values are skipped"


def test_xml_unit_metadata_for_filters(schema_dir: Path) -> None:
    doc = load_file(MASTR / "EinheitenSolar.xml", LoaderOptions(mastr_schema_dir=schema_dir))[0]
    assert doc.metadata == {
        "format": "mastr",
        "technology": "solar",
        "mastr_id": "SEE912345678901",
        "name": "Solarpark Musterfeld",
        "net_capacity_kw": 9500.0,
        "gross_capacity_kw": 9850.5,
        "state": "Brandenburg",
        "district": "Oberhavel",
        "municipality": "Löwenberger Land",
        "postcode": "16775",
        "status": "In Betrieb",
        "energy_carrier": "Solare Strahlungsenergie",
        "commissioning_date": "2021-06-30",
    }


def test_utf16_xml_export(tmp_path: Path) -> None:
    docs = load_file(MASTR / "EinheitenWind_utf16.xml", LoaderOptions(mastr_schema_dir=tmp_path))
    assert [d.title for d in docs] == [
        "Windeinheit WEA Süderdeich 4 (SEE978901234567)",
        "Windeinheit Offshore-Anlage Baltic 12 (SEE989012345678)",
    ]
    assert docs[1].metadata["technology"] == "wind" and "state" not in docs[1].metadata
    assert "Name Windpark: Bürgerwindpark Süderdeich" in docs[0].text


def test_csv_export_with_german_numbers_and_dates(tmp_path: Path) -> None:
    docs = load_file(MASTR / "einheiten_wind.csv", LoaderOptions(mastr_schema_dir=tmp_path))
    assert [d.key for d in docs] == ["SEE945678901234", "SEE956789012345", "SEE967890123456"]
    assert docs[0].metadata["net_capacity_kw"] == 3450.0
    assert docs[0].metadata["commissioning_date"] == "2018-03-15"
    assert docs[2].title == "Windeinheit SEE967890123456"
    assert "net_capacity_kw" not in docs[2].metadata


def test_non_mastr_xml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text("<rss><channel><title>x</title></channel></rss>", encoding="utf-8")
    with pytest.raises(LoadError, match=r"not a MaStR unit export \(root <rss>\)"):
        load_file(path)


def test_truncated_xml_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "EinheitenSolar.xml"
    path.write_bytes((MASTR / "EinheitenSolar.xml").read_bytes()[:700])
    with pytest.raises(LoadError, match=r"^invalid XML \(.*line \d+.*\); the file may be truncated$"):
        load_file(path, LoaderOptions(mastr_schema_dir=tmp_path))


def test_xml_without_any_numbered_unit(tmp_path: Path) -> None:
    path = tmp_path / "EinheitenWind.xml"
    path.write_text(
        "<EinheitenWind><EinheitWind><Name>x</Name></EinheitWind></EinheitenWind>", encoding="utf-8"
    )
    with pytest.raises(LoadError, match="no MaStR units with an EinheitMastrNummer"):
        load_file(path, LoaderOptions(mastr_schema_dir=tmp_path))


def test_field_description_list_becomes_one_document_per_field(schema_dir: Path) -> None:
    docs = load_file(schema_dir / "bnetza_mastr_solar_raw.csv")
    assert [d.key for d in docs][:2] == ["EinheitMastrNummer", "Bruttoleistung"]
    brutto = docs[1]
    assert brutto.title == "MaStR solar: Bruttoleistung"
    assert brutto.text == (
        "Feld Bruttoleistung (Technologie solar): Bruttoleistung der Einheit in kW. "
        "Datentyp: decimal. Beispiel: 25000."
    )
    assert brutto.metadata == {
        "format": "mastr_schema",
        "technology": "solar",
        "field": "Bruttoleistung",
        "type": "decimal",
    }
    assert docs[2].text == "Feld EinheitBetriebsstatus (Technologie solar). Datentyp: string."


@pytest.mark.parametrize(
    ("name", "tech"),
    [
        ("EinheitSolar", "solar"),
        ("EinheitWind", "wind"),
        ("EinheitBiomasse", "biomass"),
        ("EinheitWasser", "hydro"),
        ("EinheitStromSpeicher", "storage"),
        ("EinheitVerbrennung", "combustion"),
        ("EinheitKernkraft", "nuclear"),
        ("EinheitGeothermieGrubengasDruckentspannung", "gsgk"),
        ("Solareinheit", "solar"),
        ("EinheitUnbekannt", ""),
    ],
)
def test_technology_from_element_names(name: str, tech: str) -> None:
    assert technology_of(name) == tech


def test_value_helpers() -> None:
    assert humanise("InstallierteLeistung_eeg") == "Installierte Leistung"
    assert (
        parse_number("1.234,5") == 1234.5
        and parse_number("148.987") == 148.987
        and parse_number("k.A.") is None
    )
    assert iso_date("2017-07-25T08:36:54.1004464") == "2017-07-25" and iso_date("1.2.2019") == "2019-02-01"


@pytest.mark.data
def test_shared_field_lists_label_units() -> None:
    root = datasets.data_root()
    if root is None:
        pytest.skip("../shared/data not found (set ADAPTLAB_DATA)")
    doc = load_file(MASTR / "EinheitenWind_utf16.xml", LoaderOptions(mastr_schema_dir=root / "mastr"))[0]
    assert "Hersteller der Einheit: Nordex SE" in doc.text.splitlines()
    fields = load_file(root / "mastr" / "bnetza_mastr_wind_raw.csv")
    assert len(fields) == 127 and {d.metadata["technology"] for d in fields} == {"wind"}
