"""The feature store (Feast): chunk metadata and document popularity, Parquet offline, SQLite or Redis online."""
