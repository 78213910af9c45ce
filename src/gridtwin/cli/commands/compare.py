"""``gridtwin compare RUN_A RUN_B ...``: KPIs side by side, and an HTML overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import fail, line, out
from gridtwin.errors import InputError

ORDER = 46


def compare(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="Two or more run directories.", show_default=False)
    ],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the HTML overlay here (default: ./compare.html)."),
    ] = None,
    no_html: Annotated[bool, typer.Option("--no-html", help="Only the table.")] = False,
) -> None:
    """Compare runs: their KPIs side by side with units and the difference to the first run.

    Also writes one self-contained HTML page that overlays the runs' main
    curves (bus voltage extremes, losses, import, generation, line loading)
    and holds the same table.
    """
    from rich.table import Table

    from gridtwin.report.compare import comparison_rows
    from gridtwin.report.rundir import open_run_dir

    try:
        if len(run_dirs) < 2:
            raise InputError("RUN_DIR", "", f"got {len(run_dirs)} run; expected two or more")
        runs = [open_run_dir(p) for p in run_dirs]
    except InputError as exc:
        raise fail(exc) from None
    labels = [r.path.name for r in runs]
    table = Table(show_header=True, header_style="bold")
    table.add_column("figure")
    for label in labels:
        table.add_column(label, justify="right")
    for label in labels[1:]:
        table.add_column(f"{label} − {labels[0]}", justify="right")
    table.add_column("unit")
    for row in comparison_rows([r.kpis for r in runs]):
        if row.section_start:
            table.add_section()
        table.add_row(row.label, *row.values, *row.differences, row.unit)
    out.print(table)
    if not no_html:
        from gridtwin.report.compare import write_comparison

        path = write_comparison(runs, out_file or Path("compare.html"))
        line(f"comparison: {path}")


def register(app: typer.Typer) -> None:
    """Add ``compare``."""
    app.command()(compare)
