"""The quality gate compares the primary metric on shared held-out datasets and refuses the unmeasured."""

from __future__ import annotations

from adaptlab.registry.gate import primary_scores, quality_gate


def test_better_or_equal_passes_and_worse_fails() -> None:
    champion = {"xquad-de-en/ndcg@10": 0.50, "laws-heading/ndcg@10": 0.40, "xquad-de-en/mrr@10": 0.9}
    assert quality_gate(
        {"xquad-de-en/ndcg@10": 0.55, "laws-heading/ndcg@10": 0.40}, champion, "ndcg@10"
    ).passed
    worse = quality_gate(
        {"xquad-de-en/ndcg@10": 0.49, "laws-heading/ndcg@10": 0.40}, champion, "ndcg@10", "v2", "champion v1"
    )
    assert not worse.passed
    assert "0.4450 < champion v1 0.4500" in worse.reason and "--force" in worse.reason
    assert worse.compared["xquad-de-en"] == (0.49, 0.50)


def test_only_shared_datasets_count_and_none_shared_fails() -> None:
    champion = {"xquad-de-en/ndcg@10": 0.50}
    assert quality_gate({"xquad-de-en/ndcg@10": 0.51, "other/ndcg@10": 0.01}, champion, "ndcg@10").passed
    unmeasured = quality_gate({"other/ndcg@10": 0.99}, champion, "ndcg@10")
    assert not unmeasured.passed and "share no held-out ndcg@10" in unmeasured.reason


def test_min_delta_demands_an_improvement() -> None:
    assert not quality_gate({"d/ndcg@10": 0.51}, {"d/ndcg@10": 0.50}, "ndcg@10", min_delta=0.02).passed
    assert primary_scores({"d/ndcg@10": 0.5, "d/mrr@10": 0.7}, "ndcg@10") == {"d": 0.5}
