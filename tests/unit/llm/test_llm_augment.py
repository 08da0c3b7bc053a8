"""Augmentation is deterministic, keeps answers, and touches only the train split."""

from __future__ import annotations

import json
from pathlib import Path

from adaptlab.llm.augment import augment_examples
from adaptlab.llm.formats import Example
from adaptlab.llm.stages import PrepareConfig, prepare_stage
from adaptlab.workspace import Workspace

CONTEXT = (
    "Gesetzestext:\nZweck dieses Gesetzes ist eine sichere Versorgung mit Elektrizität. "
    "Es dient auch dem Klimaschutz. Die Bundesnetzagentur überwacht die Einhaltung."
)
ANSWER = "Zweck dieses Gesetzes ist eine sichere Versorgung mit Elektrizität."


def _row(i: int, law: str, question: str = "Was regelt § 1 TG (Zweck des Gesetzes)?") -> Example:
    return Example(
        [
            {
                "role": "user",
                "content": f"{CONTEXT} Satz {i} gilt.\n\nFrage: {question} Antworte mit dem Wortlaut.",
            },
            {"role": "assistant", "content": f"{ANSWER} ({i})"},
        ],
        law,
        f"row-{i}",
        {"rule": "heading-question", "chunk_ids": [f"c{i}"]},
    )


def test_each_op_changes_the_prompt_keeps_the_answer_and_marks_provenance() -> None:
    row = _row(1, "TG")
    made, counts = augment_examples([row])
    assert dict(counts) == {"paraphrase": 1, "drop-sentence": 1, "shuffle": 1}
    by_op = {m.meta["augmented"]["op"]: m for m in made}
    for new in made:
        assert new.answer == row.answer and new.source == "TG" and new.id != row.id
        assert new.meta["augmented"]["of"] == "row-1" and new.meta["chunk_ids"] == ["c1"]
        assert new.messages[0]["content"] != row.messages[0]["content"]
    assert "Frage: Welche Regelung trifft § 1 TG" in by_op["paraphrase"].messages[0]["content"] or (
        "Frage: Worum geht es in § 1 TG" in by_op["paraphrase"].messages[0]["content"]
        or "Frage: Was bestimmt § 1 TG" in by_op["paraphrase"].messages[0]["content"]
    )
    for op in ("drop-sentence", "shuffle"):  # the sentence holding the answer survives every context edit
        text = by_op[op].messages[0]["content"]
        assert text.startswith("Gesetzestext:\nZweck dieses Gesetzes ist eine sichere Versorgung") or (
            "Zweck dieses Gesetzes ist eine sichere Versorgung mit Elektrizität." in text
        )
    dropped = by_op["drop-sentence"].messages[0]["content"]
    assert len(dropped) < len(row.messages[0]["content"]) and "Zweck dieses Gesetzes" in dropped


def test_english_paraphrase_and_rows_without_context() -> None:
    row = Example(
        [{"role": "user", "content": "What is a heat pump?"}, {"role": "assistant", "content": "A machine."}],
        "en",
        "e1",
    )
    made, counts = augment_examples([row])
    assert dict(counts) == {"paraphrase": 1}  # no context: nothing to drop or shuffle
    assert made[0].messages[0]["content"] in ("What is meant by a heat pump?", "How is a heat pump defined?")


def test_deterministic_and_seed_dependent() -> None:
    rows = [_row(i, "TG") for i in range(8)]
    first = [m.to_dict() for m in augment_examples(rows, seed=0)[0]]
    assert first == [m.to_dict() for m in augment_examples(rows, seed=0)[0]]
    other = [m.to_dict() for m in augment_examples(rows, seed=1)[0]]
    assert first != other


def test_prepare_augments_train_only_and_never_crosses_the_split(tmp_path: Path) -> None:
    rows = [_row(i, f"LAW{i % 6}", f"Was regelt § {i} LAW{i % 6} (Thema {i})?") for i in range(18)]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(json.dumps(r.to_dict(), ensure_ascii=False) for r in rows), encoding="utf-8")
    ws = Workspace.resolve(tmp_path / "ws")
    cfg = PrepareConfig(
        inputs=[str(data)], out=str(tmp_path / "split"), val=0.2, test=0.3, near_duplicate=1.0
    )
    plain = prepare_stage(cfg, ws)
    report = prepare_stage(cfg.model_copy(update={"augment": True}), ws)
    assert plain.augmented == {} and sum(report.augmented.values()) > 0
    split = {
        name: [json.loads(line) for line in (tmp_path / "split" / f"{name}.jsonl").read_text().splitlines()]
        for name in ("train", "val", "test")
    }
    assert report.counts["val"] == plain.counts["val"] and report.counts["test"] == plain.counts["test"]
    assert report.counts["train"] == plain.counts["train"] + sum(report.augmented.values())
    assert not any("augmented" in r["meta"] for name in ("val", "test") for r in split[name])
    train_sources = {r["source"] for r in split["train"]}
    held_out = {r["source"] for name in ("val", "test") for r in split[name]}
    assert held_out and not train_sources & held_out  # augmented rows keep their source, so their split
    originals = {r["id"] for r in split["train"] if "augmented" not in r["meta"]}
    assert {r["meta"]["augmented"]["of"] for r in split["train"] if "augmented" in r["meta"]} <= originals
