import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.retrieval.fusion import fuse, fuse_runs, rrf, wsum

BM25 = {"a": 12.0, "b": 8.0, "c": 1.0}
DENSE = {"b": 0.9, "d": 0.7}


def test_rrf_sums_reciprocal_ranks() -> None:
    scores = rrf([BM25, DENSE], k=60)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["d"] == pytest.approx(1 / 62)
    assert scores["c"] == pytest.approx(1 / 63)


def test_rrf_ranks_what_both_lists_agree_on_first() -> None:
    assert [doc for doc, _ in fuse([BM25, DENSE], "rrf", k=0)] == ["b", "a", "d", "c"]


def test_wsum_normalises_each_list_before_weighting() -> None:
    scores = wsum([BM25, DENSE], [0.25, 0.75])
    assert scores["a"] == pytest.approx(0.25 * 1.0)
    assert scores["b"] == pytest.approx(0.25 * 7 / 11 + 0.75 * 1.0)
    assert scores["c"] == pytest.approx(0.0) and scores["d"] == pytest.approx(0.0)


def test_fuse_runs_fuses_per_query_and_cuts_to_depth() -> None:
    fused = fuse_runs([{"q1": BM25}, {"q1": DENSE, "q2": {"x": 1.0}}], "rrf", depth=2)
    assert list(fused["q1"]) == ["b", "a"] and list(fused["q2"]) == ["x"]


def test_bad_fusion_settings_are_user_errors() -> None:
    with pytest.raises(AdaptlabError, match="unknown fusion"):
        fuse([BM25], "max")
    with pytest.raises(AdaptlabError, match="one weight per list"):
        wsum([BM25, DENSE], [1.0])


@pytest.mark.slow  # ranx JIT-compiles its fusion kernels (seconds)
def test_same_scores_as_ranx_fuse() -> None:
    from ranx import Run
    from ranx import fuse as ranx_fuse

    runs = [{"q": BM25}, {"q": DENSE}]
    expected = ranx_fuse([Run(r) for r in runs], method="rrf", params={"k": 60}).to_dict()["q"]
    assert fuse_runs(runs, "rrf")["q"] == pytest.approx(expected)
    expected = ranx_fuse([Run(r) for r in runs], norm="min-max", method="wsum",
                         params={"weights": [0.3, 0.7]}).to_dict()["q"]
    assert fuse_runs(runs, "wsum", [0.3, 0.7])["q"] == pytest.approx(expected)


def test_wsum_keeps_a_lists_only_hit() -> None:
    from adaptlab.retrieval.fusion import fuse

    fused = dict(fuse([{"only": 7.5}, {"a": 0.9, "b": 0.5, "only": 0.1}], "wsum", [0.5, 0.5]))
    assert fused["only"] == 0.5 and fused["a"] == 0.5
