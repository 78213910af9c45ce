"""Voltage control declares its summary rows, InfluxDB mapping and dashboard panel (light)."""

from __future__ import annotations

from gridtwin.dashboards.panels import (
    FEEDER,
    G,
    kind,
    query,
    run_filter,
    timeseries,
)
from gridtwin.declarations import BoardPart, Declaration, InfluxTable, Row, SummarySection

__all__ = ["DECLARATION"]

SUMMARY = SummarySection(
    "voltage control",
    "voltage",
    (
        Row("voltage band violation", ("voltage.violation_minutes",), "bus-min", 0),
        Row("tap changes", ("voltage.tap_changes",)),
        Row("curtailed energy", ("voltage.curtailed_mwh",), "MWh", 3),
        Row("curtailed share", ("voltage.curtailed_share",), "%", 2, 100.0),
        Row("reactive energy |Q|", ("voltage.q_abs_mvarh",), "MVArh", 1),
    ),
    40,
)


INFLUX = {
    "control": InfluxTable("control", kind="der", net_table="sgen"),
}
"""Its DER set-points (table ``control``) in InfluxDB: measurement ``control``, ``kind=der``."""


def _der_setpoints() -> list[dict]:
    return [
        timeseries(
            "DER set-points (voltage control)",
            [
                query(
                    'SELECT mean("q_set_mvar") AS "Q set", min("p_limit_mw") AS "P limit" '
                    f'FROM "control" {run_filter(kind("der"), FEEDER)} '
                    f'{G}, "element" fill(none)',
                    alias="$tag_element $col",
                )
            ],
            (0, 8, 12, 8),
            unit="none",
            description="Reactive power set-points [MVAr] and active power limits, i.e. "
            "curtailment [MW], the voltage controllers gave each generator.",
            interpolation="stepAfter",
        )
    ]


DECLARATION = Declaration(
    "voltage",
    (SUMMARY,),
    INFLUX,
    panels=(BoardPart("control", 20, _der_setpoints),),
    report=(30, "gridtwin.report.sections_functions:voltage"),
)
"""What voltage control declares (:data:`gridtwin.declarations.DECLARATIONS`); its
panel goes to the control board, between the DER reactive power and the switch states."""
