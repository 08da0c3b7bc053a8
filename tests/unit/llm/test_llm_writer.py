"""Parsing and validating LLM-written pairs: good replies in several shapes, bad ones rejected with a reason."""

from __future__ import annotations

import pytest

from adaptlab.llm.llm_writer import PairRejected, grounded_share, parse_pair, writer_messages
from adaptlab.llm.corpus_data import SourceSection

TEXT = (
    "Netzbetreiber müssen Anlagen unverzüglich und vorrangig an ihr Netz anschließen, "
    "soweit das technisch möglich ist."
)


@pytest.mark.parametrize(
    "reply",
    [
        '{"question": "Was müssen Netzbetreiber tun?", "answer": "Anlagen unverzüglich an ihr Netz anschließen."}',
        '```json\n{"question": "Was müssen Netzbetreiber tun?", "answer": "Anlagen vorrangig anschließen."}\n```',
        'Hier ist das Paar: {"question": "Was müssen Netzbetreiber tun?", "answer": "Anlagen anschließen, '
        'soweit möglich."} Viel Erfolg!',
        "Frage: Was müssen Netzbetreiber tun?\nAntwort: Anlagen unverzüglich an ihr Netz anschließen.",
    ],
)
def test_good_replies_parse(reply: str) -> None:
    pair = parse_pair(reply, TEXT)
    assert pair.question == "Was müssen Netzbetreiber tun?"
    assert pair.answer.startswith("Anlagen") and grounded_share(pair.answer, TEXT) >= 0.6


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Sure! I can help with that.", "no JSON object and no Question:/Answer: lines"),
        ('{"question": "Was müssen Netzbetreiber tun?", "answer": ', "invalid JSON"),
        ('["Was?", "Anschließen"]', "no JSON object"),
        ('{"question": "Netzbetreiber tun etwas", "answer": "Anlagen anschließen sofort"}', "no '?'"),
        ('{"question": "Was müssen Netzbetreiber tun?", "answer": "Anschließen."}', "fewer than 3 words"),
        ('{"answer": "Anlagen unverzüglich anschließen."}', "question: Field required"),
        (
            '{"question": "Was müssen Netzbetreiber tun?", "answer": 42}',
            "answer: Input should be a valid string",
        ),
        (
            '{"question": "Was müssen Netzbetreiber tun?", "answer": "Was müssen Netzbetreiber tun?"}',
            "answer repeats the question",
        ),
        (
            '{"question": "Was müssen Netzbetreiber tun?", "answer": "Die Sonne scheint heute sehr hell."}',
            "answer not grounded in the section",
        ),
    ],
)
def test_bad_replies_are_rejected_with_a_reason(reply: str, reason: str) -> None:
    with pytest.raises(PairRejected, match=reason.replace("?", r"\?").replace("(", r"\(")):
        parse_pair(reply, TEXT)


def test_the_request_holds_the_section_text_and_asks_for_json() -> None:
    section = SourceSection(("c1", "c2"), "TG", "§ 4 Anschluss von Anlagen", TEXT + " " + "x " * 500)
    system, user = writer_messages(section, context_chars=120)
    assert '{"question": "...", "answer": "..."}' in system["content"]
    assert "TG, § 4 Anschluss von Anlagen" in user["content"] and TEXT[:100] in user["content"]
    assert "x x x x x x x x" not in user["content"]  # the text is cut at context_chars
