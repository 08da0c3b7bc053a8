"""Embedding fine-tuning: training pairs with provenance, the sentence-transformers trainer, adapters."""
