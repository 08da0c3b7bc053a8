"""HTTP API and web page over a workspace (FastAPI; `pip install adaptlab[serve]`)."""
