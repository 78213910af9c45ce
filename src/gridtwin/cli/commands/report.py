"""``gridtwin report RUN_DIR``: (re)build the run's report.html from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import err, fail, line
from gridtwin.errors import InputError

ORDER = 45


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the report here (default: RUN_DIR/report.html)."),
    ] = None,
) -> None:
    """Build the HTML report of a run: one self-contained file that opens offline.

    Reads only the run directory (Parquet tables, kpis.json, scenario.yaml):
    the summary, the scenario, the events, the grid's plots and one section
    per automation function that ran.
    """
    from gridtwin.report.html import write_report

    try:
        with err.status("writing report", spinner="dots"):
            path = write_report(run_dir, out_file)
    except InputError as exc:
        raise fail(exc) from None
    line(f"report: {path}")


def register(app: typer.Typer) -> None:
    """Add ``report``."""
    app.command()(report)
