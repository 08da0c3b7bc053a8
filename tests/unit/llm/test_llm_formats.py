from __future__ import annotations

import json
from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.llm.formats import load_file, write_jsonl


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def test_every_sft_format_becomes_a_conversation(tmp_path: Path) -> None:
    rows = [
        {"question": "Was ist Strom?", "answer": "Elektrische Energie.", "source": "a"},
        {"instruction": "Übersetze", "input": "Haus", "output": "house"},
        {
            "messages": [
                {"role": "system", "content": "kurz"},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hallo"},
            ]
        },
        {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]},
    ]
    report = load_file(_jsonl(tmp_path / "d.jsonl", rows))
    assert not report.skipped
    first, second, third, fourth = report.items
    assert first.messages == [
        {"role": "user", "content": "Was ist Strom?"},
        {"role": "assistant", "content": "Elektrische Energie."},
    ]
    assert first.source == "a" and second.source == "d"  # default source: the file
    assert second.messages[0]["content"] == "Übersetze\n\nHaus" and second.answer == "house"
    assert [m["role"] for m in third.messages] == ["system", "user", "assistant"]
    assert fourth.messages == [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]


def test_bad_rows_are_skipped_and_counted_with_reasons(tmp_path: Path) -> None:
    rows = [
        {"question": "ok?", "answer": "yes"},
        {"question": "no answer", "answer": ""},
        {"text": "unknown format"},
        "{not json",
        [1, 2],
        {"messages": [{"role": "user", "content": "only a question"}]},
        {"conversations": [{"from": "alien", "value": "x"}, {"from": "gpt", "value": "y"}]},
        {"instruction": "fine", "output": "too"},
    ]
    report = load_file(_jsonl(tmp_path / "bad.jsonl", rows))
    assert len(report.items) == 2
    assert report.skipped == {
        "empty 'answer'": 1,
        "no known format (question/answer, instruction/output, messages or conversations)": 1,
        "invalid JSON on line 4": 1,
        "row is not an object": 1,
        "last turn is not from the assistant": 1,
        "unknown role 'alien'": 1,
    }
    assert "6 skipped" in report.summary() and "rows 2" in report.summary()


def test_csv_with_json_cells_and_plain_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('question,answer\n"Wer?","Ich"\n"Leer",\n', encoding="utf-8")
    report = load_file(path)
    assert [e.answer for e in report.items] == ["Ich"] and report.skipped == {"empty 'answer'": 1}
    chat = tmp_path / "chat.csv"
    chat.write_text(
        'messages\n"[{""role"": ""user"", ""content"": ""a""}, {""role"": ""assistant"", ""content"": ""b""}]"\n',
        encoding="utf-8",
    )
    assert load_file(chat).items[0].answer == "b"


def test_preference_rows_plain_and_sharegpt(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Q1", "chosen": "good", "rejected": "bad"},
        {
            "conversations": [{"from": "human", "value": "Q2"}],
            "chosen": {"from": "gpt", "value": "g"},
            "rejected": {"from": "gpt", "value": "b"},
        },
        {"question": "Q3", "chosen": "same", "rejected": "same"},
        {"prompt": "Q4", "chosen": "only"},
    ]
    report = load_file(_jsonl(tmp_path / "p.jsonl", rows), "preference")
    assert [(p.prompt[-1]["content"], p.chosen, p.rejected) for p in report.items] == [
        ("Q1", "good", "bad"),
        ("Q2", "g", "b"),
    ]
    assert report.skipped == {"chosen equals rejected": 1, "no 'chosen' and 'rejected'": 1}


def test_written_jsonl_reads_back_identically(tmp_path: Path) -> None:
    report = load_file(
        _jsonl(tmp_path / "d.jsonl", [{"question": "q", "answer": "a", "meta": {"chunk_ids": ["c1"]}}])
    )
    again = load_file(write_jsonl(report.items, tmp_path / "out.jsonl"))
    assert again.items[0].to_dict() == report.items[0].to_dict()
    assert again.items[0].meta == {"chunk_ids": ["c1"]}


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(AdaptlabError, match="not found"):
        load_file(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(AdaptlabError, match=r"x.json: invalid JSON \(line 1"):
        load_file(tmp_path / "x.json")
    (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(AdaptlabError, match="unsupported file type"):
        load_file(tmp_path / "x.txt")


def test_shared_demo_data_loads_completely(shared_data: Path) -> None:
    alpaca = load_file(shared_data / "llm" / "alpaca_en_demo.json")
    dpo = load_file(shared_data / "llm" / "dpo_en_demo.json", "preference")
    assert len(alpaca.items) + sum(alpaca.skipped.values()) == 999 and len(alpaca.items) >= 990
    assert len(dpo.items) == 300 and dpo.items[0].prompt[0]["role"] == "user"
