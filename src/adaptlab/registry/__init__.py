"""Model registry on MLflow: versions with metrics and lineage, `champion`/`challenger` aliases, a quality gate."""
