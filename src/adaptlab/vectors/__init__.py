"""Vector storage: Milvus (Lite file or server/cluster by URI) and the embed stage that fills it."""
