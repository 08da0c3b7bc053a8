"""Model zoo: registry of offline models, resolution of their weights, and embedder backends."""
