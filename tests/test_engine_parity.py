"""power-grid-model and pandapower agree on the same grid and state.

Over 50 steps per grid with profiles, non-neutral tap positions and open
switches: |ΔVm| <= 1e-6 pu and |ΔVa| <= 1e-4 degree at every bus, and line
currents, branch flows and line and transformer loadings within
:data:`PARITY_ATOL`. Batch power flows (:meth:`solve_batch`) of both engines
agree with each other and with one-by-one solves.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gridtwin.grid import GridState, load_net, make_engine
from gridtwin.grid.engine import ELEMENT_COLUMNS, RESULT_FIELDS, BatchUpdate, element_columns
from gridtwin.profiles import build_profiles
from gridtwin.scenario import GridSpec, scenario_from_dict

N_STEPS = 50

GRIDS = {
    "mv-rural": GridSpec(simbench="1-MV-rural--0-sw"),
    "cigre-mv-der": GridSpec(pandapower="cigre_mv", options={"with_der": "pv_wind"}),
    "case33bw": GridSpec(pandapower="case33bw"),
}


PARITY_ATOL = {
    "line_i_from_ka": 1e-6,
    "line_i_to_ka": 1e-6,
    "line_p_from_mw": 1e-5,
    "line_q_from_mvar": 1e-5,
    "line_p_to_mw": 1e-5,
    "line_q_to_mvar": 1e-5,
    "line_loading_percent": 1e-4,
    "trafo_p_hv_mw": 1e-5,
    "trafo_q_hv_mvar": 1e-5,
    "trafo_p_lv_mw": 1e-5,
    "trafo_q_lv_mvar": 1e-5,
    "trafo_loading_percent": 1e-4,
}
"""Largest allowed |power-grid-model - pandapower| per branch result [kA, MW, MVAr, %]."""


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b), initial=0.0))


def _profiles(name: str, net) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """50 steps of load p, load q and sgen p [MW, MVAr]."""
    if name == "mv-rural":
        scenario = scenario_from_dict(
            {
                "name": "p",
                "grid": {"simbench": "1-MV-rural--0-sw"},
                "time": {
                    "start": "2016-06-21T06:00:00+01:00",
                    "duration": f"{N_STEPS * 15}min",
                    "step": "15min",
                },
            }
        )
        prof = build_profiles(scenario, net)
        return (
            prof.series[("load", "p_mw")],
            prof.series[("load", "q_mvar")],
            prof.series[("sgen", "p_mw")],
        )
    rng = np.random.default_rng(7)
    f_load = rng.uniform(0.3, 1.2, (N_STEPS, len(net.load)))
    f_sgen = rng.uniform(0.0, 1.0, (N_STEPS, len(net.sgen)))
    return (
        f_load * net.load.p_mw.to_numpy(),
        f_load * net.load.q_mvar.to_numpy(),
        f_sgen * net.sgen.p_mw.to_numpy(),
    )


@pytest.mark.parametrize("name", list(GRIDS))
def test_engines_agree_over_50_steps(name):
    net = load_net(GRIDS[name])
    pgm, ref = make_engine("power-grid-model", net), make_engine("pandapower", net)
    load_p, load_q, sgen_p = _profiles(name, net)
    state = GridState.from_net(net)
    line_switches = np.flatnonzero(net.switch.et.to_numpy() == "l")
    checked_open = checked_tap = 0
    worst = dict.fromkeys(PARITY_ATOL, 0.0)
    for k in range(N_STEPS):
        state.load_p_mw[:] = load_p[k]
        state.load_q_mvar[:] = load_q[k]
        if len(net.sgen):
            state.sgen_p_mw[:] = sgen_p[k]
        if len(state.trafo_tap_pos):
            state.trafo_tap_pos[:] = (k % 5) - 2  # -2 .. 2
            checked_tap += int((state.trafo_tap_pos != 0).any())
        if len(line_switches) and k % 10 >= 5:  # every other block of 5 steps: one switch open
            state.switch_closed[:] = net.switch.closed.to_numpy()
            state.switch_closed[line_switches[k % len(line_switches)]] = False
            checked_open += 1
        elif len(line_switches):
            state.switch_closed[:] = net.switch.closed.to_numpy()
        if name == "case33bw" and k % 10 >= 5:
            state.line_in_service[:] = True
            state.line_in_service[20] = False  # islands bus 21
        else:
            state.line_in_service[:] = True
        a, b = pgm.solve(state), ref.solve(state)
        assert a.converged and b.converged
        np.testing.assert_array_equal(a.bus_energized, b.bus_energized)
        np.testing.assert_allclose(a.bus_vm_pu, b.bus_vm_pu, atol=1e-6, rtol=0)
        np.testing.assert_allclose(a.bus_va_degree, b.bus_va_degree, atol=1e-4, rtol=0)
        np.testing.assert_allclose(a.line_loading_percent, b.line_loading_percent, atol=1e-4)
        np.testing.assert_allclose(a.bus_p_mw, b.bus_p_mw, atol=1e-5)
        np.testing.assert_allclose(a.losses_mw, b.losses_mw, atol=1e-6)
        np.testing.assert_allclose(a.ext_grid_p_mw, b.ext_grid_p_mw, atol=1e-5)
        for field in PARITY_ATOL:
            worst[field] = max(worst[field], _max_diff(getattr(a, field), getattr(b, field)))
    for field, atol in PARITY_ATOL.items():
        assert worst[field] <= atol, f"{field}: largest difference {worst[field]:.2e} > {atol}"
    if len(net.trafo):
        assert checked_tap > 0
    if len(line_switches):
        assert checked_open > 0


@pytest.mark.parametrize("engine", ["power-grid-model", "pandapower"])
def test_power_balance(engine):
    """Import + generation = consumption + losses at a converged step (no shunts here)."""
    net = load_net(GRIDS["mv-rural"])
    r = make_engine(engine, net).solve(GridState.from_net(net))
    supplied = r.ext_grid_p_mw.sum() + r.sgen_p_mw.sum()
    used = r.load_p_mw.sum() + r.storage_p_mw.sum() + r.losses_mw
    assert supplied == pytest.approx(used, abs=1e-6)


def _scenarios(net, state: GridState) -> tuple[BatchUpdate, list[GridState]]:
    """Four scenarios around ``state`` as a batch update and as the equivalent states."""
    n, inj = 4, state.injections()
    update = BatchUpdate(
        n=n,
        line_pos=np.array([3]),
        line_connected=np.array([[True], [False], [True], [True]]),
        load_p_mw=np.stack([inj.load_p_mw * f for f in (1.0, 1.0, 1.3, 0.5)]),
        trafo_tap_pos=np.stack([state.trafo_tap_pos + d for d in (0, 0, 0, 2)]),
        bus_p_inj_mw=np.zeros((n, len(net.bus))),
        bus_q_inj_mvar=np.zeros((n, len(net.bus))),
    )
    update.bus_p_inj_mw[0, 10] = 0.5  # type: ignore[index]
    states = []
    for i in range(n):
        s = replace(
            state,
            load_p_mw=update.load_p_mw[i].copy(),  # type: ignore[index]
            load_scale=np.ones(len(net.load)),
            line_in_service=state.line_in_service.copy(),
            trafo_tap_pos=update.trafo_tap_pos[i].copy(),  # type: ignore[index]
            bus_p_inj_mw=update.bus_p_inj_mw[i].copy(),  # type: ignore[index]
            bus_q_inj_mvar=np.zeros(len(net.bus)),
        )
        s.line_in_service[3] = bool(update.line_connected[i, 0])  # type: ignore[index]
        states.append(s)
    return update, states


def test_batch_power_flow_agrees_between_engines_and_with_single_solves():
    net = load_net(GRIDS["mv-rural"])
    state = GridState.from_net(net)
    update, states = _scenarios(net, state)
    pgm, ref = make_engine("power-grid-model", net), make_engine("pandapower", net)
    a, b = pgm.solve_batch(state, update), ref.solve_batch(state, update)
    assert a.converged.all() and b.converged.all()
    np.testing.assert_array_equal(a.bus_energized, b.bus_energized)
    np.testing.assert_allclose(a.bus_vm_pu, b.bus_vm_pu, atol=1e-6, rtol=0)
    np.testing.assert_allclose(a.line_loading_percent, b.line_loading_percent, atol=1e-4)
    np.testing.assert_allclose(a.trafo_loading_percent, b.trafo_loading_percent, atol=1e-4)
    np.testing.assert_allclose(a.losses_mw, b.losses_mw, atol=1e-6)
    single = make_engine("power-grid-model", net)
    for i, s in enumerate(states):
        r = single.solve(s)
        np.testing.assert_allclose(a.bus_vm_pu[i], r.bus_vm_pu, atol=1e-8, rtol=0)
        np.testing.assert_allclose(a.line_loading_percent[i], r.line_loading_percent, atol=1e-6)
        np.testing.assert_allclose(a.losses_mw[i], r.losses_mw, atol=1e-8)
    # the scenarios differ from each other (the update was applied)
    assert a.line_loading_percent[1, 3] == 0.0 < a.line_loading_percent[0, 3]
    assert len(np.unique(a.losses_mw)) == update.n


def test_element_columns_are_derived_from_the_result_fields():
    """Each per-element table's columns follow from PowerFlowResult's field names."""
    assert set(ELEMENT_COLUMNS["line"]) == {
        "p_from_mw",
        "q_from_mvar",
        "p_to_mw",
        "q_to_mvar",
        "i_from_ka",
        "i_to_ka",
        "loading_percent",
    }
    assert ELEMENT_COLUMNS["ext_grid"] == {"p_mw": "ext_grid_p_mw", "q_mvar": "ext_grid_q_mvar"}
    used = {name for columns in ELEMENT_COLUMNS.values() for name in columns.values()}
    assert set(RESULT_FIELDS) - used == {"converged", "losses_mw"}
    net = load_net(GRIDS["case33bw"])
    r = make_engine("power-grid-model", net).solve(GridState.from_net(net))
    bus = element_columns(r, "bus")
    assert bus["vm_pu"] is r.bus_vm_pu and len(bus["energized"]) == len(net.bus)
