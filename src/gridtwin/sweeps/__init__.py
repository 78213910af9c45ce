"""Scenario sweeps on Dask: many variants of one scenario, one table, one page.

>>> import gridtwin
>>> table = gridtwin.sweep("scenarios/sweeps/n1-flisr.yaml", workers=2)  # doctest: +SKIP
>>> table.groupby("flisr")["reliability.ens_mwh"].mean()                   # doctest: +SKIP

Modules: :mod:`.spec` (the sweep file), :mod:`.axes` (dotted paths, grid and
zip), :mod:`.generators` (seeds, faults, weeks, random draws), :mod:`.plan`
(every variant checked before any run), :mod:`.task` (one variant on a
worker), :mod:`.runner` (Dask), :mod:`.table` (sweep.parquet), :mod:`.page`
(sweep.html), :mod:`.study` (all of it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["sweep"]


def sweep(
    path: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: str | Path | None = None,
    client: Any = None,
) -> Any:
    """Run a sweep file and return its table (one row per variant) as a pandas DataFrame.

    Parameters
    ----------
    path : path
        The sweep YAML file.
    workers : int, optional
        Worker processes of a new Dask LocalCluster (default: the number of cores).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``) instead.
    out_dir : path, optional
        The sweep's folder (default ``runs/sweeps/<name>``); finished variants
        found there are not run again.
    client : distributed.Client, optional
        A client you already have (neither cluster is started then).
    """
    from gridtwin.sweeps.study import run_sweep

    result = run_sweep(path, workers=workers, scheduler=scheduler, out_dir=out_dir, client=client)
    return result.table
