"""Reconfiguration declares its summary rows, InfluxDB mapping and dashboard panels (light)."""

from __future__ import annotations

from gridtwin.dashboards.panels import (
    G,
    kind,
    query,
    run_filter,
    timeseries,
)
from gridtwin.declarations import BoardPart, Declaration, InfluxTable, Row, SummarySection

__all__ = ["DECLARATION"]

SUMMARY = SummarySection(
    "reconfiguration",
    "reconfig",
    (
        Row("reconfiguration plans / commands", ("reconfig.plans", "reconfig.commands")),
        Row("switch operations", ("reconfig.switch_operations",)),
        Row("losses with controller", ("reconfig.losses_mwh",), "MWh", 3),
        Row("losses, starting configuration", ("reconfig.losses_mwh_static",), "MWh", 3),
        Row("loss reduction", ("reconfig.loss_reduction_share",), "%", 1, 100.0),
        Row(
            "expected ENS before / after",
            (
                "reconfig.expected_ens_mwh_per_year_before",
                "reconfig.expected_ens_mwh_per_year_after",
            ),
            "MWh/a",
            3,
        ),
    ),
    30,
)


INFLUX = {
    "reconfig": InfluxTable("control", kind="reconfig"),
    "reconfig_plans": InfluxTable(
        "control", kind="reconfig_plan", element_column=None, per_row=True
    ),
}
"""Its tables in InfluxDB: measurement ``control``, ``kind=reconfig`` / ``reconfig_plan``."""


def _reconfig_panels() -> list[dict]:
    reconfig = kind("reconfig")
    return [
        timeseries(
            "Reconfiguration: losses with and without the controller",
            [
                query(
                    'SELECT mean("losses_mw") AS "with controller", '
                    'mean("losses_static_mw") AS "starting configuration" FROM "control" '
                    f"{run_filter(reconfig)} {G} fill(none)"
                )
            ],
            (0, 16, 12, 8),
            unit="megawatt",
        ),
        timeseries(
            "Switch operations",
            [
                query(
                    'SELECT sum("operations") AS "operations" FROM "control" '
                    f"{run_filter(reconfig)} {G} fill(none)"
                )
            ],
            (0, 24, 12, 8),
            unit="none",
            interpolation="stepAfter",
        ),
    ]


DECLARATION = Declaration(
    "reconfig",
    (SUMMARY,),
    INFLUX,
    panels=(BoardPart("control", 40, _reconfig_panels),),
    report=(40, "gridtwin.report.sections_functions:reconfiguration"),
)
"""What reconfiguration declares (:data:`gridtwin.declarations.DECLARATIONS`); its panels
close the control board."""
