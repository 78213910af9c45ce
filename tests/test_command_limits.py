"""One validator for every command from outside gridtwin (grid/command_limits.py)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.bus.commands import CommandParser, Rejected, target_specs
from gridtwin.bus.payloads import Reading, sogno_encode
from gridtwin.controllers.external.component import CommandGate
from gridtwin.grid.command_limits import CommandLimits, Rejection
from gridtwin.grid.commands import Target
from gridtwin.grid.topology import element_names

TABLES = ("bus", "line", "trafo", "switch", "load", "sgen", "storage")


@pytest.fixture(scope="module")
def net():
    net = pn.example_simple()
    net.trafo["tap_min"], net.trafo["tap_max"], net.trafo["tap_pos"] = -2, 2, 0
    net.sgen.loc[0, "sn_mva"] = 3.0
    pp.create_storage(net, 6, p_mw=0.5, max_e_mwh=2.0, sn_mva=1.0, name="rated")
    pp.create_storage(net, 6, p_mw=0.5, max_e_mwh=2.0, name="unrated")
    return net


def test_ranges_per_target(net) -> None:
    limits = CommandLimits.from_net(net, sgen_scale=2.0)
    q, p = limits.ranges[Target.SGEN_Q_SET_MVAR], limits.ranges[Target.SGEN_P_LIMIT_MW]
    assert (q.lo[0], q.hi[0]) == (-6.0, 6.0)  # sn_mva 3 MVA x sgen_scale 2
    assert (p.lo[0], p.hi[0]) == (0.0, 6.0)
    storage = limits.ranges[Target.STORAGE_P_SET_MW]
    assert list(storage.hi) == [1.0, 0.5] and list(storage.lo) == [-1.0, -0.5]  # else |p_mw|
    tap = limits.ranges[Target.TRAFO_TAP_POS]
    assert (tap.lo[0], tap.hi[0], tap.integer) == (-2.0, 2.0, True)


def test_a_transformer_without_tap_changer_takes_only_its_position(net) -> None:
    fixed = copy.deepcopy(net)
    fixed.trafo["tap_min"], fixed.trafo["tap_max"] = np.nan, np.nan
    limits = CommandLimits.from_net(fixed)
    at = np.array([0])
    assert limits.check(Target.TRAFO_TAP_POS, at, np.array([0.0])) is None
    reason, detail = limits.check(Target.TRAFO_TAP_POS, at, np.array([1.0]))
    assert reason == Rejection.OUT_OF_RANGE and "expected an integer in [0, 0]" in detail


@pytest.mark.parametrize(
    ("target", "value", "reason"),
    [
        (Target.SGEN_P_LIMIT_MW, 6.5, Rejection.OUT_OF_RANGE),  # above the rating
        (Target.SGEN_P_LIMIT_MW, -0.1, Rejection.OUT_OF_RANGE),
        (Target.SGEN_Q_SET_MVAR, -6.5, Rejection.OUT_OF_RANGE),
        (Target.SGEN_Q_SET_MVAR, np.inf, Rejection.NON_FINITE),
        (Target.SWITCH_CLOSED, 0.5, Rejection.OUT_OF_RANGE),
        (Target.STORAGE_P_SET_MW, 1.5, Rejection.OUT_OF_RANGE),
        (Target.SGEN_Q_SET_MVAR, 5.9, None),
    ],
)
def test_mqtt_and_external_functions_refuse_alike(net, target, value, reason) -> None:
    """The bus parser and an external function's gate give the same reason and detail."""
    limits = CommandLimits.from_net(net, sgen_scale=2.0)
    expected = limits.check(target, np.array([0]), np.array([value]))
    assert (expected and expected[0]) == reason
    # the MQTT bus (SOGNO format)
    specs = target_specs(net, sgen_scale=2.0)
    spec = specs[str(target)]
    payload = sogno_encode("me", 100.0, [Reading(spec.names[0], spec.measurand, "", 0.0)])
    message = json.loads(payload)
    message["readings"][0]["data"] = value if np.isfinite(value) else "__inf__"
    raw = json.dumps(message).replace('"__inf__"', "Infinity").encode()
    got = CommandParser(specs, "sogno").parse(
        str(target), raw, issued_s=0, now_bus_s=100.0, max_lateness_s=1.0, max_ahead_s=1.0
    )
    # an external mosaik function
    gate = CommandGate("f", {t: element_names(net, t) for t in TABLES}, limits, step_s=60)
    gate.store = rows = _Rows()
    command = {"issued_s": 0, "target": str(target), "elements": [spec.names[0]]}
    gate([command | {"values": [float(value)]}])  # the first step: sent at 0, taken at 60
    if reason is None:
        assert not isinstance(got, Rejected) and gate.accepted == 1
        return
    assert isinstance(got, Rejected) and (got.reason, got.detail) == expected
    assert dict(gate.rejected) == {reason: 1}
    assert [(r["reason"], r["detail"]) for r in rows.rows["command_rejected"]] == [expected]


class _Rows:
    """Collects the rows a component appends to the run store."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {}

    def append_rows(self, table: str, rows: list[dict]) -> None:
        self.rows.setdefault(table, []).extend(rows)
