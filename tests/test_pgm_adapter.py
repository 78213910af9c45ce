"""The MW <-> W adapter: the one place where units are converted."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest
from power_grid_model import ComponentType as CT  # noqa: N817

from gridtwin.grid import GridState
from gridtwin.grid.pgm_adapter import PgmAdapter
from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.sources import normalize_net


def _two_bus_net() -> pp.pandapowerNet:
    """ext_grid -- 1 km line -- bus with a 2 MW / 1 MVAr load, a 0.5 MW sgen and storage."""
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 20.0)
    b1 = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line_from_parameters(
        net, b0, b1, 1.0, r_ohm_per_km=0.2, x_ohm_per_km=0.1, c_nf_per_km=0.0, max_i_ka=0.4
    )
    pp.create_load(net, b1, p_mw=2.0, q_mvar=1.0)
    pp.create_sgen(net, b1, p_mw=0.5)
    pp.create_storage(net, b1, p_mw=0.25, max_e_mwh=1.0)
    return normalize_net(net)


def test_update_is_in_watts():
    adapter = PgmAdapter(_two_bus_net())
    update = adapter.power_update(GridState.from_net(_two_bus_net()).injections())
    loads = update[CT.sym_load]
    # const power share of the load, then const z, const i, then the storage
    assert loads["p_specified"].tolist() == [2.0e6, 0.0, 0.0, 0.25e6]
    assert loads["q_specified"].tolist() == [1.0e6, 0.0, 0.0, 0.0]
    gens = update[CT.sym_gen]
    assert gens["p_specified"].tolist() == [0.5e6, 0.0, 0.0]  # sgen, then one per bus


def test_result_is_in_mw_ka_degree():
    net = _two_bus_net()
    result = PgmEngine(net).solve(GridState.from_net(net))
    # 2 MW load + 0.25 MW charging - 0.5 MW sgen = 1.75 MW net demand at bus 1
    assert result.bus_p_mw[1] == pytest.approx(1.75, abs=1e-9)
    assert result.load_p_mw[0] == pytest.approx(2.0)
    assert result.storage_p_mw[0] == pytest.approx(0.25)
    # line current ~ |S| / (sqrt(3) U) = sqrt(1.75² + 1²) MVA / (sqrt(3) 20 kV) = 0.058 kA
    assert result.line_i_to_ka[0] == pytest.approx(
        np.hypot(1.75, 1.0) / (np.sqrt(3) * 20 * result.bus_vm_pu[1]), rel=1e-6
    )
    assert result.line_loading_percent[0] == pytest.approx(
        100 * result.line_i_from_ka[0] / 0.4, rel=1e-6
    )
    # losses = 3 I² R
    assert result.losses_mw == pytest.approx(3 * result.line_i_to_ka[0] ** 2 * 0.2, rel=1e-6)
    assert result.ext_grid_p_mw[0] == pytest.approx(1.75 + result.losses_mw, rel=1e-9)
