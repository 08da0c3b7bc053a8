"""GPL-style query writing: replies cleaned or rejected with a reason, every reply cached and resumable."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.train.synthetic_queries import QueryCache, clean_query, query_cache_path, synthetic_pairs

PASSAGE = "Der Netzbetreiber muss Anlagen zur Erzeugung von Strom aus erneuerbaren Energien unverzüglich anschließen."


@pytest.mark.parametrize(("reply", "query"), [
    ("Wann muss der Netzbetreiber Anlagen anschließen?", "Wann muss der Netzbetreiber Anlagen anschließen?"),
    ('Query: "Netzanschluss erneuerbare Energien"\nMore text', "Netzanschluss erneuerbare Energien"),
    ("\n\n1. Suchanfrage: Anschlusspflicht Netzbetreiber", "Anschlusspflicht Netzbetreiber"),
])
def test_a_reply_is_cut_to_its_query(reply: str, query: str) -> None:
    assert clean_query(reply, PASSAGE) == query


@pytest.mark.parametrize(("reply", "reason"), [
    ("", "fewer than two words"),
    ("Netzanschluss", "fewer than two words"),
    (" ".join(["Wort"] * 31), "more than 30 words"),
    ("Der Netzbetreiber muss Anlagen zur Erzeugung", "copied from the passage"),
    ("muss  Anlagen zur Erzeugung von Strom", "copied from the passage"),
    ("Nach nach nach nach nach nach", "repeats itself"),
])
def test_unusable_replies_are_rejected_with_a_reason(reply: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        clean_query(reply, PASSAGE)


class ScriptedWriter:
    """Answers from a fixed list, counting calls (the cache must spare the second run every call)."""

    name = "scripted"

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies, self.asked = replies, 0

    def complete_many(self, conversations: list[list[dict[str, str]]], max_tokens: int = 256,
                      progress: object = None) -> list[str]:
        self.asked += len(conversations)
        return [next(r for key, r in self.replies.items() if key in c[-1]["content"]) for c in conversations]


def test_pairs_come_from_accepted_replies_and_a_second_run_asks_nothing(tmp_path: Path) -> None:
    passages = [("d1", "c1", PASSAGE), ("d2", "c2", "Die Bundesnetzagentur überwacht die Einhaltung der Vorschriften.")]
    writer = ScriptedWriter({"Netzbetreiber": "Anschlusspflicht für Netzbetreiber", "Bundesnetzagentur": "?"})
    cache = QueryCache(query_cache_path(tmp_path, writer.name))
    pairs, counts = synthetic_pairs(passages, writer, cache)
    assert [(p.query, p.doc_id, p.chunk_id, p.rule) for p in pairs] == [
        ("Anschlusspflicht für Netzbetreiber", "d1", "c1", "synthetic")]
    assert counts.as_dict() == {"written": 2, "cached": 0, "rejected": {"fewer than two words": 1}}
    again = QueryCache(cache.path)
    pairs_again, counts_again = synthetic_pairs(passages, writer, again)
    assert pairs_again == pairs and writer.asked == 2 and counts_again.cached == 2


def test_a_line_cut_by_a_crash_is_asked_again(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    writer = ScriptedWriter({"Netz": "Anschluss von Anlagen"})
    synthetic_pairs([("d", "c", PASSAGE)], writer, QueryCache(path))
    path.write_text(path.read_text(encoding="utf-8")[:-10], encoding="utf-8")
    pairs, counts = synthetic_pairs([("d", "c", PASSAGE)], writer, QueryCache(path))
    assert len(pairs) == 1 and counts.written == 1 and writer.asked == 2
