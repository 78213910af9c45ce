"""``gridtwin sweep SWEEP.yaml``: many variants of a scenario on Dask, one table, one page."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from gridtwin.cli._app import err, fail, line
from gridtwin.errors import InputError

ORDER = 15


def _progress_bar(stack: ExitStack) -> tuple[Any, Any]:
    """A rich progress bar on stderr (done/total, failed, running, time left) and its updater."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}  running {task.fields[running]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    state: dict[str, Any] = {}

    def on_plan(total: int, skipped: int) -> None:
        if skipped:
            line(f"resuming: {skipped} of {total} variants finished before, not run again")
        if total > skipped:
            stack.enter_context(bar)
            state["task"] = bar.add_task("sweep", total=total - skipped, failed=0, running=0)

    def update(done: int, failed: int, running: int) -> None:
        if "task" in state:
            bar.update(state["task"], completed=done, failed=failed, running=running)

    return on_plan, update


def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(help="A sweep YAML file (see the README).", show_default=False)
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Worker processes of a local Dask cluster (default: the number of cores).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of an existing Dask scheduler, e.g. tcp://HOST:8786 "
            "(its workers need gridtwin and the sweep's folder).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="The sweep's folder (default runs/sweeps/<name>).", show_default=False
        ),
    ] = None,
) -> None:
    """Run every variant of a sweep on Dask; write sweep.parquet and sweep.html.

    Each variant is a full run with its own run directory under OUT/runs/.
    Variants already finished in OUT are not run again (resume by starting the
    same command again); a variant that fails is recorded with its one-line
    error and the others go on.
    """
    from gridtwin.sweeps.study import run_sweep

    if workers is not None and scheduler is not None:
        raise fail(InputError("--workers", "", "given with --scheduler; expected one of the two"))
    with ExitStack() as stack:
        on_plan, update = _progress_bar(stack)
        try:
            result = run_sweep(
                sweep_file,
                workers=workers,
                scheduler=scheduler,
                out_dir=out,
                progress=update,
                on_plan=on_plan,
            )
        except InputError as exc:
            raise fail(exc) from None
        except KeyboardInterrupt:
            err.print(
                "interrupted: the finished variants are kept; "
                "start the same command again to run the rest",
                markup=False,
            )
            raise typer.Exit(130) from None
    table = result.table
    failed = int((table["status"] != "ok").sum())
    line(
        f"sweep: {len(table)} variants, {len(table) - failed} finished, {failed} failed "
        f"({result.ran} run now, {result.skipped} from before)"
    )
    line(f"table: {result.out_dir / 'sweep.parquet'}")
    line(f"page: {result.out_dir / 'sweep.html'}")
    if failed:
        line(f"failed: {failed} variants; their one-line errors are in the table's error column")
    ok = table[table["status"] == "ok"]
    listed = table.attrs.get("kpis", []) if table.attrs.get("kpis_listed") else []
    missing = [k for k in listed if len(ok) and ok[k].isna().all()]
    if missing:
        err.print(
            f"warning: no finished run has {', '.join(missing)} (a typo in kpis:?)", markup=False
        )


def register(app: typer.Typer) -> None:
    """Add ``sweep``."""
    app.command()(sweep)
