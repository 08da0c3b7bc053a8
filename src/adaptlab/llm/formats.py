"""Reading training data in the common formats into one shape: a conversation, or a preference pair.

Formats, recognised per row by their fields:
- Q&A: `question` / `answer` (optional `context`);
- instruction (Alpaca): `instruction` / `input` / `output`;
- chat: `messages` of `{role, content}` (OpenAI style) or ShareGPT `conversations` of `{from, value}`;
- preference: `chosen` / `rejected`, each a string, a message, or a whole conversation, with the prompt in
  `prompt`, `question`, `instruction`/`input`, `messages` or `conversations`.
Files: .json (a list, or `{"data": [...]}`), .jsonl, .csv (cells holding JSON lists are parsed).
A bad row is skipped and counted under its reason; it never stops the file.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from adaptlab.errors import AdaptlabError

Kind = Literal["sft", "preference"]
ROLES = ("system", "user", "assistant")
_SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "model": "assistant",
    "bot": "assistant",
}
MAX_REASON_EXAMPLES = 5


class RowError(ValueError):
    """Why one row cannot be used; the message is the reason counted in the report."""


@dataclass
class Example:
    """A conversation whose assistant turns are what the model learns; `source` groups rows for splitting."""

    messages: list[dict[str, str]]
    source: str = ""
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt_messages(self) -> list[dict[str, str]]:
        return self.messages[:-1]

    @property
    def answer(self) -> str:
        return self.messages[-1]["content"]

    def to_dict(self) -> dict[str, Any]:
        return {"messages": self.messages, "source": self.source, "id": self.id, "meta": self.meta}


@dataclass
class PreferencePair:
    """A prompt (a conversation ending with the user) and a chosen and a rejected assistant answer."""

    prompt: list[dict[str, str]]
    chosen: str
    rejected: str
    source: str = ""
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, str]]:  # what dedupe and split look at
        return [*self.prompt, {"role": "assistant", "content": self.chosen}]

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "chosen": self.chosen,
            "rejected": self.rejected,
            "source": self.source,
            "id": self.id,
            "meta": self.meta,
        }


@dataclass
class LoadReport:
    """What a file gave: the usable rows, and the skipped ones counted by reason (with a few row numbers)."""

    path: str
    items: list[Any]
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_rows: dict[str, list[int]] = field(default_factory=dict)

    def skip(self, row: int, reason: str) -> None:
        self.skipped[reason] += 1
        rows = self.skipped_rows.setdefault(reason, [])
        if len(rows) < MAX_REASON_EXAMPLES:
            rows.append(row)

    def summary(self) -> str:
        text = f"{self.path}: {len(self.items)} rows loaded"
        if self.skipped:
            reasons = "; ".join(
                f"{n} × {reason} (rows {', '.join(map(str, self.skipped_rows[reason]))}…)"
                for reason, n in self.skipped.most_common()
            )
            text += f", {sum(self.skipped.values())} skipped: {reasons}"
        return text


def read_rows(path: Path) -> list[Any]:
    """The raw rows of a .json, .jsonl or .csv file; a file that cannot be read at all is a user error."""
    if not path.is_file():
        raise AdaptlabError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            rows: list[Any] = []
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        rows.append(RowError(f"invalid JSON on line {number}"))
            return rows
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("data"), list):
                data = data["data"]
            if not isinstance(data, list):
                raise AdaptlabError(f'{path}: expected a JSON list of rows (or {{"data": [...]}})')
            return data
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                return [dict(row) for row in csv.DictReader(fh)]
    except json.JSONDecodeError as exc:
        raise AdaptlabError(f"{path}: invalid JSON (line {exc.lineno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise AdaptlabError(f"{path}: not UTF-8 text") from None
    raise AdaptlabError(f"{path}: unsupported file type '{suffix}'; use .json, .jsonl or .csv")


def _text(value: Any, name: str, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise RowError(f"empty '{name}'")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise RowError(f"'{name}' is not text")
    text = str(value).strip()
    if required and not text:
        raise RowError(f"empty '{name}'")
    return text


def _maybe_json(value: Any) -> Any:
    """CSV cells hold lists and objects as JSON text."""
    if isinstance(value, str) and value.strip()[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise RowError("a cell that looks like JSON does not parse") from None
    return value


def parse_messages(value: Any, field_name: str) -> list[dict[str, str]]:
    """OpenAI `{role, content}` or ShareGPT `{from, value}` turns → `{role, content}` turns."""
    value = _maybe_json(value)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise RowError(f"'{field_name}' is not a list of turns")
    turns = []
    for turn in value:
        if not isinstance(turn, dict):
            raise RowError(f"'{field_name}' has a turn that is not an object")
        if "role" in turn:
            role, content = str(turn["role"]), turn.get("content")
        elif "from" in turn:
            role, content = _SHAREGPT_ROLES.get(str(turn["from"]), str(turn["from"])), turn.get("value")
        else:
            raise RowError(f"'{field_name}' has a turn without role/from")
        if role not in ROLES:
            raise RowError(f"unknown role '{role}'")
        turns.append({"role": role, "content": _text(content, f"{field_name} content")})
    return turns


def prompt_of(row: dict[str, Any]) -> list[dict[str, str]]:
    """The user side of a row, from whichever prompt fields it has."""
    for key in ("messages", "conversations"):
        if key in row:
            return parse_messages(row[key], key)
    if "prompt" in row:
        prompt = _maybe_json(row["prompt"])
        return (
            parse_messages(prompt, "prompt")
            if isinstance(prompt, list)
            else [{"role": "user", "content": _text(prompt, "prompt")}]
        )
    if "instruction" in row:
        return [{"role": "user", "content": instruction_text(row)}]
    if "question" in row:
        return [{"role": "user", "content": question_text(row)}]
    raise RowError("no prompt field (prompt, messages, conversations, instruction or question)")


def instruction_text(row: dict[str, Any]) -> str:
    """Alpaca instruction and optional input as one user turn."""
    instruction = _text(row.get("instruction"), "instruction")
    extra = _text(row.get("input"), "input", required=False)
    return f"{instruction}\n\n{extra}" if extra else instruction


def question_text(row: dict[str, Any]) -> str:
    question = _text(row.get("question"), "question")
    context = _text(row.get("context"), "context", required=False)
    return f"{context}\n\nQuestion: {question}" if context else question


def example_from_row(row: Any, number: int, default_source: str) -> Example:
    """One row of any SFT format → an Example; RowError names what is wrong."""
    if isinstance(row, RowError):
        raise row
    if not isinstance(row, dict):
        raise RowError("row is not an object")
    if "instruction" in row and "output" in row:
        messages = [
            {"role": "user", "content": instruction_text(row)},
            {"role": "assistant", "content": _text(row.get("output"), "output")},
        ]
        if row.get("system"):
            messages.insert(0, {"role": "system", "content": _text(row["system"], "system")})
    elif "question" in row and "answer" in row:
        messages = [
            {"role": "user", "content": question_text(row)},
            {"role": "assistant", "content": _text(row.get("answer"), "answer")},
        ]
    elif "messages" in row or "conversations" in row:
        key = "messages" if "messages" in row else "conversations"
        messages = parse_messages(row[key], key)
    else:
        raise RowError("no known format (question/answer, instruction/output, messages or conversations)")
    if messages[-1]["role"] != "assistant":
        raise RowError("last turn is not from the assistant")
    if not any(m["role"] == "user" for m in messages):
        raise RowError("no user turn")
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    return Example(messages, str(row.get("source") or default_source), str(row.get("id") or number), meta)


def _answer(value: Any, name: str) -> str:
    """A chosen/rejected answer given as text, one message, or a conversation ending with the assistant."""
    value = _maybe_json(value)
    if isinstance(value, str):
        return _text(value, name)
    turns = parse_messages(value, name)
    if turns[-1]["role"] != "assistant":
        raise RowError(f"'{name}' does not end with an assistant turn")
    return turns[-1]["content"]


def pair_from_row(row: Any, number: int, default_source: str) -> PreferencePair:
    """One preference row → a PreferencePair (prompt, chosen, rejected)."""
    if isinstance(row, RowError):
        raise row
    if not isinstance(row, dict):
        raise RowError("row is not an object")
    if "chosen" not in row or "rejected" not in row:
        raise RowError("no 'chosen' and 'rejected'")
    chosen, rejected = _answer(row["chosen"], "chosen"), _answer(row["rejected"], "rejected")
    prompt = prompt_of(row)
    if prompt[-1]["role"] == "assistant":  # hh-rlhf style: the whole dialogue is in `chosen`
        raise RowError("prompt ends with an assistant turn")
    if chosen == rejected:
        raise RowError("chosen equals rejected")
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    return PreferencePair(
        prompt, chosen, rejected, str(row.get("source") or default_source), str(row.get("id") or number), meta
    )


def load_file(path: Path, kind: Kind = "sft") -> LoadReport:
    """Every usable row of `path` as Examples (sft) or PreferencePairs (preference), bad rows counted."""
    path = Path(path)
    parse = example_from_row if kind == "sft" else pair_from_row
    report = LoadReport(str(path), [])
    for number, row in enumerate(read_rows(path), 1):
        try:
            report.items.append(parse(row, number, path.stem))
        except RowError as exc:
            report.skip(number, str(exc))
    return report


def write_jsonl(items: list[Any], path: Path) -> Path:
    """Examples or pairs as JSON lines (their own format: load_file reads it back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(
                json.dumps(item.to_dict() if hasattr(item, "to_dict") else item, ensure_ascii=False) + "\n"
            )
    tmp.replace(path)
    return path
