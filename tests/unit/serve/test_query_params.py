"""GET routes that read a pydantic model from the query string themselves: same documentation and the same
422s as FastAPI's own `Annotated[Model, Query()]`, whatever the input."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams

from adaptlab.serve.query_params import openapi_query, parse_query
from adaptlab.serve.schemas import SearchRequest


def test_the_documented_parameters_are_the_models_fields() -> None:
    extra = openapi_query(SearchRequest)
    params = {p["name"]: p for p in extra["parameters"]}
    assert list(params) == list(SearchRequest.model_fields)
    assert params["query"]["required"] is True and params["k"]["schema"]["maximum"] == 100
    assert all(p["in"] == "query" for p in params.values())
    assert extra["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("HTTPValidationError")


def test_values_are_coerced_and_a_repeated_name_keeps_its_last_value() -> None:
    req = parse_query(SearchRequest, QueryParams("query=Netzanschluss&k=3&k=5&expand=true&mode=hybrid"))
    assert (req.query, req.k, req.expand, req.mode) == ("Netzanschluss", 5, True, "hybrid")
    assert parse_query(SearchRequest, QueryParams("query=x")).k == 10


@pytest.mark.parametrize(
    ("query_string", "field"), [("k=3", "query"), ("query=x&k=0", "k"), ("query=x&mode=fuzzy", "mode")]
)
def test_bad_input_fails_like_fastapi_with_locations_under_query(query_string: str, field: str) -> None:
    with pytest.raises(RequestValidationError) as info:
        parse_query(SearchRequest, QueryParams(query_string))
    assert [e["loc"] for e in info.value.errors()] == [("query", field)]
