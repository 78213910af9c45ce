"""``gridtwin serve``: the HTTP service (:mod:`gridtwin.api`)."""

from __future__ import annotations

import typer

ORDER = 90


def register(app: typer.Typer) -> None:
    """Add ``serve``."""
    from gridtwin.api.command import serve_command

    app.command("serve")(serve_command)
