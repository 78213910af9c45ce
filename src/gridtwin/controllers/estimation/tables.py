"""The state estimator's recorded tables, derived from :class:`Estimate`.

``estimate_bus`` and ``estimate_line`` carry the estimate's per-bus and
per-line arrays (its ``bus_`` and ``line_`` fields, prefix dropped);
``estimation`` has one row per step (element ``estimator``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridtwin.controllers.estimation.result import Estimate, Status
from gridtwin.recording.tables import B1, F8, I8, Column, StepTable, attr, dataclass_columns

__all__ = ["ESTIMATE_BUS_TABLE", "ESTIMATE_LINE_TABLE", "ESTIMATION_TABLE"]

_SOURCES = ("frame", "estimate")  # an estimate is recorded with the frame it was made from


def _vm_error_pu(inputs: Any) -> np.ndarray:
    """Estimated minus true voltage [pu]; NaN for a step not estimated (held or flat values)."""
    est: Estimate = inputs["estimate"]
    if est.status == Status.ESTIMATED:
        return est.bus_vm_pu - inputs["result"].bus_vm_pu
    return np.full(est.bus_vm_pu.size, np.nan)


def _estimated(inputs: Any) -> bool:
    return bool(inputs["estimate"].status == Status.ESTIMATED)


def _removed_count(inputs: Any) -> int:
    return len(inputs["estimate"].removed)


ESTIMATE_BUS_TABLE = StepTable(
    "estimate_bus",
    dataclass_columns(Estimate, "estimate", "bus_") | {"vm_error_pu": Column(F8, _vm_error_pu)},
    _SOURCES,
)
ESTIMATE_LINE_TABLE = StepTable(
    "estimate_line", dataclass_columns(Estimate, "estimate", "line_"), _SOURCES
)
ESTIMATION_TABLE = StepTable(
    "estimation",
    {
        "estimated": Column(B1, _estimated),
        "objective": Column(F8, attr("estimate", "objective")),
        "chi2_limit": Column(F8, attr("estimate", "chi2_limit")),
        "chi2_ok": Column(B1, attr("estimate", "chi2_ok")),
        "bad_data_detected": Column(B1, attr("estimate", "bad_data_detected")),
        "bad_data_not_identifiable": Column(B1, attr("estimate", "bad_data_not_identifiable")),
        "removed_count": Column(I8, _removed_count),
        "compute_ms": Column(F8, attr("estimate", "compute_ms")),
    },
    _SOURCES,
)
