"""Retrieval: dense search over Milvus (BM25, hybrid and reranking build on it)."""
