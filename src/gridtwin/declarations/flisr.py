"""FLISR declares its summary rows (light).

It records no table of its own (its switchings are rows of ``command``), so
it declares no InfluxDB mapping and no dashboard panel; the control board's
switch states show its operations.
"""

from __future__ import annotations

from gridtwin.declarations import Declaration, Row, SummarySection

__all__ = ["DECLARATION"]

SUMMARY = SummarySection(
    "FLISR",
    "flisr",
    (
        Row(
            "faults located / restored share",
            ("flisr.faults_located_correctly", "flisr.restored_share"),
            "",
            None,
        ),
        Row("restoration time, mean", ("flisr.restoration_time_s_mean",), "s", 0),
        Row("FLISR switch operations", ("flisr.operations",)),
    ),
    70,
)


DECLARATION = Declaration(
    "flisr", (SUMMARY,), report=(50, "gridtwin.report.sections_functions:faults")
)
"""What FLISR declares (:data:`gridtwin.declarations.DECLARATIONS`)."""
