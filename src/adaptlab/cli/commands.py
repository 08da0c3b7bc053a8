"""Imports every command module so each registers its commands on the shared `app`."""

from adaptlab.cli import compress, embed, eval, finetune, ingest, models, rag, run, search, serve, status  # noqa: F401
