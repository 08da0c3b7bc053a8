"""OEO term → definition sets: split by class, deterministic, disjoint; registered by name."""

from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.eval.oeo import class_split, oeo_to_beir
from adaptlab.eval.retrieval_eval import resolve_datasets

pytestmark = pytest.mark.data


def test_splits_are_disjoint_by_class_and_about_a_third(shared_data: Path) -> None:
    train = oeo_to_beir(shared_data / "oeo", "de-en", "train")
    test = oeo_to_beir(shared_data / "oeo", "de-en", "test")
    full = oeo_to_beir(shared_data / "oeo", "de-en", "all")
    assert set(train.corpus).isdisjoint(test.corpus)
    assert set(train.corpus) | set(test.corpus) == set(full.corpus)
    assert 0.25 < len(test.queries) / len(full.queries) < 0.42
    assert all(class_split(iri) == "test" for iri in test.corpus)
    assert all(q in test.corpus and test.qrels[q] == {q: 1} for q in test.queries)
    assert test.name == "oeo-de-en" and full.name == "oeo-de-en-all"


def test_english_set_and_names_resolve(shared_data: Path) -> None:
    en, de = resolve_datasets(["oeo-en", "oeo-de-en-train"])
    assert en.name == "oeo-en" and de.name == "oeo-de-en-train"
    assert len(en.queries) > len(de.queries) / 2  # nearly every class has an English label
    with pytest.raises(AdaptlabError, match="split"):
        resolve_datasets(["oeo-de-en-dev"])
