"""Imports every command module so each registers its commands on the shared `app`."""

from adaptlab.cli import compress, embed, eval, ingest, models, run, search, status  # noqa: F401
