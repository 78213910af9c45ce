"""``gridtwin compare RUN_A RUN_B ...``: KPIs side by side, and an HTML overlay."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import err, fail, line, out
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
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            help="Only this section of the table (grid, reliability, FLISR, ...; repeatable).",
            show_default=False,
        ),
    ] = None,
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown",
            help="Print the table as Markdown (for a README or a note); "
            "the HTML page's path then goes to stderr.",
        ),
    ] = False,
) -> None:
    """Compare runs: their KPIs side by side with units and the difference to the first run.

    Per later run: the difference to the first run and the relative difference
    [%]. Also writes one self-contained HTML page that overlays the runs' main
    curves (bus voltage extremes, losses, import, generation, line loading)
    and holds the same table.
    """
    from gridtwin.report.compare import comparison_rows, header, markdown_table
    from gridtwin.report.rundir import open_run_dir

    try:
        if len(run_dirs) < 2:
            raise InputError("RUN_DIR", "", f"got {len(run_dirs)} run; expected two or more")
        runs = [open_run_dir(p) for p in run_dirs]
    except InputError as exc:
        raise fail(exc) from None
    labels = [r.path.name for r in runs]
    rows = comparison_rows([r.kpis for r in runs], section or None)
    if section and not rows:
        titles = sorted({r.section for r in comparison_rows([r.kpis for r in runs])})
        raise fail(InputError("--section", ",".join(section), f"expected one of {titles}"))
    if markdown:
        sys.stdout.write(markdown_table(labels, rows))
    else:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold")
        titles = header(labels)
        table.add_column(titles[0])
        for title in titles[1:-1]:
            table.add_column(title, justify="right")
        table.add_column(titles[-1])
        for row in rows:
            if row.section_start:
                table.add_section()
            table.add_row(*row.cells())
        out.print(table)
    if not no_html:
        from gridtwin.report.compare import write_comparison

        path = write_comparison(runs, out_file or Path("compare.html"))
        (err.print if markdown else line)(f"comparison: {path}")


def register(app: typer.Typer) -> None:
    """Add ``compare``."""
    app.command()(compare)
