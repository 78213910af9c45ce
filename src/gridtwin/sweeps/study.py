"""A whole sweep: plan, skip the finished variants, run the rest on Dask, table and page.

::

    SWEEP.yaml ──► make_plan (every variant checked) ──► finished rows (resume)
                                                       └► run_jobs on Dask ──► rows
    rows ──► sweep.parquet, report.html of the worst runs, sweep.html
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.sweeps.plan import Plan, make_plan
from gridtwin.sweeps.runner import Progress, cluster_client, finished_rows, run_jobs, wanted_kpis

__all__ = ["SweepResult", "run_sweep"]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What a sweep left.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variant (see :mod:`gridtwin.sweeps.table`).
    out_dir : Path
        The sweep's folder: sweep.parquet, sweep.html, runs/<variant>/.
    skipped : int
        Variants finished by an earlier start and not run again.
    ran : int
        Variants run by this start.
    """

    table: Any
    out_dir: Path
    skipped: int
    ran: int


def _report(run_dir: str) -> str:
    """Write a run's report.html (on a worker); '' or the one-line reason it was not written."""
    from gridtwin.report.html import write_report

    try:
        write_report(Path(run_dir))
    except Exception as exc:  # the sweep's page still links the run directory
        return f"{type(exc).__name__}: {exc}"
    return ""


def _worst_dirs(plan: Plan, frame: Any) -> list[str]:
    from gridtwin.sweeps.page import worst_runs
    from gridtwin.sweeps.table import worst_kpi

    kpi = worst_kpi(plan, frame)
    if plan.spec.report != "worst" or kpi is None:
        return []
    worst = worst_runs(frame, kpi, plan.spec.worst.count, plan.spec.worst.highest)
    dirs = [str(plan.out_dir / d) for d in worst["run_dir"]]
    return [d for d in dirs if not (Path(d) / "report.html").is_file()]


def _finish(plan: Plan, rows: list[dict[str, Any]], client: Any | None) -> Any:
    from gridtwin.sweeps.page import write_page
    from gridtwin.sweeps.table import build_table, write_table

    frame = build_table(plan, rows)
    write_table(frame, plan.out_dir / "sweep.parquet")
    dirs = _worst_dirs(plan, frame)
    if dirs and client is not None:
        client.gather(client.map(_report, dirs, pure=False))
    else:
        for d in dirs:
            _report(d)
    write_page(frame, plan, plan.out_dir / "sweep.html")
    return frame


def run_sweep(
    path: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: str | Path | None = None,
    client: Any = None,
    progress: Progress | None = None,
    on_plan: Any = None,
) -> SweepResult:
    """Run a sweep file (see :func:`gridtwin.sweeps.sweep`); ``on_plan(total, skipped)`` first."""
    plan = make_plan(path, out_dir)
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    wanted = wanted_kpis(plan)
    rows, todo = finished_rows(plan, wanted)
    skipped = len(rows)
    if on_plan is not None:
        on_plan(len(plan.jobs), skipped)
    if not todo:
        return SweepResult(_finish(plan, rows, client), plan.out_dir, skipped, 0)
    if client is not None:
        rows += list(run_jobs(client, todo, wanted, progress))
        return SweepResult(_finish(plan, rows, client), plan.out_dir, skipped, len(todo))
    with cluster_client(workers, scheduler) as own:
        rows += list(run_jobs(own, todo, wanted, progress))
        frame = _finish(plan, rows, own)
    return SweepResult(frame, plan.out_dir, skipped, len(todo))
