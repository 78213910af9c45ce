"""State estimation declares its summary rows, InfluxDB mapping and dashboard (light)."""

from __future__ import annotations

from gridtwin.dashboards.panels import (
    BUS,
    G,
    bus_var,
    dashboard,
    feeder_var,
    kind,
    query,
    run_filter,
    run_var,
    state_timeline,
    table,
    timeseries,
)
from gridtwin.declarations import Declaration, InfluxTable, Row, SummarySection

__all__ = ["DECLARATION"]


SUMMARY = SummarySection(
    "state estimation",
    "se",
    (
        Row("steps estimated / not", ("se.steps_estimated", "se.steps_not_estimated"), "steps"),
        Row("estimate |Vm| error, mean", ("se.vm_mae_pu",), "pu", 6),
        Row("estimate |Vm| error, max", ("se.vm_max_abs_err_pu",), "pu", 6),
        Row("estimate |Va| error, mean", ("se.va_mae_degree",), "degree", 4),
        Row(
            "bad data injected / detected / identified",
            ("se.bad_data_injected", "se.bad_data_detected", "se.bad_data_identified"),
            "steps",
        ),
        Row("false alarms", ("se.false_alarms",), "steps"),
        Row(
            "estimate time p50 / p95",
            ("se.ms_per_estimate_p50", "se.ms_per_estimate_p95"),
            "ms",
            2,
        ),
    ),
    20,
)


INFLUX = {
    "estimate_bus": InfluxTable("estimate", kind="bus", net_table="bus"),
    "estimate_line": InfluxTable("estimate", kind="line", net_table="line"),
    "estimation": InfluxTable("estimate", kind="estimator"),
    "bad_data_removed": InfluxTable(
        "estimate", kind="bad_data_removed", per_row=True, empty_field="removed"
    ),
}
"""Its tables in InfluxDB: measurement ``estimate``, tag ``kind`` per table."""


def estimation() -> dict:
    """State estimation: truth vs estimate per bus, error, chi-square status, removed data."""
    est_bus = kind("bus")
    panels = [
        timeseries(
            "Voltage: truth vs estimate",
            [
                query(
                    f'SELECT mean("vm_pu") FROM "bus" {run_filter(BUS)} {G}, "element" fill(none)',
                    alias="truth $tag_element",
                ),
                query(
                    f'SELECT mean("vm_pu") FROM "estimate" {run_filter(est_bus, BUS)} '
                    f'{G}, "element" fill(none)',
                    ref="B",
                    alias="estimate $tag_element",
                ),
            ],
            (0, 0, 24, 9),
            unit="none",
            description="SOGNO's 'Original vs Estimate': true and estimated voltage [pu].",
        ),
        timeseries(
            "Estimation error of the chosen buses",
            [
                query(
                    f'SELECT mean("vm_error_pu") FROM "estimate" {run_filter(est_bus, BUS)} '
                    f'{G}, "element" fill(none)',
                    alias="$tag_element",
                )
            ],
            (0, 9, 12, 8),
            unit="none",
            description="Estimate minus truth [pu].",
        ),
        timeseries(
            "Estimation error, all buses",
            [
                query(
                    'SELECT min("vm_error_pu") AS "min", max("vm_error_pu") AS "max" '
                    f'FROM "estimate" {run_filter(est_bus)} {G} fill(none)'
                )
            ],
            (12, 9, 12, 8),
            unit="none",
            description="Smallest and largest error over all buses [pu].",
        ),
        timeseries(
            "Chi-square test",
            [
                query(
                    'SELECT mean("objective") AS "J", mean("chi2_limit") AS "limit" '
                    f'FROM "estimate" {run_filter(kind("estimator"))} '
                    f"{G} fill(none)"
                )
            ],
            (0, 17, 12, 8),
            unit="none",
            description="Weighted sum of squared residuals J and the chi-square limit.",
        ),
        state_timeline(
            "Estimator status",
            [
                query(
                    'SELECT last("chi2_ok") AS "chi2 ok", last("estimated") AS "estimated" '
                    f'FROM "estimate" {run_filter(kind("estimator"))} '
                    f"{G} fill(previous)"
                )
            ],
            (12, 17, 12, 8),
        ),
        timeseries(
            "Removed measurements",
            [
                query(
                    'SELECT count("removed") FROM "estimate" '
                    f"{run_filter(kind('bad_data_removed'))} "
                    f'{G}, "element" fill(none)',
                    alias="$tag_element",
                )
            ],
            (0, 25, 12, 8),
            unit="none",
            description="Measurements the largest-normalized-residual test removed, per step.",
            interpolation="stepAfter",
        ),
        table(
            "Removed measurements (list)",
            [
                query(
                    'SELECT "removed" FROM "estimate" '
                    f"{run_filter(kind('bad_data_removed'))} "
                    'GROUP BY "element"',
                    fmt="table",
                )
            ],
            (12, 25, 12, 8),
        ),
    ]
    return dashboard(
        "gridtwin-estimation",
        "gridtwin: state estimation",
        "Truth against estimate per bus, the estimation error, the chi-square test and the "
        "measurements removed as bad data.",
        panels,
        [run_var(), feeder_var(), bus_var()],
    )


DECLARATION = Declaration(
    "estimation",
    (SUMMARY,),
    INFLUX,
    boards={"estimation": (20, estimation)},
    report=(10, "gridtwin.report.sections_functions:estimation"),
)
"""What state estimation declares (:data:`gridtwin.declarations.DECLARATIONS`)."""
