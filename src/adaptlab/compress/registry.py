"""Method specs the CLI and API accept: `name[:argument]`, e.g. `int8`, `pq:48x8`, `pca:96`, `binary-rescore:8`.

Kept free of heavy imports (FAISS, torch, scikit-learn), so the CLI's help stays fast: each compressor's
module is imported when a spec is built.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptlab.errors import AdaptlabError

if TYPE_CHECKING:
    from adaptlab.compress.base import Compressor

NUMBER = r"\d+"


@dataclass(frozen=True)
class Method:
    """A spec name: its class (`module:Class`), fixed keyword arguments, and what `:argument` sets."""

    help: str
    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    argument: str | None = None
    """Constructor keyword the `:N` argument fills (pq's `:MxNBITS` is parsed apart); None: no argument."""

    def build(self, dim: int, arg: str | None) -> Compressor:
        kwargs = dict(self.kwargs)
        if arg and self.argument == "m,nbits":
            m, _, nbits = arg.partition("x")
            kwargs.update(m=int(m), nbits=int(nbits) if nbits else None)
        elif arg and self.argument:
            kwargs[self.argument] = int(arg)
        return compressor_class(self.target)(dim, **kwargs)


METHODS: dict[str, Method] = {
    "float32": Method("reference: 4·dim bytes, exact search", "floats:Float32"),
    "float16": Method("half precision: 2·dim bytes", "floats:Float16"),
    "int8": Method("scalar int8, per-dimension ranges calibrated on the corpus (FAISS SQ8): dim bytes", "int8:Int8"),
    "binary": Method("sign bits, Hamming search: dim/8 bytes", "binary:Binary"),
    "binary-rescore": Method(
        "sign bits, Hamming shortlist of k×R (':R', default 4) rescored with float query · ±1 bits: dim/8 bytes",
        "binary:Binary", {"rescore": "float"}, "oversample",
    ),
    "binary-rescore-int8": Method(
        "sign bits in memory (dim/8 bytes), shortlist of k×R (':R', default 4) rescored with int8 vectors "
        "read from disk (dim bytes more on disk)",
        "binary:Binary", {"rescore": "int8"}, "oversample",
    ),
    "pq": Method(
        "product quantisation (FAISS), ':M' or ':MxNBITS' (default M=dim/8, NBITS up to 8): M·NBITS/8 bytes",
        "pq:ProductQuantizer", argument="m,nbits",
    ),
    "pca": Method("PCA fitted on the corpus to ':D' dimensions (default dim/4): 4·D bytes", "pca:PCA",
                  argument="out_dim"),
    "matryoshka": Method("first ':D' dimensions, renormalised (default dim/4): 4·D bytes", "matryoshka:Matryoshka",
                         argument="out_dim"),
    "random-projection": Method("Gaussian random projection to ':D' dimensions (default dim/4): 4·D bytes",
                                "random_projection:RandomProjection", argument="out_dim"),
    "autoencoder": Method("small torch autoencoder trained on the corpus, ':D' dimensions (default dim/4): 4·D bytes",
                          "autoencoder:Autoencoder", argument="out_dim"),
}
DEFAULT_METHODS = tuple(name for name in METHODS if name != "float32")
_ARGUMENT_FORMS = {None: None, "m,nbits": rf"{NUMBER}(x{NUMBER})?"}


def compressor_class(target: str) -> type[Compressor]:
    """`pca:PCA` → adaptlab.compress.pca.PCA, imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(f"adaptlab.compress.{module}"), name)


def class_for_method(method: str) -> type[Compressor]:
    """The class whose `method` attribute is `method` (what `Compressor.load` reads from a file)."""
    for spec in METHODS.values():
        cls = compressor_class(spec.target)
        if cls.method == method:
            return cls
    raise AdaptlabError(f"file holds an unknown compression method {method!r}")


def check_spec(spec: str) -> tuple[Method, str | None]:
    """The method of `spec` and its argument; an unknown name or a malformed argument is a user error."""
    name, colon, arg = spec.strip().partition(":")
    method = METHODS.get(name)
    if method is None:
        raise AdaptlabError(f"unknown compression method '{name}'; choose from {', '.join(METHODS)}")
    form = _ARGUMENT_FORMS.get(method.argument, NUMBER)
    if colon and (form is None or not re.fullmatch(form, arg)):
        raise AdaptlabError(f"method '{spec.strip()}': bad argument; {name} is {method.help}")
    return method, arg or None


def make_compressor(spec: str, dim: int) -> Compressor:
    """An unfitted compressor for `spec` on `dim`-dimensional vectors."""
    method, arg = check_spec(spec)
    return method.build(dim, arg)


def parse_methods(specs: str | list[str]) -> list[str]:
    """'int8,pq:48' or ['int8', 'pq:48'] → validated specs, float32 first (the reference), no repeats."""
    items = specs.split(",") if isinstance(specs, str) else [s for item in specs for s in item.split(",")]
    found = [s.strip() for s in items if s.strip()]
    for spec in found:
        check_spec(spec)
    return list(dict.fromkeys(["float32", *found]))
