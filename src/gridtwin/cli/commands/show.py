"""``gridtwin show RUN_DIR``: the summary of a run, as at the end of ``run``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import err, fail, out
from gridtwin.errors import InputError

ORDER = 40


def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print kpis.json as it is (machine-readable).")
    ] = False,
) -> None:
    """Print the summary of a run (its kpis.json): the same table as at the end of `run`.

    A run that stopped before its end (run.completed false, or no kpis.json
    but tables on disk) is shown with what it has and a note on stderr.
    """
    from gridtwin.report.rundir import open_run_dir

    try:
        run = open_run_dir(run_dir)
    except InputError as exc:
        raise fail(exc) from None
    note = run.incomplete
    if as_json:
        sys.stdout.write(json.dumps(run.kpis, indent=2) + "\n")
    elif run.kpis:
        from gridtwin.cli._summary import summary_table

        out.print(summary_table(run.kpis, title=str(run_dir)))
    else:
        from rich.table import Table

        table = Table(title=str(run_dir), show_header=True, header_style="bold")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name in run.tables:
            table.add_row(name, f"{len(run.read(name, columns=['sim_time_s'])):,}")
        out.print(table)
    if note:
        err.print(f"incomplete: {note}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``show``."""
    app.command()(show)
