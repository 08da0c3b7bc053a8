"""Documents and chunks: loading, cleaning, language detection, chunking and the SQLite corpus store."""
