"""GPL-style synthetic queries (Wang et al. 2022): an LLM reads a corpus passage and writes the search query a
user would type to find it; (query, passage) becomes a training pair with rule `synthetic`.

The writer is any `ChatModel` (a packaged local LLM, a local causal-LM folder, or an OpenAI-compatible
endpoint). Replies are cleaned to one line and rejected (and counted) when they are not a usable query: empty,
too long, repeating itself, or six or more words copied verbatim from the passage. Every reply is cached in the
workspace under a hash of the writer and the passage, written after each batch, so an interrupted run resumes
and a re-run asks nothing again.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adaptlab.corpus.types import content_hash
from adaptlab.train.pairs import Pair

RULE = "synthetic"
PASSAGE_CHARS = 1200
"""The passage is cut to this many characters in the prompt: a query needs the gist, not every clause."""
MAX_QUERY_WORDS = 30
BATCH = 8
"""Passages per writer call; the cache is written after each."""
SYSTEM = (
    "You write search queries. Given a passage, reply with one short search query (a question or keywords, "
    "at most 15 words) that someone would type to find this passage. Write it in the passage's language. "
    "Reply with the query only."
)
_PREFIX = re.compile(r"^\s*(?:[-*•\d.)]+\s*)?(?:query|search query|suchanfrage|anfrage|frage|question)\s*[:：]\s*",
                     re.IGNORECASE)
_QUOTES = "\"'„“”‚‘’«»`"


@dataclass
class WriteCounts:
    written: int = 0
    cached: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"written": self.written, "cached": self.cached, "rejected": dict(self.rejected)}


def query_messages(passage: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Passage:\n{passage[:PASSAGE_CHARS]}\n\nSearch query:"}]


def clean_query(reply: str, passage: str) -> str:
    """The query in `reply`, or ValueError naming why there is none."""
    line = next((ln for ln in reply.strip().splitlines() if ln.strip()), "")
    query = _PREFIX.sub("", line).strip().strip(_QUOTES).strip()
    words = query.split()
    if len(words) < 2:
        raise ValueError("fewer than two words")
    if len(words) > MAX_QUERY_WORDS:
        raise ValueError(f"more than {MAX_QUERY_WORDS} words")
    if len({w.casefold() for w in words}) * 2 < len(words):
        raise ValueError("repeats itself")
    if len(words) > 5 and " ".join(words).casefold() in " ".join(passage.split()).casefold():
        raise ValueError("copied from the passage")
    return " ".join(words)


class QueryCache:
    """JSON lines of {key, query | reason}; the last line for a key wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, str]] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash: that passage is asked again
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    self.entries[entry["key"]] = entry

    def add(self, entries: list[dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for entry in entries:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.entries[entry["key"]] = entry


def query_cache_path(root: Path, writer_name: str) -> Path:
    slug = re.sub(r"[^0-9A-Za-z._-]+", "_", writer_name)[-60:]
    return root / "cache" / "synthetic-queries" / f"{slug}.jsonl"


def synthetic_pairs(passages: Sequence[tuple[str, str, str]], writer: Any, cache: QueryCache,
                    progress: Callable[[int], None] | None = None) -> tuple[list[Pair], WriteCounts]:
    """One pair per (doc_id, chunk_id, text) passage whose written query passes `clean_query`."""
    counts = WriteCounts()
    keys = [content_hash(RULE, writer.name, text) for _, _, text in passages]
    todo = [i for i, key in enumerate(keys) if key not in cache.entries]
    counts.cached = len(passages) - len(todo)
    if progress and counts.cached:
        progress(counts.cached)
    for start in range(0, len(todo), BATCH):
        batch = todo[start:start + BATCH]
        replies = writer.complete_many([query_messages(passages[i][2]) for i in batch], max_tokens=48)
        entries = []
        for i, reply in zip(batch, replies):
            try:
                entries.append({"key": keys[i], "query": clean_query(reply, passages[i][2])})
            except ValueError as exc:
                entries.append({"key": keys[i], "reason": str(exc), "reply": reply[:200]})
        cache.add(entries)
        counts.written += len(batch)
        if progress:
            progress(len(batch))
    pairs: list[Pair] = []
    for (doc_id, chunk_id, text), key in zip(passages, keys):
        entry = cache.entries[key]
        if "query" in entry:
            pairs.append(Pair(entry["query"], text, doc_id, RULE, chunk_id))
        else:
            counts.rejected[entry.get("reason", "no query")] += 1
    return pairs, counts


__all__ = ["RULE", "QueryCache", "WriteCounts", "clean_query", "query_cache_path", "query_messages",
           "synthetic_pairs"]
