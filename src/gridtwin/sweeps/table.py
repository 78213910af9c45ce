"""The sweep's table: one row per variant, sorted by variant id, written as sweep.parquet.

Columns: ``variant``, the axes (by dotted path, or ``seed``, ``fault.line``,
``week``, ``draw``), ``status`` (ok / failed), ``error`` (one line),
``wall_s`` [s] (the variant's wall time on its worker), ``run_dir`` (relative
to the sweep's folder), then the collected KPIs as ``section.key`` with the
unit in the key (``reliability.ens_mwh``). Everything but ``wall_s`` is the
same whatever the number of workers or the order they finish in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gridtwin.sweeps.plan import Plan

__all__ = ["FIXED_COLUMNS", "build_table", "kpi_columns", "worst_kpi", "write_table"]

FIXED_COLUMNS = ("status", "error", "wall_s", "run_dir")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True)


def _axis_series(values: list[Any]) -> list[Any]:
    """One type per column: mixed values become text."""
    cells = [_cell(v) for v in values]
    kinds = {type(c) for c in cells if c is not None}
    if len(kinds) > 1 and not kinds <= {int, float}:
        return [None if c is None else str(c) for c in cells]
    return cells


def kpi_columns(frame: Any) -> list[str]:
    """The KPI columns of a sweep table (those with a ``section.key`` name)."""
    fixed = {"variant", *FIXED_COLUMNS}
    return [c for c in frame.columns if c not in fixed and c in frame.attrs.get("kpis", [])]


def worst_kpi(plan: Plan, frame: Any) -> str | None:
    """The KPI the worst runs are ranked by: ``worst.kpi``, else the first collected one."""
    kpis = list(frame.attrs.get("kpis", []))
    kpi = plan.spec.worst.kpi or (kpis[0] if kpis else None)
    return kpi if kpi in frame else None


def build_table(plan: Plan, rows: list[dict[str, Any]]) -> Any:
    """The DataFrame of the rows, one per variant of the plan, sorted by variant id."""
    import pandas as pd

    by_id = {row["variant"]: row for row in rows}
    variants = sorted(plan.variants, key=lambda v: v.id)
    listed = plan.spec.kpis if isinstance(plan.spec.kpis, list) else []
    kpis = list(listed) or sorted({k for row in rows for k in row["kpis"]})
    data: dict[str, list[Any]] = {"variant": [v.id for v in variants]}
    for column in plan.columns:
        data[column] = _axis_series([v.columns.get(column) for v in variants])
    present = [by_id.get(v.id) for v in variants]
    data["status"] = [r["status"] if r else "not run" for r in present]
    data["error"] = [r["error"] if r else "" for r in present]
    data["wall_s"] = [float(r["wall_s"]) if r else math.nan for r in present]
    data["run_dir"] = [f"runs/{v.id}" for v in variants]
    for key in kpis:
        data[key] = [float(r["kpis"].get(key, math.nan)) if r else math.nan for r in present]
    frame = pd.DataFrame(data)
    frame.attrs["kpis"] = kpis
    frame.attrs["kpis_listed"] = bool(listed)
    frame.attrs["axes"] = list(plan.columns)
    return frame


def write_table(frame: Any, path: Path) -> Path:
    """``sweep.parquet`` (written to a temporary name first, then moved into place)."""
    tmp = path.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path
