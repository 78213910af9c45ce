"""Report sections of a user's automation functions: their ``Output`` table and KPIs.

A user's function (:class:`~gridtwin.controllers.function.AutomationFunction`)
with an ``Output`` records one row per step in a table named after it; its
section plots every field over time (booleans as 0/1) and lists the figures
of its ``kpis()`` section. The names come from the run's scenario (a
``functions`` entry's ``name``, else the class name of its ``use``).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from gridtwin.report.figures import add_series, bin_series, time_figure
from gridtwin.report.page import Context, Section, kv_table
from gridtwin.report.summary import format_figure

__all__ = ["user_functions"]

MAX_FIELDS = 12
"""Fields plotted per function (the first ones of its ``Output``)."""


def _names(scenario: dict[str, Any]) -> list[str]:
    out = []
    for entry in scenario.get("functions") or []:
        use = entry.get("use") if isinstance(entry, dict) else None
        if use:
            out.append(str(entry.get("name") or str(use).rpartition(":")[2]))
    return out


def _unit(field: str) -> str:
    """The unit in a field's name (``export_mw`` -> ``MW``), else ``-``."""
    for suffix, unit in (("_mw", "MW"), ("_mvar", "Mvar"), ("_pu", "pu"), ("_kw", "kW")):
        if field.endswith(suffix):
            return unit
    return "-"


def user_functions(ctx: Context) -> list[Section]:
    """One section per user function that recorded an ``Output`` table."""
    return [s for name in _names(ctx.run.scenario) if (s := _section(ctx, name)) is not None]


def _section(ctx: Context, name: str) -> Section | None:
    run = ctx.run
    if not run.has(name):
        return None
    table = run.read(name)
    fields = [c for c in table.columns if c not in ("time", "sim_time_s", "element")]
    s = Section(f"function-{name}", f"Function {html.escape(name)}")
    s.text(
        f"<p>The table <code>{html.escape(name)}.parquet</code> its <code>Output</code> "
        "recorded each step; booleans as 0/1.</p>"
    )
    figures = ctx.run.kpis.get(name)
    if isinstance(figures, dict) and figures:
        rows = [(html.escape(str(k)), format_figure(_number(v), 3)) for k, v in figures.items()]
        s.text(kv_table(rows, ("figure", "value")))
    t_s = table["sim_time_s"].to_numpy()
    for field in fields[:MAX_FIELDS]:
        values = np.asarray(table[field].to_numpy(dtype=float, na_value=np.nan), dtype=float)
        fig = time_figure(
            f"fn_{name}_{field}", field, f"[{_unit(field)}]", ctx.events_ms, x_range=ctx.x_range
        )
        add_series(fig, bin_series(t_s, ctx.start_ms, {"v": values}), {field: "v"}, _unit(field))
        s.plot(fig)
    return s


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
