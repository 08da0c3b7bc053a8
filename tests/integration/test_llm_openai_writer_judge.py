"""LLM-written pairs and the LLM judge against a real OpenAI-compatible HTTP server on loopback (canned
completions in the OpenAI shape), and the same two roles played by a local tiny Llama."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unit.llm.llm_tiny_models import llm_root_fixture, tiny_llama_fixture  # noqa: F401
from unit.llm.test_llm_corpus_data import LAW

pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")

from adaptlab.errors import AdaptlabError  # noqa: E402
from adaptlab.llm.stages import GenerateConfig, generate_stage  # noqa: E402
from adaptlab.workspace import Workspace  # noqa: E402

KEY_ENV = "ADAPTLAB_TEST_LLM_KEY"
KEY = "sk-loopback-llm"
LAW_WITH_SHORT_SECTION = LAW + "\n### § 5 Inkrafttreten\n\nDieses Gesetz tritt in Kraft.\n"
WRITER_REPLIES = {
    "§ 1": '```json\n{"question": "Welchem Zweck dient das Gesetz?", '
    '"answer": "Eine sichere und umweltverträgliche Versorgung mit Elektrizität."}\n```',
    "§ 2": '{"question": "Wer ist Netzbetreiber?", "answer": "Ein Unternehmen aus der Luftfahrt in Paris."}',
    "§ 4": "Gern! Hier ist eine Frage zum Text.",
    "§ 5": "{}",
}
JUDGE_REPLIES = {
    "§ 1": '{"faithfulness": 5, "correctness": 4, "language": 5}',
    "§ 2": "The answer is acceptable.",
    "§ 4": "Faithfulness: 2\nCorrectness: 1\nLanguage: 3",
}


def _by_section(text: str, replies: dict[str, str]) -> str:
    found = re.search(r"§ \d", text)
    return replies.get(found.group() if found else "", "?")


def chat_server() -> tuple[Any, list[dict[str, Any]]]:
    """/v1/chat/completions answering writers and judges by the section their request names."""
    from fastapi import FastAPI, Header, HTTPException

    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/v1/chat/completions")
    def completions(body: dict[str, Any], authorization: str | None = Header(None)) -> Any:
        seen.append(body)
        if authorization != f"Bearer {KEY}":
            raise HTTPException(401, "invalid api key")
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        replies = JUDGE_REPLIES if system.startswith("You are a strict grader") else WRITER_REPLIES
        text = _by_section(user, replies)
        return {
            "id": "x",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
        }

    return app, seen


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    from integration.serve_server import serving

    app, seen = chat_server()
    with serving(app, start_timeout=30) as url:
        yield f"{url}/v1", seen


def _laws(tmp_path: Path) -> Path:
    laws = tmp_path / "gesetze"
    laws.mkdir(exist_ok=True)
    (laws / "tg.md").write_text(LAW_WITH_SHORT_SECTION, encoding="utf-8")
    return laws


def test_endpoint_writes_pairs_bad_replies_fall_back_to_the_rule(
    endpoint: tuple[str, list[dict[str, Any]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen = endpoint
    monkeypatch.setenv(KEY_ENV, KEY)
    cfg = GenerateConfig(
        source=str(_laws(tmp_path)), out=str(tmp_path / "out"), writer="openai:tiny-writer", base_url=base,
        api_key_env=KEY_ENV, max_words=12,
    )  # fmt: skip
    report = generate_stage(cfg, Workspace.resolve(tmp_path / "ws"))
    writer = report["writer"]
    assert (writer["name"], writer["written"], writer["fallback"], writer["dropped"]) == (
        "openai:tiny-writer", 1, 2, 1,
    )  # fmt: skip
    assert set(writer["rejected"]) == {
        "answer not grounded in the section (below 60% of its words)",
        "no JSON object and no Question:/Answer: lines",
        "question: Field required",
    }
    rows = [json.loads(line) for line in (tmp_path / "out" / "instructions.jsonl").read_text().splitlines()]
    assert [r["meta"]["writer"] for r in rows] == ["openai:tiny-writer", "rules", "rules"]
    llm_row, fallback = rows[0], rows[1]
    assert llm_row["meta"]["rule"] == "llm-written" and llm_row["meta"]["chunk_ids"] == ["tg-0"]
    assert llm_row["messages"][-1]["content"].startswith("Eine sichere und umweltverträgliche")
    assert "Frage: Welchem Zweck dient das Gesetz?" in llm_row["messages"][0]["content"]
    assert fallback["meta"]["fallback_reason"].startswith("answer not grounded")
    assert fallback["meta"]["rule"] == "heading-question" and fallback["meta"]["chunk_ids"] == ["tg-1"]
    assert report["preferences"] == 3  # preference pairs are built from the mixed rows as before
    request = seen[-1]
    assert request["model"] == "tiny-writer" and request["stream"] is False
    assert "Inkrafttreten" in request["messages"][1]["content"]


def test_endpoint_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from integration.serve_server import free_port

    monkeypatch.setenv(KEY_ENV, "wrong")
    cfg = GenerateConfig(
        source=str(_laws(tmp_path)), out=str(tmp_path / "o"), writer="openai:m",
        base_url=f"http://127.0.0.1:{free_port()}/v1", api_key_env=KEY_ENV,
    )  # fmt: skip
    with pytest.raises(AdaptlabError, match=r"cannot reach http://127\.0\.0\.1:\d+/v1/chat/completions"):
        generate_stage(cfg, Workspace.resolve(tmp_path / "ws"))


@pytest.mark.slow  # a tiny real model answers before the judge
def test_eval_with_an_endpoint_judge(
    endpoint: tuple[str, list[dict[str, Any]]],
    tiny_llama: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adaptlab.cli.llm import eval_table
    from adaptlab.llm.stages import EvalConfig, eval_stage

    base, seen = endpoint
    tiny = tiny_llama
    data = tmp_path / "held_out.jsonl"
    rows = [
        {"question": f"Was regelt {s} TG?", "answer": "Die Versorgung mit Elektrizität.", "source": "TG"}
        for s in ("§ 1", "§ 2", "§ 4")
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    monkeypatch.setenv(KEY_ENV, KEY)
    before = len(seen)
    cfg = EvalConfig(
        data=str(data), model=str(tiny), max_new_tokens=3, judge="openai:tiny-judge", judge_base_url=base,
        judge_api_key_env=KEY_ENV, predictions=str(tmp_path / "pred.jsonl"),
    )  # fmt: skip
    ws = Workspace.resolve(tmp_path / "ws")
    report = eval_stage(cfg, ws, tracking_uri="none")
    [base_row] = report["results"]
    assert base_row["judge_score"] == pytest.approx(((5 + 4 + 5) / 3 + 2) / 2)
    assert base_row["judge_distribution"] == "1:0 2:1 3:0 4:0 5:1" and base_row["judge_unparsable"] == 1
    assert "token_f1" in base_row  # the judge adds to the table, it replaces nothing
    table_rows = [cell for column in eval_table(report).columns for cell in column._cells]
    assert "judge_distribution" in table_rows and "1:0 2:1 3:0 4:0 5:1" in table_rows
    predictions = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert predictions[0]["judge"] == {"faithfulness": 5, "correctness": 4, "language": 5}
    assert predictions[1]["judge"] == {"unparsable": "The answer is acceptable."}
    judged = seen[before:]
    assert len(judged) == 3 and all(r["model"] == "tiny-judge" for r in judged)
    for request, prediction in zip(judged, predictions):
        assert request["messages"][1]["content"].endswith(f"ANSWER:\n{prediction['prediction']}\n\nJSON:")


@pytest.mark.slow  # a tiny real model generates
def test_a_local_model_as_writer_and_judge(tiny_llama: Path, tmp_path: Path) -> None:
    """A random tiny Llama writes nothing usable: every reply is rejected and counted, the rule fills in;
    as a judge its verdicts are counted as unparsable rather than guessed."""
    from adaptlab.llm.chat_models import LocalChatModel
    from adaptlab.llm.judge import LOCAL_PREFILL, judge_answers

    tiny = tiny_llama
    cfg = GenerateConfig(
        source=str(_laws(tmp_path)), out=str(tmp_path / "out"), writer=str(tiny), writer_max_tokens=4,
        preference=False,
    )  # fmt: skip
    report = generate_stage(cfg, Workspace.resolve(tmp_path / "ws"))
    assert report["writer"]["written"] == 0 and report["writer"]["fallback"] == 3
    assert sum(report["writer"]["rejected"].values()) == 4 and report["instructions"] == 3
    judge = LocalChatModel(str(tiny), prefill=LOCAL_PREFILL)
    result = judge_answers(judge, ["Was regelt § 1?"], ["Den Zweck."], ["Die Sonne."], max_tokens=3)
    assert result.replies[0].startswith(LOCAL_PREFILL) and result.verdicts == [None]
    assert result.metrics()["judge_unparsable"] == 1
