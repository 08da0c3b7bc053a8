"""Index lab: sweep vector index types and parameters on the user's own embeddings, measure recall against
exact search, build time, memory and speed, and recommend the fastest setting that meets a recall target."""

from adaptlab.indexlab.cache import QueryCache
from adaptlab.indexlab.candidates import BuildSpec, default_grid
from adaptlab.indexlab.data import LabData
from adaptlab.indexlab.lab import LabReport, LabResult, recommend, run_lab

__all__ = [
    "BuildSpec",
    "LabData",
    "LabReport",
    "LabResult",
    "QueryCache",
    "default_grid",
    "recommend",
    "run_lab",
]
