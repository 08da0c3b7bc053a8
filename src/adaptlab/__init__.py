"""adaptlab: make retrieval and language models measurably better at one domain, offline."""

__version__ = "0.1.0"
