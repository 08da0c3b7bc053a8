"""`python -m adaptlab` is the `adaptlab` command."""

from adaptlab.cli.main import main

main()
