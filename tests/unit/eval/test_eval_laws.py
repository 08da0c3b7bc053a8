from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.eval.laws import heading_query, law_split, laws_heading_to_beir
from adaptlab.eval.retrieval_eval import resolve_datasets

LAW = """---
jurabk: {abk}
---

# Gesetz ({abk})

## Teil 1 - Allgemeines

### § 1 Zweck des Gesetzes

Zweck dieses Gesetzes ist die Versorgung.

### § 2 Begriffsbestimmungen

Im Sinne dieses Gesetzes ist Energie Strom.

### § 3 (weggefallen)

-

### § 4 Verordnungsermächtigung

Die Bundesregierung wird ermächtigt.

### § 5 Verordnungsermächtigung

Das Ministerium wird ermächtigt.

### § 6

Text ohne Überschrift.

## Anlage 1 Tabelle

Zahlen.
"""


def test_heading_queries_drop_the_section_number_and_repealed_sections() -> None:
    assert heading_query("§ 3 Begriffsbestimmungen") == "Begriffsbestimmungen"
    assert heading_query("§ 12a Netzanschluss") == "Netzanschluss"
    assert heading_query("§§ 12a bis 12c (weggefallen)") == ""
    assert heading_query("§ 10") == ""


def test_builder_keeps_unique_headings_of_sections_with_text(tmp_path: Path) -> None:
    (tmp_path / "abc.md").write_text(LAW.format(abk="ABC"), "utf-8")
    ds = laws_heading_to_beir(tmp_path, split="all")
    assert sorted(ds.queries.values()) == ["Begriffsbestimmungen", "Zweck des Gesetzes"]
    assert len(ds.corpus) == 5  # every § section with text, including the ambiguous ones, is a document
    qid = next(q for q, text in ds.queries.items() if text == "Begriffsbestimmungen")
    assert ds.qrels[qid] == {qid: 1} and ds.corpus[qid]["text"] == "Im Sinne dieses Gesetzes ist Energie Strom."
    assert "Begriffsbestimmungen" not in ds.corpus[qid]["text"]


def test_split_is_by_law_and_deterministic(tmp_path: Path) -> None:
    names = [f"L{i}" for i in range(6)]
    for name in names:
        (tmp_path / f"{name.lower()}.md").write_text(LAW.format(abk=name), "utf-8")
    test, train = laws_heading_to_beir(tmp_path, "test"), laws_heading_to_beir(tmp_path, "train")
    assert {d["law"] for d in test.corpus.values()}.isdisjoint({d["law"] for d in train.corpus.values()})
    assert sum(law_split(n, names) == "test" for n in names) == 2
    assert len(test.corpus) + len(train.corpus) == len(laws_heading_to_beir(tmp_path, "all").corpus)
    with pytest.raises(AdaptlabError, match="unknown split"):
        laws_heading_to_beir(tmp_path, "dev")


@pytest.mark.data
def test_shared_laws_give_a_third_of_the_laws_as_test(shared_data: Path) -> None:
    test, everything = resolve_datasets(["laws-heading", "laws-heading-all"])
    assert test.name == "laws-heading" and everything.name == "laws-heading-all"
    assert len({d["law"] for d in test.corpus.values()}) == 5
    assert len({d["law"] for d in everything.corpus.values()}) == 15
    assert not any(q.startswith("§") or "weggefallen" in q for q in everything.queries.values())
