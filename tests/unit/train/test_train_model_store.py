"""Trained models are found by name; a retrained folder gets a new collection key."""

from pathlib import Path

import numpy as np
import pytest

from adaptlab.errors import AdaptlabError
from adaptlab.train.adapter import AdapterParams, EmbeddingAdapter
from adaptlab.train.model_store import model_key, register_model, registered_models, resolve_model
from adaptlab.workspace import Workspace


def test_register_resolve_and_key(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    vecs = np.eye(4, dtype=np.float32)
    folder = EmbeddingAdapter(AdapterParams(epochs=1), base="minilm").fit(vecs, vecs).save(tmp_path / "ad")
    entry = register_model(ws, "my-adapter", folder)
    assert entry["kind"] == "adapter" and registered_models(ws)["my-adapter"]["path"] == str(folder.resolve())
    assert resolve_model(ws, "my-adapter") == str(folder.resolve())
    assert resolve_model(ws, "minilm") == "minilm"
    assert model_key(ws, "my-adapter") == entry["key"]
    (folder / "extra.txt").write_text("retrained", encoding="utf-8")
    assert register_model(ws, "my-adapter", folder)["key"] != entry["key"]
    with pytest.raises(AdaptlabError, match="zoo model"):
        register_model(ws, "minilm", folder)
