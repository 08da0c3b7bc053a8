"""A/B routing: sticky, share-accurate assignment and hot swaps driven by registry aliases."""

from __future__ import annotations

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.serve.routing import AliasWatcher, RegistryServing, RoutingTable, Variant, bucket


def test_assignment_is_sticky_and_follows_the_share() -> None:
    table = RoutingTable(Variant("champion", "a", "1"), Variant("challenger", "b", "2"), share=0.3)
    keys = [f"user-{i}" for i in range(20_000)]
    picks = [table.pick(k).name for k in keys]
    assert abs(picks.count("challenger") / len(keys) - 0.3) < 0.015
    assert [table.pick(k).name for k in keys[:500]] == picks[:500]
    assert table.pick(None).name == "champion" and table.pick("").name == "champion"
    assert RoutingTable(Variant("champion", "a")).pick("user-1").name == "champion"
    assert 0 <= bucket("x") < 1


class FakeRegistry:
    """Aliases and versions in memory: the watcher's side of the registry, without MLflow."""

    def __init__(self) -> None:
        self.current: dict[str, str] = {"champion": "1"}

    def aliases(self, name: str) -> dict[str, str]:
        return dict(self.current)

    def version(self, name: str, version: str):
        return type("V", (), {"model": f"model-{version}"})()


def test_watcher_prepares_before_swapping_and_keeps_serving_on_failure() -> None:
    registry, prepared, swapped = FakeRegistry(), [], []
    broken = {"model-3"}

    def prepare(model: str) -> None:
        if model in broken:
            raise RuntimeError("cannot load")
        prepared.append(model)

    watcher = AliasWatcher(registry, RegistryServing("emb", challenger_share=0.5), prepare, swapped.append)
    assert watcher.refresh() and watcher.table.champion == Variant("champion", "model-1", "1")
    assert not watcher.refresh()  # nothing moved
    registry.current = {"champion": "1", "challenger": "2"}
    assert watcher.refresh() and watcher.table.challenger == Variant("challenger", "model-2", "2")
    assert watcher.stats.swaps == 1 and prepared == ["model-1", "model-1", "model-2"]
    # mid-promotion: the champion alias is set, the challenger alias not yet cleared
    registry.current = {"champion": "2", "challenger": "2"}
    assert watcher.refresh() and watcher.table.challenger is None
    registry.current = {"champion": "2"}
    assert not watcher.refresh() and watcher.stats.swaps == 2  # the same table: no second swap
    registry.current = {"champion": "3"}
    with pytest.raises(RuntimeError):
        watcher.refresh()
    assert watcher.table.champion.version == "2" and len(swapped) == 3  # the old table still serves
    registry.current = {}
    with pytest.raises(AdaptlabError, match="no 'champion' alias"):
        watcher.refresh()
    with pytest.raises(AdaptlabError, match="between 0 and 1"):
        RegistryServing(challenger_share=1.5)
