"""Method specs: names, arguments, and one-line errors for mistakes."""

from __future__ import annotations

import pytest

from adaptlab.compress import make_compressor, parse_methods
from adaptlab.compress.plot import pareto_front
from adaptlab.errors import AdaptlabError


def test_parse_puts_the_float32_reference_first_without_repeats() -> None:
    assert parse_methods("int8, pq:48x8,int8") == ["float32", "int8", "pq:48x8"]
    assert parse_methods(["binary-rescore:8", "pca:96,float32"]) == ["float32", "binary-rescore:8", "pca:96"]


@pytest.mark.parametrize(("spec", "message"), [
    ("int4", "unknown compression method 'int4'"),
    ("int8:3", "bad argument"),
    ("pca:x", "bad argument"),
    ("pq:8y4", "bad argument"),
])
def test_mistakes_are_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(AdaptlabError, match=message) as info:
        parse_methods(spec)
    assert "\n" not in str(info.value)


def test_dimension_mistakes_name_the_method() -> None:
    with pytest.raises(AdaptlabError, match="pq: m=5 must divide the dimension 64"):
        make_compressor("pq:5", 64)
    with pytest.raises(AdaptlabError, match="between 1 and 64"):
        make_compressor("matryoshka:65", 64)


def test_names_rebuild_the_same_settings() -> None:
    for spec in ["binary-rescore:8", "binary-rescore-int8:2", "pq:16x4", "pca:32", "random-projection:8"]:
        assert make_compressor(spec, 64).name == spec


def test_pareto_front_keeps_only_undominated_points() -> None:
    points = [(1, 1.0), (2, 1.0), (4, 0.99), (4, 0.95), (32, 0.98), (32, 0.9), (8, 0.97)]
    assert pareto_front(points) == [(2, 1.0), (4, 0.99), (32, 0.98)]
