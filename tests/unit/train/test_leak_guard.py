"""The leak guard drops training pairs whose positive is evaluation text, and nothing else."""

from adaptlab.train.leak_guard import LeakGuard, drop_leaking_pairs
from adaptlab.train.pairs import Pair

SECTION = (
    "Betreiber von Windenergieanlagen an Land müssen die Anlage vor der Inbetriebnahme beim Netzbetreiber anmelden "
    "und die technischen Vorgaben einhalten. Die Bundesregierung wird ermächtigt, durch Rechtsverordnung mit "
    "Zustimmung des Bundesrates die Einzelheiten der Anmeldung zu regeln."
)
EVAL_DOCS = [SECTION, "Photovoltaik wandelt Sonnenlicht in Strom um.", "(weggefallen)"]


def test_the_same_text_rechunked_is_a_leak_but_a_shared_phrase_is_not() -> None:
    guard = LeakGuard(EVAL_DOCS)
    # most of the section, with other casing and punctuation, inside a chunk that starts elsewhere
    assert guard.overlaps("§ 3 Anmeldung. " + SECTION.upper().replace(",", ";")[:-40])
    # a boilerplate phrase of more than 13 words shared with an otherwise different section
    assert not guard.overlaps(
        "Die Bundesregierung wird ermächtigt, durch Rechtsverordnung mit Zustimmung des Bundesrates die Höhe der "
        "Gebühren für die Prüfung von Offshore-Anlagen, die Fristen der Bundesnetzagentur und die Form der "
        "Nachweise über die Eignung der Sachverständigen zu bestimmen sowie Ausnahmen für kleine Anlagen zuzulassen."
    )


def test_short_texts_match_whole_words_only() -> None:
    guard = LeakGuard(EVAL_DOCS)
    assert guard.overlaps("Sonnenlicht in Strom")
    assert not guard.overlaps("Sonnenlicht in Stromnetze")
    assert not guard.overlaps("")
    assert guard.overlaps("(weggefallen)") and not guard.overlaps("Absatz 2 ist weggefallen; Absatz 3 gilt weiter.")
    # a short evaluation document inside a longer chunk is a leak too
    assert guard.overlaps("Kapitel 2. Photovoltaik wandelt Sonnenlicht in Strom um. Danach folgen die Speicher, "
                          "die Netze und die Wärmepumpen mit ihren eigenen Abschnitten.")


def test_drop_leaking_pairs_keeps_the_rest_in_order() -> None:
    pairs = [
        Pair("PV", "Photovoltaik wandelt Sonnenlicht in Strom um.", "d1", "term-definition"),
        Pair("Speicher", "Ein Batteriespeicher speichert Energie.", "d2", "term-definition"),
        Pair("Wärme", "Wärmepumpen heizen mit Umweltwärme.", "d3", "term-definition"),
    ]
    kept, dropped = drop_leaking_pairs(pairs, EVAL_DOCS)
    assert dropped == 1 and [p.doc_id for p in kept] == ["d2", "d3"]
    assert drop_leaking_pairs(pairs, []) == (pairs, 0)


def test_negatives_and_calibration_never_read_evaluation_chunks(tmp_path) -> None:
    from adaptlab.config import ExperimentConfig
    from adaptlab.eval.beir import BeirDataset
    from adaptlab.pipeline import Session
    from adaptlab.train.finetune_config import FinetuneConfig
    from adaptlab.train.finetune_stage import _corpus_chunks

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "train.txt").write_text("Wärmepumpen heizen Gebäude mit Umweltwärme aus Luft, Wasser oder Erdreich, "
                                    "angetrieben von Strom aus dem Netz oder vom eigenen Dach.", encoding="utf-8")
    (docs / "test.txt").write_text(SECTION, encoding="utf-8")
    evaluation = BeirDataset("laws", {"d1": {"title": "", "text": SECTION}}, {}, {})
    with Session.open(tmp_path / "ws", ExperimentConfig(), tracking_uri="none") as session:
        session.ingest([docs])
        kept = _corpus_chunks(session, FinetuneConfig(), [evaluation])
        everything = _corpus_chunks(session, FinetuneConfig(exclude_eval_documents=False), [evaluation])
    assert len(everything) == 2 and [text for _, text in kept] == [t for _, t in everything if "Wärmepumpen" in t]
