"""``gridtwin kpis RUN_DIR``: the KPIs recomputed from the run's tables, against kpis.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._app import fail
from gridtwin.errors import InputError

ORDER = 45


def kpis(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    write: Annotated[
        bool, typer.Option("--write", help="Write the recomputed figures to kpis.json.")
    ] = False,
) -> None:
    """Recompute a run's KPIs from its recorded tables; say whether they equal kpis.json.

    Sections grid, voltage, reliability, se, forecast, reconfig and flisr are
    replayed from the Parquet tables through the same accumulators as the
    run; wall-clock figures (run.wall_s, voltage.central_ms_*,
    forecast.train_s) and the other sections are kept from kpis.json. Prints
    the figures as JSON; exit status 1 when one differs.
    """
    from gridtwin.report.recompute import recompute_kpis
    from gridtwin.report.rundir import open_run_dir

    path = run_dir / "kpis.json"
    try:
        if not path.is_file():
            raise InputError(
                str(run_dir), "", "no kpis.json here; expected a gridtwin run directory"
            )
        recorded = open_run_dir(run_dir).kpis
        again = recompute_kpis(run_dir)
    except InputError as exc:
        raise fail(exc) from None
    except (OSError, KeyError) as exc:
        raise fail(InputError(str(run_dir), "", f"cannot read the run ({exc})")) from None
    differ = [
        f"{section}.{key}"
        for section, values in again.items()
        if isinstance(values, dict)
        for key, value in values.items()
        if recorded.get(section, {}).get(key) != value
    ]
    if write:
        path.write_text(json.dumps(again, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(again, indent=2) + "\n")
    if differ:
        sys.stderr.write(f"differs from kpis.json: {', '.join(differ)}\n")
        raise typer.Exit(1)
    sys.stderr.write("recomputed from the tables: equal to kpis.json\n")


def register(app: typer.Typer) -> None:
    """Add ``kpis``."""
    app.command()(kpis)
