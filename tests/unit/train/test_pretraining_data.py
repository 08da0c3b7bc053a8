"""Domain pre-training data: corpus sentences outside held-out documents, and TSDAE's damaged inputs."""

from __future__ import annotations

import random

from adaptlab.train.denoising import delete_words, denoising_dataset
from adaptlab.train.pretraining_text import pretraining_sentences

LONG = "Der Betreiber einer Anlage meldet die Inbetriebnahme unverzüglich der Behörde."


def test_sentences_skip_held_out_documents_short_pieces_and_repeats() -> None:
    chunks = [("law-a", f"{LONG} Kurz. {LONG}"), ("law-b", "Die Netzbetreiber veröffentlichen die Entgelte im Internet."),
              ("held", "Dieser Satz gehört zu einem zurückgehaltenen Dokument und bleibt draußen.")]
    assert pretraining_sentences(chunks, {"held"}, 100, seed=0) == [
        LONG, "Die Netzbetreiber veröffentlichen die Entgelte im Internet."]


def test_sentences_are_sampled_reproducibly_in_corpus_order() -> None:
    chunks = [(f"d{i}", f"Satz Nummer {i} hat genug Wörter für das Training.") for i in range(50)]
    first = pretraining_sentences(chunks, set(), 10, seed=3)
    assert len(first) == 10 and first == pretraining_sentences(chunks, set(), 10, seed=3)
    numbers = [int(s.split()[2]) for s in first]
    assert numbers == sorted(numbers) and first != pretraining_sentences(chunks, set(), 10, seed=4)


def test_deletion_keeps_about_the_share_asked_and_never_an_empty_input() -> None:
    rng = random.Random(0)
    words = " ".join(f"w{i}" for i in range(1000))
    kept = delete_words(words, 0.6, rng).split()
    assert 340 < len(kept) < 460 and kept == sorted(kept, key=lambda w: int(w[1:]))  # order kept
    assert all(delete_words("eins zwei", 0.99, random.Random(s)) for s in range(50))
    assert delete_words("", 0.6, rng) == ""


def test_denoising_rows_pair_each_damaged_sentence_with_its_original() -> None:
    rows = denoising_dataset([LONG, "Ein zweiter Satz mit mehreren Wörtern steht hier."], 0.6, seed=1)
    assert rows.column_names == ["damaged", "original"] and rows["original"][0] == LONG
    assert set(rows["damaged"][0].split()) <= set(LONG.split()) and rows["damaged"][0] != LONG
    assert rows["damaged"] == denoising_dataset([LONG, rows["original"][1]], 0.6, seed=1)["damaged"]
