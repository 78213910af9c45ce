"""One module per command (see :mod:`gridtwin.cli`)."""
