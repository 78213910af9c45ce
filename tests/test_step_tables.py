"""The per-step table declarations: one field list per table, derived from its dataclass."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from gridtwin.components import Wiring
from gridtwin.controllers.estimation.result import Estimate, Status
from gridtwin.controllers.estimation.tables import (
    ESTIMATE_BUS_TABLE,
    ESTIMATE_LINE_TABLE,
    ESTIMATION_TABLE,
)
from gridtwin.controllers.forecasting.tables import forecast_table
from gridtwin.grid.engine import ELEMENT_COLUMNS, PowerFlowResult
from gridtwin.measurements import MeasurementFrame
from gridtwin.recording.store import BOOL_OR_NULL, INT_OR_NULL
from gridtwin.recording.tables import GRID_TABLES
from gridtwin.simulators.components import MEASUREMENT_TABLE

SIZES = {"bus": 3, "line": 2, "trafo": 0, "load": 2, "sgen": 1, "storage": 0, "ext_grid": 1}


class _Inputs(dict):
    def __missing__(self, key: str) -> None:
        return None


@pytest.mark.parametrize("table", ["bus", "line", "trafo", "load", "sgen", "storage"])
def test_element_tables_carry_every_result_column_in_order(table: str) -> None:
    declared = list(GRID_TABLES[table].columns)
    assert declared[: len(ELEMENT_COLUMNS[table])] == list(ELEMENT_COLUMNS[table])


def test_estimate_tables_follow_the_estimate_dataclass() -> None:
    names = [f.name for f in fields(Estimate)]
    for table, prefix in ((ESTIMATE_BUS_TABLE, "bus_"), (ESTIMATE_LINE_TABLE, "line_")):
        derived = [n.removeprefix(prefix) for n in names if n.startswith(prefix)]
        assert list(table.columns)[: len(derived)] == derived
    frame_fields = [f.name for f in fields(MeasurementFrame) if f.name != "time_s"]
    assert list(MEASUREMENT_TABLE.columns) == frame_fields


def test_a_failed_step_is_unknown_not_dead_and_empty_tables_get_no_rows() -> None:
    result = PowerFlowResult.failed(SIZES)
    inputs = _Inputs(result=result, load_demand_p_mw=np.ones(2), line_in_service=np.ones(2, bool))
    bus = GRID_TABLES["bus"].values(inputs)
    assert bus is not None and np.isnan(bus["energized"]).all()
    assert GRID_TABLES["bus"].fields["energized"] == BOOL_OR_NULL
    grid = GRID_TABLES["grid"].values(inputs)
    assert grid is not None and np.isnan(grid["deenergized_buses"])
    assert grid["load_demand_p_mw"] == 2.0
    assert GRID_TABLES["grid"].fields["deenergized_buses"] == INT_OR_NULL
    sgen = GRID_TABLES["sgen"].values(inputs)
    assert sgen is not None and np.isnan(sgen["available_p_mw"])  # no availability input
    assert GRID_TABLES["trafo"].values(inputs) is None  # no trafo: written empty at close
    assert GRID_TABLES["grid"].values(_Inputs()) is None  # no result this step


def test_estimation_rows_and_the_error_only_for_estimated_steps() -> None:
    truth = PowerFlowResult.failed(SIZES)
    truth.bus_vm_pu[:] = [1.0, 0.99, 0.98]
    est = Estimate(
        Status.ESTIMATED,
        np.array([1.0, 1.0, 1.0]),
        np.zeros(3),
        np.zeros(2),
        np.zeros(2),
        np.zeros(2),
        objective=2.0,
        chi2_limit=3.0,
        removed=["a", "b"],
    )
    inputs = _Inputs(result=truth, estimate=est, frame=object())
    bus = ESTIMATE_BUS_TABLE.values(inputs)
    assert bus is not None
    np.testing.assert_allclose(bus["vm_error_pu"], est.bus_vm_pu - truth.bus_vm_pu)
    row = ESTIMATION_TABLE.values(inputs)
    assert row is not None and row["estimated"] and row["chi2_ok"] and row["removed_count"] == 2
    held = _Inputs(result=truth, estimate=est.held(1.0), frame=object())
    held_bus = ESTIMATE_BUS_TABLE.values(held)
    assert held_bus is not None and np.isnan(held_bus["vm_error_pu"]).all()
    assert ESTIMATION_TABLE.values(_Inputs(result=truth, estimate=est)) is None  # no frame


def test_forecast_columns_follow_the_quantiles_and_wiring_records_the_schema() -> None:
    table = forecast_table([0.1, 0.5, 0.9], None)
    quantile_columns = [c for c in table.columns if c.startswith(("intraday_", "day_ahead_"))]
    assert len(quantile_columns) == 2 * 3 and "intraday_p50_mw" in quantile_columns
    wiring = Wiring(world=None, scenario=None, prepared=None)
    wiring.record(table, ["load:feeder 1"])
    assert wiring.tables["forecast"].fields == table.fields
    assert wiring.tables["forecast"].elements == ["load:feeder 1"]
    assert wiring.declared["forecast"] is table
