"""What the lab sweeps: one BuildSpec per built index, each searched with several search settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from adaptlab.errors import AdaptlabError

Engine = Literal["milvus", "faiss"]
MILVUS_TYPES = ("AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW", "HNSW_SQ")
FAISS_TYPES = ("IVF_PQ", "BINARY")
"""FAISS covers what Milvus Lite cannot build: IVF_PQ and binary codes (with float rescoring)."""


@dataclass(frozen=True)
class BuildSpec:
    """One index to build (`params`) and the search settings to try on it (`searches`)."""

    engine: Engine
    index_type: str
    params: dict[str, Any] = field(default_factory=dict)
    searches: tuple[dict[str, Any], ...] = ({},)

    @property
    def label(self) -> str:
        built = ",".join(f"{k}={v}" for k, v in self.params.items() if k != "sq_type")
        return f"{self.index_type}({built})" if built else self.index_type


def _nlist(n: int) -> int:
    """IVF lists ≈ 4·√n (FAISS' rule of thumb), at least 4 and at most n/39 so each list trains."""
    return int(max(4, min(4 * round(n**0.5), n // 39 or 4)))


def default_grid(n: int, dim: int, types: tuple[str, ...] | None = None) -> list[BuildSpec]:
    """A grid scaled to `n` vectors: small enough to run in minutes, wide enough to show the frontier."""
    nlist = _nlist(n)
    probes = tuple(
        {"nprobe": p}
        for p in sorted({max(1, round(nlist * f)) for f in (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2)})
    )
    efs = tuple({"ef": ef} for ef in (16, 32, 64, 128))
    m_pq = next(m for m in (dim // 4, dim // 8, dim // 16, 8) if m and dim % m == 0)
    grid = [
        BuildSpec("milvus", "AUTOINDEX"),
        BuildSpec("milvus", "FLAT"),
        BuildSpec("milvus", "IVF_FLAT", {"nlist": nlist}, probes),
        BuildSpec("milvus", "IVF_SQ8", {"nlist": nlist}, probes),
        BuildSpec("milvus", "HNSW", {"M": 8, "efConstruction": 64}, efs),
        BuildSpec("milvus", "HNSW", {"M": 16, "efConstruction": 128}, efs),
        BuildSpec("milvus", "HNSW_SQ", {"M": 16, "efConstruction": 128, "sq_type": "SQ8"}, efs),
        BuildSpec("faiss", "IVF_PQ", {"nlist": nlist, "m": m_pq, "nbits": 8 if n >= 256 * 39 else 4}, probes),
        BuildSpec("faiss", "BINARY", {}, tuple({"rescore": r} for r in (0, 4, 10))),
    ]
    if types:
        wanted = {t.upper() for t in types}
        unknown = wanted - set(MILVUS_TYPES) - set(FAISS_TYPES)
        if unknown:
            raise AdaptlabError(
                f"unknown index type(s) {', '.join(sorted(unknown))}; choose from {', '.join(MILVUS_TYPES + FAISS_TYPES)}"
            )
        grid = [b for b in grid if b.index_type in wanted]
    return grid


def bytes_per_vector(spec: BuildSpec, dim: int) -> float:
    """Index memory per vector: exact for the codes, estimated for graph links (HNSW: ~2·M neighbours × 4 B
    on level 0 plus ids). Milvus Lite does not report index memory, so this is what the layout needs."""
    t, p = spec.index_type, spec.params
    links = 2 * int(p.get("M", 16)) * 4 * 1.05
    return {
        "AUTOINDEX": 4.0 * dim,  # Milvus Lite builds a float index for AUTOINDEX; raw floats at least
        "FLAT": 4.0 * dim,
        "IVF_FLAT": 4.0 * dim + 8,
        "IVF_SQ8": 1.0 * dim + 8,
        "HNSW": 4.0 * dim + links,
        "HNSW_SQ": 1.0 * dim + links,
    }.get(t, 0.0)
