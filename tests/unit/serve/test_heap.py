"""The startup heap is hidden from the collector, and garbage made afterwards is still collected."""

import gc
import weakref

from adaptlab.serve.heap import freeze_startup_heap, unfreeze_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_freeze_hides_startup_objects_and_later_cycles_are_still_collected() -> None:
    loaded = [[i] for i in range(1000)]  # stands in for what a server loads at startup (lists are tracked)
    try:
        frozen = freeze_startup_heap()
        assert frozen >= len(loaded)
        walked = {id(o) for g in range(3) for o in gc.get_objects(generation=g)}
        assert not any(id(row) in walked for row in loaded)  # a full pass no longer walks them

        a, b = _Node(), _Node()
        a.other, b.other = b, a  # a cycle made by a request: only the collector can free it
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        unfreeze_heap()
    assert gc.get_freeze_count() == 0
    assert loaded[999] == [999]
