from __future__ import annotations

from adaptlab.llm.cleaning import dedupe, split_by_source
from adaptlab.llm.formats import Example


def _ex(question: str, answer: str, source: str = "s", id: str = "") -> Example:
    return Example(
        [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], source, id
    )


LONG = (
    "Der Netzbetreiber ist verpflichtet, Anlagen zur Erzeugung von Strom aus erneuerbaren Energien "
    "unverzüglich vorrangig an der Stelle an sein Netz anzuschließen, die im Hinblick auf die Spannungsebene "
    "geeignet ist und die in der Luftlinie kürzeste Entfernung zum Standort der Anlage aufweist"
)


def test_exact_and_near_duplicates_are_dropped_first_kept() -> None:
    rows = [
        _ex("Was regelt § 8?", LONG, id="1"),
        _ex("was regelt § 8", LONG + ".", id="2"),  # same after normalisation
        _ex("Was regelt § 8?", LONG.replace("kürzeste", "kurze"), id="3"),  # one word differs
        _ex("Was regelt § 9?", "Etwas ganz anderes über Messeinrichtungen und deren Betrieb.", id="4"),
    ]
    kept, report = dedupe(rows, threshold=0.8)
    assert [e.id for e in kept] == ["1", "4"]
    assert (report.exact, report.near, report.kept) == (1, 1, 2)
    kept_all, report_off = dedupe(rows, threshold=1.0)
    assert [e.id for e in kept_all] == ["1", "3", "4"] and report_off.near == 0


def test_split_keeps_each_source_in_one_split_and_is_stable() -> None:
    rows = [_ex(f"q{i}", f"a{i}", source=f"law{i % 10}", id=str(i)) for i in range(200)]
    splits = split_by_source(rows, val=0.1, test=0.2, seed=0)
    sources = {name: {e.source for e in items} for name, items in splits.items()}
    assert sum(len(v) for v in splits.values()) == 200
    assert not (sources["train"] & sources["test"]) and not (sources["train"] & sources["val"])
    assert splits["test"] and splits["val"] and splits["train"]
    again = split_by_source(list(reversed(rows)), val=0.1, test=0.2, seed=0)
    assert {e.id for e in again["test"]} == {e.id for e in splits["test"]}


def test_split_by_id_when_rows_share_one_source() -> None:
    rows = [_ex(f"q{i}", f"a{i}", source="one-file", id=str(i)) for i in range(100)]
    splits = split_by_source(rows, val=0.0, test=0.1, key="id")
    assert len(splits["test"]) == 10 and len(splits["train"]) == 90
    assert split_by_source(rows, val=0.1, test=0.1)["train"] == rows  # a single source stays whole (in train)
