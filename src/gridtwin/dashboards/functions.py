"""The dashboard of a user's automation functions: one panel per declared ``Output`` field.

A user's function records its ``Output`` in the table (and InfluxDB
measurement) named after it, element tag = its name. Each field gets a
panel: a state timeline for a ``bool`` field, else a time series with the
Grafana unit read off the field's name (``_mw`` megawatt, ``_percent``
percent, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridtwin.dashboards.panels import (
    dashboard,
    query,
    run_filter,
    state_timeline,
    tag_variable,
    timeseries,
)

__all__ = ["FUNCTIONS_BOARD", "field_panel", "functions_board"]

FUNCTIONS_BOARD = "functions"
"""File stem of the users' functions' dashboard."""

_UNITS = (
    ("_mw", "megawatt"),
    ("_kw", "kilowatt"),
    ("_mvar", "none"),
    ("_percent", "percent"),
    ("_degree", "degree"),
    ("_s", "s"),
)


def _unit(field: str) -> str:
    return next((unit for suffix, unit in _UNITS if field.endswith(suffix)), "none")


def field_panel(function: str, field: str, dtype: Any, grid: tuple[int, int, int, int]) -> dict:
    """The panel of one ``Output`` field of ``function`` (measurement ``function``)."""
    title = f"{function}: {field}"
    if str(dtype) == "bool":
        text = f'SELECT last("{field}") AS "{field}" FROM "{function}" {run_filter()} '
        return state_timeline(
            title, [query(text + "GROUP BY time($__interval) fill(previous)")], grid
        )
    text = f'SELECT mean("{field}") AS "{field}" FROM "{function}" {run_filter()} '
    return timeseries(
        title,
        [query(text + "GROUP BY time($__interval) fill(none)")],
        grid,
        unit=_unit(field),
        description=f"Field {field} of the Output {function} records each step.",
    )


def functions_board(functions: Mapping[str, Mapping[str, Any]]) -> dict:
    """The dashboard of the users' functions: function name -> its Output fields (name -> dtype)."""
    panels: list[dict] = []
    for function, fields in functions.items():
        for field, dtype in fields.items():
            k = len(panels)
            panels.append(field_panel(function, field, dtype, (12 * (k % 2), 8 * (k // 2), 12, 8)))
    run = tag_variable("run", "run", 'SHOW TAG VALUES FROM "grid" WITH KEY = "run_id"')
    return dashboard(
        "gridtwin-functions",
        "gridtwin: your automation functions",
        "What each of your automation functions recorded (its Output), one panel per field.",
        panels,
        [run],
    )
