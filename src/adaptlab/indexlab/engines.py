"""The two engines the lab drives: a private Milvus Lite folder (one collection, re-indexed per build) and FAISS.

Both answer `search(queries, k, search_params, filtered)` with corpus row ids, so recall and timing code is
shared. The lab never touches the workspace's own Milvus folder (Milvus Lite allows one process per folder).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.indexlab.candidates import BuildSpec, bytes_per_vector
from adaptlab.indexlab.data import LabData

COLLECTION = "index_lab"
INSERT_BLOCK = 2000


class MilvusLab:
    """The lab's vectors in Milvus Lite with an int64 `tag` scalar field for the filtered runs."""

    def __init__(self, data: LabData, folder: Path, collection: str = COLLECTION, client: Any = None) -> None:
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        from pymilvus import DataType, MilvusClient

        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        folder.mkdir(parents=True, exist_ok=True)
        self.data = data
        self.name = collection
        self.client = client or MilvusClient(uri=str(folder / "lab.db"))
        self._owns_client = client is None
        if self.client.has_collection(self.name):
            self.client.drop_collection(self.name)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=data.dim)
        schema.add_field("tag", DataType.INT64)
        self.client.create_collection(self.name, schema=schema)
        for start in range(0, len(data.vectors), INSERT_BLOCK):
            stop = min(start + INSERT_BLOCK, len(data.vectors))
            rows = [
                {"id": i, "vector": data.vectors[i].tolist(), "tag": int(data.tags[i])}
                for i in range(start, stop)
            ]
            self.client.insert(self.name, rows)
        self.client.flush(self.name)
        self._indexed = False

    def build(self, spec: BuildSpec) -> tuple[float, float]:
        """(seconds to build and load the index, bytes per vector)."""
        if self._indexed:
            self.client.release_collection(self.name)
            self.client.drop_index(self.name, "vector")
        params = self.client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type=spec.index_type, metric_type="COSINE", params=dict(spec.params)
        )
        start = time.perf_counter()
        self.client.create_index(self.name, params, sync=True)
        self.client.load_collection(self.name)
        self._indexed = True
        return time.perf_counter() - start, bytes_per_vector(spec, self.data.dim)

    def search(
        self, queries: np.ndarray, k: int, search_params: dict[str, Any], filtered: bool
    ) -> np.ndarray:
        hits = self.client.search(
            self.name,
            data=queries.tolist(),
            limit=k,
            filter=self.data.filter_expr if filtered else "",
            output_fields=[],
            search_params={"metric_type": "COSINE", "params": dict(search_params)},
        )
        out = np.full((len(queries), k), -1, dtype=np.int64)
        for row, found in enumerate(hits):
            ids = [int(h["id"]) for h in found][:k]
            out[row, : len(ids)] = ids
        return out

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


class FaissLab:
    """IVF_PQ (inner product) and binary sign codes with optional float rescoring, filtered by an id selector."""

    def __init__(self, data: LabData) -> None:
        import faiss

        self.faiss = faiss
        self.data = data
        self.index: Any = None
        self.kind = ""
        self._selector = faiss.IDSelectorBatch(np.flatnonzero(data.tags == data.filter_tag).astype(np.int64))

    def build(self, spec: BuildSpec) -> tuple[float, float]:
        faiss, vectors = self.faiss, self.data.vectors
        start = time.perf_counter()
        if spec.index_type == "IVF_PQ":
            p = spec.params
            quantizer = faiss.IndexFlatIP(self.data.dim)
            index = faiss.IndexIVFPQ(
                quantizer,
                self.data.dim,
                int(p["nlist"]),
                int(p["m"]),
                int(p["nbits"]),
                faiss.METRIC_INNER_PRODUCT,
            )
            index.train(vectors)
            index.add(vectors)
        else:
            index = faiss.IndexBinaryFlat(self.data.dim)
            index.add(np.packbits(vectors > 0, axis=1))
        seconds = time.perf_counter() - start
        self.index, self.kind = index, spec.index_type
        codes = (
            len(faiss.serialize_index(index))
            if spec.index_type == "IVF_PQ"
            else len(faiss.serialize_index_binary(index))
        )
        return seconds, codes / len(vectors)

    def search(
        self, queries: np.ndarray, k: int, search_params: dict[str, Any], filtered: bool
    ) -> np.ndarray:
        faiss = self.faiss
        sel = self._selector if filtered else None
        if self.kind == "IVF_PQ":
            params = faiss.SearchParametersIVF(sel=sel, nprobe=int(search_params.get("nprobe", 1)))
            return self.index.search(np.ascontiguousarray(queries), k, params=params)[1]
        rescore = int(search_params.get("rescore", 0))
        depth = k * rescore if rescore else k
        params = faiss.SearchParameters(sel=sel) if sel is not None else None
        cand = self.index.search(np.packbits(queries > 0, axis=1), depth, params=params)[1]
        if not rescore:
            return cand
        scores = np.einsum("qd,qkd->qk", queries, self.data.vectors[np.maximum(cand, 0)])
        scores[cand < 0] = -np.inf
        order = np.argsort(-scores, axis=1)[:, :k]
        return np.take_along_axis(cand, order, axis=1)

    def close(self) -> None:
        self.index = None
