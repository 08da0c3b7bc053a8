"""The `adaptlab` command line: one typer module per command group."""
