"""Embedding compression: quantisers and dimension reducers with fit/transform/save/load, and the harness
that measures what each keeps of float32 retrieval quality (`adaptlab compress`)."""

from adaptlab.compress.base import CodeIndex, Compressor
from adaptlab.compress.evaluate import CompressionReport, MethodResult, compress, evaluate_methods
from adaptlab.compress.registry import DEFAULT_METHODS, METHODS, make_compressor, parse_methods

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "CodeIndex",
    "CompressionReport",
    "Compressor",
    "MethodResult",
    "compress",
    "evaluate_methods",
    "make_compressor",
    "parse_methods",
]
