"""adaptlab: make retrieval and language models measurably better at one domain, offline."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`adaptlab.Session` without importing the heavy stack at `import adaptlab`."""
    if name == "Session":
        from adaptlab.pipeline import Session

        return Session
    raise AttributeError(name)


def open_session(workspace: str | None = None, **kwargs):
    """Python API entry point: `lab = adaptlab.open_session(); lab.ingest(["docs"]); lab.embed(); lab.search("…")`."""
    from adaptlab.pipeline import Session

    return Session.open(workspace, **kwargs)
