from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import BeirDataset, load_beir, write_beir


def _tiny() -> BeirDataset:
    return BeirDataset(
        name="tiny",
        corpus={
            "d1": {"title": "Wind", "text": "Windenergie an Land", "lang": "de"},
            "d2": {"title": "", "text": "Solar power on roofs"},
        },
        queries={"q1": "Was ist Windenergie?", "q2": "rooftop solar"},
        qrels={"q1": {"d1": 1}, "q2": {"d2": 2, "d1": 0}},
    )


def test_round_trip(tmp_path: Path) -> None:
    ds = _tiny()
    write_beir(ds, tmp_path / "tiny")
    back = load_beir(tmp_path / "tiny")
    assert back == ds
    assert back.stats() == {"documents": 2, "queries": 2, "judgments": 3, "relevant": 2}


def test_queries_without_qrels_are_dropped(tmp_path: Path) -> None:
    ds = _tiny()
    ds.queries["q3"] = "unjudged"
    write_beir(ds, tmp_path / "tiny")
    assert set(load_beir(tmp_path / "tiny").queries) == {"q1", "q2"}


def test_bad_qrels_line_names_file_and_line(tmp_path: Path) -> None:
    write_beir(_tiny(), tmp_path / "tiny")
    qrels = tmp_path / "tiny" / "qrels" / "test.tsv"
    qrels.write_text(qrels.read_text() + "q1\td2\n", encoding="utf-8")
    with pytest.raises(AdaptlabError, match=r"test\.tsv:5: expected"):
        load_beir(tmp_path / "tiny")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AdaptlabError, match="corpus.jsonl: file not found"):
        load_beir(tmp_path)
