"""Command validation of the process bus, without a broker (pure functions over a net)."""

from __future__ import annotations

import json

import numpy as np
import pandapower.networks as pn
import pytest

from gridtwin.bus.commands import CommandParser, Reason, Rejected, target_specs
from gridtwin.bus.payloads import Reading, sogno_encode, villas_encode
from gridtwin.grid.commands import Command, Target

NOW = 1_466_506_800.0


@pytest.fixture(scope="module")
def specs():
    net = pn.example_simple()
    net.trafo["tap_min"], net.trafo["tap_max"] = -2, 2
    return target_specs(net, sgen_scale=2.0)


def parse(specs, target: str, payload: bytes, fmt: str = "villas") -> Command | Rejected:
    parser = CommandParser(specs, fmt)
    kw = {"issued_s": 60, "now_bus_s": NOW, "max_lateness_s": 1.0, "max_ahead_s": 1.0}
    return parser.parse(target, payload, **kw)


def test_ranges_follow_the_net(specs) -> None:
    sgen = specs["sgen_q_set_mvar"]
    sgens = pn.example_simple().sgen  # sn_mva not given: the rating is p_mw, times sgen_scale
    assert np.isnan(sgens["sn_mva"].iloc[0])
    assert sgen.hi[0] == 2.0 * sgens["p_mw"].iloc[0] == -sgen.lo[0]
    assert list(specs["switch_closed"].hi) == [1.0] * len(specs["switch_closed"].names)
    assert (specs["trafo_tap_pos"].lo, specs["trafo_tap_pos"].hi) == ([-2.0], [2.0])


def test_villas_command_with_nulls_addresses_only_the_given_elements(specs) -> None:
    n = len(specs["switch_closed"].names)
    values = [np.nan] * n
    values[2] = 0.0
    got = parse(specs, "switch_closed", villas_encode(NOW, 1, values))
    assert isinstance(got, Command) and got.target == Target.SWITCH_CLOSED
    assert got.positions.tolist() == [2] and got.values.tolist() == [0.0] and got.issued_s == 60


@pytest.mark.parametrize(
    ("target", "value", "reason"),
    [
        ("switch_closed", 0.5, Reason.OUT_OF_RANGE),  # a switch is 0 or 1
        ("trafo_tap_pos", 3.0, Reason.OUT_OF_RANGE),  # beyond tap_max
        ("trafo_tap_pos", 1.5, Reason.OUT_OF_RANGE),  # not an integer
        ("sgen_p_limit_mw", -0.1, Reason.OUT_OF_RANGE),
        ("sgen_q_set_mvar", float("inf"), Reason.NON_FINITE),
    ],
)
def test_values_outside_the_target_are_rejected(specs, target, value, reason) -> None:
    spec = specs[target]
    component = spec.names[0]
    payload = sogno_encode("t", NOW, [Reading(component, spec.measurand, "A", 0.0)])
    payload = payload.replace(b'"data":0.0', f'"data":{json.dumps(value)}'.encode())
    got = parse(specs, target, payload, "sogno")
    assert isinstance(got, Rejected) and got.reason == reason, got


def test_time_stamps_late_ahead_and_wrong_measurand(specs) -> None:
    q = specs["sgen_q_set_mvar"]
    ok = [Reading(q.names[0], "reactivepower", "A", 0.1)]
    assert isinstance(
        parse(specs, "sgen_q_set_mvar", sogno_encode("t", NOW - 1, ok), "sogno"), Command
    )
    late = parse(specs, "sgen_q_set_mvar", sogno_encode("t", NOW - 1.5, ok), "sogno")
    ahead = parse(specs, "sgen_q_set_mvar", sogno_encode("t", NOW + 1.5, ok), "sogno")
    assert isinstance(late, Rejected) and late.reason == Reason.LATE
    assert isinstance(ahead, Rejected) and ahead.reason == Reason.OUT_OF_RANGE
    wrong = [Reading(q.names[0], "activepower", "A", 0.1)]
    got = parse(specs, "sgen_q_set_mvar", sogno_encode("t", NOW, wrong), "sogno")
    assert isinstance(got, Rejected) and got.reason == Reason.UNKNOWN_ELEMENT
    got = parse(specs, "sgen_q_set_mvar", villas_encode(NOW, 0, [0.1] * (len(q.names) + 1)))
    assert isinstance(got, Rejected) and got.reason == Reason.UNPARSABLE


def test_published_views_forecast_and_estimate_order() -> None:
    from gridtwin.bus.bridge_sim import step_values
    from gridtwin.bus.views import forecast_view
    from gridtwin.controllers.estimation.result import Estimate, Status
    from gridtwin.controllers.forecasting.forecaster import ForecastStep

    q = {"intraday": np.array([[1.0, 2.0], [3.0, 4.0]]), "day_ahead": np.full((2, 2), np.nan)}
    step = ForecastStep(0, q, np.zeros(2), np.zeros(2), None)
    view = forecast_view("p/forecasts", ["load:a", "pv:b"], (0.1, 0.9), "villas")
    assert view.names[:3] == [
        "forecast:intraday_p10_mw:load:a",
        "forecast:intraday_p10_mw:pv:b",
        "forecast:intraday_p90_mw:load:a",
    ]
    est = Estimate(Status.NOT_ESTIMATED, *(np.ones(2) for _ in range(5)))
    one = {"forecast": {"f": step}, "estimate": {"e": est}}
    values = step_values(one)
    assert values["forecasts"][:4].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.isnan(values["forecasts"][4:]).all() and len(values["forecasts"]) == len(view.names)
    assert np.isnan(values["estimates"]).all()  # held values of a failed estimate: not published
    (payload,) = view.encode(0.0, 0, values["forecasts"])
    assert json.loads(payload)[0]["data"][4:] == [None] * 4
    units = {s["unit"] for s in json.loads(view.signals())}
    assert units == {"MW"}
