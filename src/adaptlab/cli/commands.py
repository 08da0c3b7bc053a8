"""Imports every command module so each registers its commands on the shared `app`."""

from adaptlab.cli import analyze, compress, embed, eval, extract, features, finetune, index_lab, ingest, llm, models, monitor, rag, registry, rerank, run, search, serve, status  # noqa: F401
