"""One module per ``symsys`` subcommand (see :mod:`symsys.cli`)."""
