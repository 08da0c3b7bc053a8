"""User-facing errors: the CLI prints their message as one line, never a traceback."""

from __future__ import annotations


class AdaptlabError(Exception):
    """A mistake the user can fix (bad path, missing model, bad config). The message says what to do."""


class ModelNotInstalledError(AdaptlabError):
    """A zoo model whose weights package is not installed."""


class ConfigError(AdaptlabError):
    """An experiment config that does not validate."""
