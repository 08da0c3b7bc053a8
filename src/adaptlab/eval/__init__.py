"""Evaluation: BEIR-format datasets and converters, IR metrics (via ranx), exact search as the reference."""
