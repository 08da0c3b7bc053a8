"""Monitoring of a served model's inputs: drift of the query stream against a reference window."""
