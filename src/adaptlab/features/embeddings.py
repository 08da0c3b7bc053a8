"""One model's chunk vectors, read from its Milvus collection for the `chunk_embedding` feature table.

The collection is the one `adaptlab embed` fills (named from the corpus and the model, as search finds it),
opened through the same `Session` the other stages use, so a Milvus server configured in `vectors.uri`
works as well as the workspace's Milvus Lite file. Nothing embedded yet is not an error: the export then
writes an empty table and says why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adaptlab.config import ExperimentConfig
from adaptlab.errors import AdaptlabError
from adaptlab.features.export import ChunkVectors
from adaptlab.workspace import Workspace


def collection_vectors(
    workspace: Workspace, config: ExperimentConfig, model: str | None = None
) -> ChunkVectors:
    """Every (chunk id, vector) of `model`'s collection (default: the config's first model)."""
    from adaptlab.pipeline import Session

    name = model or config.models[0]
    none = np.zeros((0, 0), dtype=np.float32)
    if (
        not config.vectors.uri and not Path(workspace.milvus_uri).exists()
    ):  # don't start Milvus Lite for nothing
        return ChunkVectors(
            name, [], none, f"chunk_embedding: nothing embedded yet (run `adaptlab embed --model {name}`)"
        )
    with Session.open(workspace.root, config) as session:
        collection = session.collection(name)  # an unknown model is the user's error: raised as is
        try:
            present = session.vectors.has(collection)
        except AdaptlabError as exc:  # e.g. `adaptlab serve` holds the Milvus Lite file: materialize the rest
            return ChunkVectors(
                name, [], none, f"chunk_embedding kept as last exported: {exc}", unreadable=True
            )
        if not present:
            return ChunkVectors(
                name,
                [],
                none,
                f"chunk_embedding: no collection '{collection}' (run `adaptlab embed --model {name}`)",
            )
        ids, matrix = session.vectors.all_vectors(collection)
    return ChunkVectors(name, ids, matrix)
