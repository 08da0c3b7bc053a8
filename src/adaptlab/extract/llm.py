"""The LLM step: ask a local chat model for the fields the rules left empty, as JSON, and keep only
answers that validate and are grounded in the document.

Schema-constrained output the simple way: the prompt lists the wanted keys with their types, the
answer is forced to start as a JSON object, it is parsed, coerced with the same value parsers the
rules use, validated by the pydantic model, and retried once with the validation error. A value
the document does not contain (a small model's invention) is dropped. When nothing survives, the
rules' record stands: that is the fallback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from adaptlab.extract.rules import parse_value
from adaptlab.extract.schema import FieldSpec, RecordSchema, describe_errors
from adaptlab.extract.values import NUMBER, find_dates, find_quantities, parse_number

Complete = Callable[[list[dict[str, str]], str], str]
"""(chat messages, the start of the answer) → the model's continuation of that start."""

SYSTEM = "You copy facts from a document into JSON. Reply with one JSON object and nothing else."
MAX_DOCUMENT_CHARS = 1500


@dataclass
class LlmOutcome:
    values: dict[str, Any] = field(default_factory=dict)  # grounded, validated values for missing fields
    attempts: int = 0
    error: str = ""  # why the last attempt was rejected, when none was accepted


def _type_hint(spec: FieldSpec) -> str:
    if spec.type == "enum":
        return "one of " + ", ".join(spec.enum)
    if spec.type == "date":
        return "date as YYYY-MM-DD"
    if spec.type in ("number", "integer"):
        return f"number in {spec.unit}" if spec.unit else spec.type
    return "text copied from the document"


def prompt(schema: RecordSchema, fields: list[FieldSpec], text: str, error: str = "") -> list[dict[str, str]]:
    keys = "\n".join(f'"{f.name}": {f.description or f.name} ({_type_hint(f)})' for f in fields)
    user = (
        f"Document:\n{text[:MAX_DOCUMENT_CHARS]}\n\nFill this JSON object from the document. Keys:\n{keys}\n"
        "Use null when the document does not say."
    )
    if error:
        user += f"\nYour previous answer was rejected: {error}. Answer again."
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in the text (a small model may add chatter after it)."""
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the answer")
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON ({err.msg})") from None
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object")
    return value


def grounded(spec: FieldSpec, value: Any, text: str) -> bool:
    """Whether the document supports the value: the string occurs, the date or quantity is stated."""
    if value is None:
        return True
    if spec.type == "date":
        return value in {found.value for found in find_dates(text)}
    if spec.type in ("number", "integer"):
        stated = {f.value for f in find_quantities(text, spec.unit)} if spec.unit else {
            parse_number(m.group()) for m in re.finditer(NUMBER, text)}  # fmt: skip
        return any(s is not None and abs(s - float(value)) <= 1e-6 * max(1.0, abs(s)) for s in stated)
    if spec.type == "enum":
        return True  # an enum is a classification; the validator already restricts it
    if spec.type == "boolean":
        return True
    return " ".join(str(value).split()).casefold() in " ".join(text.split()).casefold()


def coerce(spec: FieldSpec, value: Any) -> Any:
    """The model's value in the field's type, using the rules' parsers for strings like '2,5 MW'."""
    if value is None or (isinstance(value, str) and value.strip().casefold() in {"", "null", "none", "n/a"}):
        return None
    if spec.type in ("number", "integer") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    parsed = parse_value(spec, str(value))
    if parsed is None:
        raise ValueError(
            f"{spec.name}: {json.dumps(value, ensure_ascii=False)} is not a valid {_type_hint(spec)}"
        )
    return parsed


class LlmExtractor:
    """Fills missing fields with a chat model; `complete` is the model (see `smollm2_complete`)."""

    def __init__(self, schema: RecordSchema, complete: Complete, retries: int = 1) -> None:
        self.schema = schema
        self.complete = complete
        self.retries = retries

    def fill(self, text: str, record: dict[str, Any]) -> LlmOutcome:
        missing = [spec for spec in self.schema.fields if record.get(spec.name) is None]
        outcome = LlmOutcome()
        if not missing:
            return outcome
        start = f'{{"{missing[0].name}": '
        for attempt in range(1 + self.retries):
            outcome.attempts = attempt + 1
            try:
                answer = parse_json_object(
                    start + self.complete(prompt(self.schema, missing, text, outcome.error), start)
                )
                values = {spec.name: coerce(spec, answer.get(spec.name)) for spec in missing}
                self.schema.validate({**record, **{k: v for k, v in values.items() if v is not None}})
            except ValueError as err:  # pydantic's ValidationError is a ValueError too
                outcome.error = describe_errors(err) if isinstance(err, ValidationError) else str(err)
                continue
            by_name = {spec.name: spec for spec in missing}
            outcome.values = {
                k: v for k, v in values.items() if v is not None and grounded(by_name[k], v, text)
            }
            outcome.error = ""
            return outcome
        return outcome


def smollm2_complete(max_new_tokens: int = 64) -> Complete:
    """The packaged SmolLM2-135M-Instruct (via `adaptlab.rag.generators`), greedy, as a `Complete`."""
    import torch

    from adaptlab.rag.generators import load_generator

    generator = load_generator("smollm2-135m")
    tokenizer, model = generator.tokenizer, generator.model

    def complete(messages: list[dict[str, str]], start: str) -> str:
        chat = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + start
        inputs = tokenizer(chat, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                    repetition_penalty=1.1, pad_token_id=tokenizer.eos_token_id,
                                    stop_strings=["}"], tokenizer=tokenizer)  # fmt: skip
        return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

    return complete
