import pytest

from adaptlab.corpus.store import ChunkRecord
from adaptlab.errors import AdaptlabError
from adaptlab.retrieval.filters import parse_filter


def _rec(lang: str = "de", page: int | None = None, **meta: object) -> ChunkRecord:
    return ChunkRecord("c", "d", 0, "H", "text", page, lang, "/x/enwg.md", "EnWG", dict(meta))


def test_equality_and_and_on_chunk_fields_and_metadata() -> None:
    rule = parse_filter('lang == "de" and law == "EnWG"')
    assert rule.matches(_rec(law="EnWG"))
    assert not rule.matches(_rec(law="EEG")) and not rule.matches(_rec("en", law="EnWG"))


def test_numbers_comparisons_and_quoted_and() -> None:
    assert parse_filter("net_capacity_kw > 1000").matches(_rec(net_capacity_kw=1500))
    assert not parse_filter("net_capacity_kw > 1000").matches(_rec(net_capacity_kw="viel"))
    assert parse_filter("page <= 2").matches(_rec(page=None))  # a missing page is 0, as in Milvus
    assert parse_filter("region == 'Nord and Ost'").matches(_rec(region="Nord and Ost"))


def test_metadata_keys_are_matched_under_their_milvus_names() -> None:
    assert parse_filter('energy_source == "wind"').matches(_rec(**{"energy-source": "wind"}))


def test_unsupported_syntax_and_unknown_fields_are_one_line_errors() -> None:
    with pytest.raises(AdaptlabError, match="not supported for BM25"):
        parse_filter('lang in ["de", "en"]')
    with pytest.raises(AdaptlabError, match="not supported for BM25"):
        parse_filter('lang == "de" or lang == "en"')
    with pytest.raises(AdaptlabError, match="'lwa' is not in the corpus"):
        parse_filter('lwa == "EnWG"').check_fields([_rec(law="EnWG")])
