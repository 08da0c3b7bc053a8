import json
from pathlib import Path

import pytest

from adaptlab.datasets import data_root
from adaptlab.errors import AdaptlabError
from adaptlab.eval.beir import load_beir
from adaptlab.eval.xquad import XQUAD_PAIRS, convert_xquad, xquad_to_beir


@pytest.fixture(scope="module")
def xquad_dir() -> Path:
    root = data_root()
    if root is None or not (root / "xquad").is_dir():
        pytest.skip("../shared/data not found (set ADAPTLAB_DATA)")
    return root / "xquad"


@pytest.mark.data
@pytest.mark.parametrize("pair", XQUAD_PAIRS)
def test_sizes_and_one_relevant_paragraph(xquad_dir: Path, pair: str) -> None:
    ds = xquad_to_beir(xquad_dir, pair)
    assert ds.name == f"xquad-{pair}"
    assert len(ds.corpus) == 240
    assert len(ds.queries) == 1190
    assert set(ds.qrels) == set(ds.queries)
    assert all(len(docs) == 1 and set(docs) <= set(ds.corpus) for docs in ds.qrels.values())


@pytest.mark.data
def test_cross_lingual_languages(xquad_dir: Path) -> None:
    ds = xquad_to_beir(xquad_dir, "de-en")
    qid = "56beb4343aeaaa14008c925b"
    assert ds.queries[qid].startswith("Wie viele Punkte")
    assert ds.corpus[next(iter(ds.qrels[qid]))]["text"].startswith("The Panthers defense")
    assert xquad_to_beir(xquad_dir, "en-de").corpus["0-0"]["text"].startswith("Die Verteidigung")


@pytest.mark.data
def test_convert_writes_loadable_sets(xquad_dir: Path, tmp_path: Path) -> None:
    folders = convert_xquad(xquad_dir, tmp_path)
    assert [f.name for f in folders] == [f"xquad-{p}" for p in XQUAD_PAIRS]
    assert load_beir(folders[2]) == xquad_to_beir(xquad_dir, "de-en")


def _squad(question_ids: list[str]) -> dict:
    qas = [{"id": qid, "question": "?", "answers": []} for qid in question_ids]
    return {"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "c", "qas": qas}]}]}


def test_misaligned_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "xquad.en.json").write_text(json.dumps(_squad(["a", "b"])), encoding="utf-8")
    (tmp_path / "xquad.de.json").write_text(json.dumps(_squad(["a", "c"])), encoding="utf-8")
    assert len(xquad_to_beir(tmp_path, "de-de").queries) == 2
    with pytest.raises(AdaptlabError, match="not aligned: paragraph 0-0"):
        xquad_to_beir(tmp_path, "de-en")
