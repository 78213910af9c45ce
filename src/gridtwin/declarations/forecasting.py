"""Forecasting declares its summary rows, InfluxDB mapping and dashboard (light)."""

from __future__ import annotations

from gridtwin.dashboards.panels import (
    G,
    dashboard,
    query,
    run_filter,
    run_var,
    tag_variable,
    timeseries,
)
from gridtwin.declarations import Declaration, InfluxTable, Kpis, Row, SummarySection, lookup

__all__ = ["DECLARATION"]


def _forecast_rows(kpis: Kpis) -> tuple[Row, ...]:
    rows: list[Row] = []
    for cadence, label in (("intraday", "intraday"), ("day_ahead", "day-ahead")):
        if not lookup(kpis, f"forecast.{cadence}"):
            continue
        base = f"forecast.{cadence}"
        rows += [
            Row(
                f"forecast {label} skill vs seasonal naive, load / PV",
                (f"{base}.load_skill_vs_seasonal_naive", f"{base}.pv_skill_vs_seasonal_naive"),
                "",
                3,
            ),
            Row(f"forecast {label} PICP 10-90 %", (f"{base}.picp80",), "", 3),
        ]
    return tuple(rows)


SUMMARY = SummarySection("forecasting", "forecast", (), 25, _forecast_rows)
"""Rows per forecast cadence the run has (intraday, day-ahead)."""


INFLUX = {
    "forecast": InfluxTable("forecast"),
    "forecast_issues": InfluxTable("fc_issue", tag_columns=("cadence",), per_row=True),
}
"""Its tables in InfluxDB: ``forecast`` (element = forecast target) and ``forecast_issues``
to ``fc_issue`` (tag ``cadence``; element = target, time = issued)."""


def _band(title: str, cadence: str, grid: tuple[int, int, int, int]) -> dict:
    target = '"element" =~ /^$target$/'
    return timeseries(
        title,
        [
            query(
                f'SELECT mean("actual_mw") AS "actual", mean("{cadence}_p50_mw") AS "forecast", '
                f'mean("{cadence}_p10_mw") AS "p10", mean("{cadence}_p90_mw") AS "p90" '
                f'FROM "forecast" {run_filter(target)} {G} fill(none)'
            )
        ],
        grid,
        unit="megawatt",
        description="Actual power, the median forecast and its 10-90 % band [MW].",
        overrides=[
            {
                "matcher": {"id": "byName", "options": "p90"},
                "properties": [
                    {"id": "custom.fillBelowTo", "value": "p10"},
                    {"id": "custom.lineWidth", "value": 0},
                    {"id": "custom.fillOpacity", "value": 20},
                ],
            },
            {
                "matcher": {"id": "byName", "options": "p10"},
                "properties": [{"id": "custom.lineWidth", "value": 0}],
            },
        ],
    )


def forecasts() -> dict:
    """Forecasts: actual against forecast with the 10-90 % band, day-ahead and intraday.

    Reads the ``forecast`` measurement (fields ``actual_mw``,
    ``<cadence>_p10_mw``, ``_p50_mw``, ``_p90_mw`` per target).
    """
    target = '"element" =~ /^$target$/'
    panels = [
        _band("Day-ahead forecast vs actual", "day_ahead", (0, 0, 24, 9)),
        _band("Intraday forecast vs actual", "intraday", (0, 9, 24, 9)),
        timeseries(
            "Forecast error",
            [
                query(
                    'SELECT mean("day_ahead_p50_mw") - mean("actual_mw") AS "day-ahead", '
                    'mean("intraday_p50_mw") - mean("actual_mw") AS "intraday", '
                    'mean("seasonal_naive_mw") - mean("actual_mw") AS "seasonal naive" '
                    f'FROM "forecast" {run_filter(target)} {G} fill(none)'
                )
            ],
            (0, 18, 24, 8),
            unit="megawatt",
            description="Median forecasts (and the seasonal naive one) minus actual [MW].",
        ),
    ]
    var = tag_variable(
        "target",
        "forecast target",
        'SHOW TAG VALUES FROM "forecast" WITH KEY = "element" WHERE "run_id" =~ /^$run$/',
    )
    return dashboard(
        "gridtwin-forecasts",
        "gridtwin: forecasts",
        "Actual against forecast with the 10-90 % band.",
        panels,
        [run_var(), var],
    )


DECLARATION = Declaration(
    "forecasting",
    (SUMMARY,),
    INFLUX,
    boards={"forecasts": (30, forecasts)},
    report=(20, "gridtwin.report.sections_functions:forecasting"),
)
"""What forecasting declares (:data:`gridtwin.declarations.DECLARATIONS`)."""
