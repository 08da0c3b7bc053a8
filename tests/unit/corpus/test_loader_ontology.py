"""Manchester OWL (.omn) loader: defined classes as documents, every class for task building."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab import datasets
from adaptlab.corpus.loaders import LoadError, load_file
from adaptlab.corpus.loaders.ontology import expand_iri, parse_ontology_classes

MINI = Path(__file__).resolve().parents[2] / "fixtures" / "docs" / "mini.omn"


def test_parse_every_class_with_multiline_escaped_definitions() -> None:
    classes = parse_ontology_classes(MINI)
    assert [c["iri"] for c in classes] == [
        "https://example.org/energy/EX_0001",
        "https://example.org/energy/EX_0002",
        "https://example.org/energy/EX_0003",
    ]
    heat_pump = classes[0]
    assert heat_pump["label_en"] == "heat pump"
    assert heat_pump["definition"] == (
        'A heat pump is a device that transfers heat from a "cold" source to a warmer sink using work.'
    )
    assert heat_pump["terms_de"] == ["Wärmepumpe", "WP"] and heat_pump["terms_en"] == ["heat-pump"]
    assert classes[1]["definition"] == ""


def test_defined_classes_become_documents() -> None:
    docs = load_file(MINI)
    assert [d.key for d in docs] == [
        "https://example.org/energy/EX_0001",
        "https://example.org/energy/EX_0003",
    ]
    assert docs[0].title == "heat pump"
    assert docs[0].text.startswith("heat pump: A heat pump is a device")
    assert docs[0].metadata == {
        "format": "omn",
        "iri": "https://example.org/energy/EX_0001",
        "label_en": "heat pump",
        "terms_de": "Wärmepumpe; WP",
        "terms_en": "heat-pump",
        "ontology": "mini",
    }


def test_expand_iri() -> None:
    prefixes = {"": "https://x.org/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
    assert expand_iri("<http://a/b>", prefixes) == "http://a/b"
    assert expand_iri("rdfs:label", prefixes) == "http://www.w3.org/2000/01/rdf-schema#label"
    assert expand_iri("OEO_1", prefixes) == "https://x.org/OEO_1"
    assert expand_iri("unknown:x", prefixes) == "unknown:x"


def test_file_without_classes(tmp_path: Path) -> None:
    path = tmp_path / "empty.omn"
    path.write_text("Prefix: : <https://x.org/>\nOntology: <https://x.org/o>\n", encoding="utf-8")
    with pytest.raises(LoadError, match="no 'Class:' frames"):
        load_file(path)


@pytest.mark.data
def test_open_energy_ontology() -> None:
    root = datasets.data_root()
    if root is None:
        pytest.skip("../shared/data not found (set ADAPTLAB_DATA)")
    files = sorted((root / "oeo").glob("oeo-*.omn"))
    docs = [doc for path in files for doc in load_file(path)]
    assert len(files) == 6 and 1200 < len(docs) < 1400
    assert all(doc.title and ": " in doc.text for doc in docs)
    german = [doc for doc in docs if doc.metadata["terms_de"]]
    assert len(german) > 500
