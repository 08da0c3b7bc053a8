"""Experiment tracking: every computing command logs an MLflow run."""
