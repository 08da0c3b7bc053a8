"""The hybrid weight chosen on held-out pairs: the set is built from held-out documents only, the best weight
wins (ties nearest 0.5), and it is saved with the model and read back for search."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.eval.hybrid_eval import hybrid_name
from adaptlab.train.hybrid_calibration import (
    CALIBRATION_FILE,
    HybridCalibration,
    calibrate_hybrid,
    calibrated_weights,
    heldout_set,
)
from adaptlab.train.pairs import Pair

CHUNKS = [
    ("law-a", "Der Betreiber einer Windenergieanlage meldet die Anlage bei der Bundesnetzagentur an."),
    ("law-a", "Die Vergütung für Strom aus Solaranlagen richtet sich nach dem anzulegenden Wert."),
    ("law-b", "Ein Text aus einem Trainingsgesetz, der nie im Kalibrierungssatz landen darf."),
]
HELDOUT = [
    Pair("Anmeldung von Windenergieanlagen", CHUNKS[0][1], "law-a", "heading"),
    Pair("Der Netzbetreiber zahlt.", "Die Zahlung erfolgt monatlich als Abschlag auf die Vergütung.", "law-a",
         "inverse-cloze"),
]


def test_heldout_set_uses_only_held_out_documents_and_adds_non_chunk_positives() -> None:
    dataset = heldout_set(HELDOUT, CHUNKS)
    texts = {d["text"] for d in dataset.corpus.values()}
    assert CHUNKS[2][1] not in texts and CHUNKS[1][1] in texts and HELDOUT[1].positive in texts
    assert len(dataset.corpus) == 3 and len(dataset.queries) == 2
    for qid, rel in dataset.qrels.items():
        pair = HELDOUT[int(qid[1:])]
        assert [dataset.corpus[d]["text"] for d in rel] == [pair.positive]


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> object:
    from adaptlab.models.loading import load_embedder

    return load_embedder("minilm", tmp_path_factory.mktemp("models"))


def test_calibration_picks_the_best_scoring_weight_nearest_the_default_on_ties(minilm: object) -> None:
    calibration = calibrate_hybrid(minilm, heldout_set(HELDOUT, CHUNKS), grid=(0.1, 0.3, 0.5, 0.7, 0.9))
    assert set(calibration.scores) == {"0.1", "0.3", "0.5", "0.7", "0.9"}
    best = max(calibration.scores.values())
    tied = [float(w) for w, s in calibration.scores.items() if s == best]
    assert calibration.bm25_weight == min(tied, key=lambda w: abs(w - 0.5))
    assert calibration.queries == 2 and calibration.documents == 3
    assert calibration.weights == (calibration.bm25_weight, round(1 - calibration.bm25_weight, 6))


def test_saved_weights_are_read_back_and_bad_files_fall_back_to_the_default(tmp_path: Path) -> None:
    HybridCalibration(0.3, {"0.3": 0.7}, 10, 20).save(tmp_path)
    assert calibrated_weights(tmp_path) == (0.3, 0.7)
    assert calibrated_weights(tmp_path / "missing") is None
    (tmp_path / CALIBRATION_FILE).write_text("{not json", encoding="utf-8")
    assert calibrated_weights(tmp_path) is None
    (tmp_path / CALIBRATION_FILE).write_text('{"bm25_weight": 7}', encoding="utf-8")
    assert calibrated_weights(tmp_path) is None


def test_hybrid_names_show_weights_only_when_they_differ_from_the_default() -> None:
    assert hybrid_name("wsum", "m") == hybrid_name("wsum", "m", (0.5, 0.5)) == "hybrid-wsum(bm25+m)"
    assert hybrid_name("wsum", "m", (0.3, 0.7)) == "hybrid-wsum0.3(bm25+m)"
    assert hybrid_name("rrf", "m", (0.3, 0.7)) == "hybrid-rrf(bm25+m)"
