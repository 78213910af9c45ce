"""The grid simulator as a mosaik user has it: its own process, networks by name, relations.

::

    CSV / PV ──► Grid (cmd: or connect:, a process of its own) ──► CSVWriter
                 Load/Sgen/Storage/Line/Trafo/Switch ── rel ── Bus
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import mosaik
import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.grid.factory import make_engine
from gridtwin.grid.physical import PhysicalGrid
from gridtwin.grid.sources import load_net
from gridtwin.simulators.grid_sim import GridSimulator, _GridSource

REPO = Path(__file__).resolve().parents[1]
LV_CODE = "1-LV-rural1--0-sw"
START = "2016-06-01 10:00:00"


def small_net() -> pp.pandapowerNet:
    """MV/LV: a trafo, two lines (one with a line switch), a bus-bus switch, load, sgen, storage."""
    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0, name="mv")
    lv = [pp.create_bus(net, 0.4, name=f"lv{i}") for i in range(4)]
    pp.create_ext_grid(net, mv)
    pp.create_transformer(net, mv, lv[0], "0.4 MVA 20/0.4 kV")
    pp.create_line(net, lv[0], lv[1], 0.2, "NAYY 4x150 SE")
    line = pp.create_line(net, lv[1], lv[2], 0.15, "NAYY 4x150 SE")
    pp.create_switch(net, lv[1], line, et="l", closed=True)
    pp.create_switch(net, lv[2], lv[3], et="b", closed=True)
    pp.create_load(net, lv[3], p_mw=0.05, q_mvar=0.01)
    pp.create_load(net, lv[1], p_mw=0.03, q_mvar=0.005)
    pp.create_sgen(net, lv[2], p_mw=0.02)
    pp.create_storage(net, lv[1], p_mw=0.01, max_e_mwh=0.1)
    return net


@pytest.fixture
def net_json(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    pp.to_json(small_net(), str(path))
    return path


class Collector:
    """Reads the CSV a mosaik-csv CSVWriter wrote."""

    @staticmethod
    def read(path: Path) -> pd.DataFrame:
        return pd.read_csv(path, index_col=0)


def _world(grid_starter: dict, writer_out: Path) -> tuple[mosaik.World, object]:
    world = mosaik.World(
        {"Grid": grid_starter, "Writer": {"python": "mosaik_csv_writer:CSVWriter"}},
        mosaik_config={"start_timeout": 120},
        skip_greetings=True,
    )
    writer = world.start("Writer", start_date=START, output_file=str(writer_out)).CSVWriter()
    return world, writer


# --- create parameters ---------------------------------------------------------------------


def test_create_from_each_source_gives_the_same_children_as_load_net(net_json: Path) -> None:
    cases = [
        ({"simbench": LV_CODE}, _GridSource(simbench=LV_CODE)),
        ({"gridfile": LV_CODE}, _GridSource(simbench=LV_CODE)),
        ({"network_function": "case33bw"}, _GridSource(pandapower="case33bw")),
        ({"gridfile": "case33bw"}, _GridSource(pandapower="case33bw")),
        (
            {"network_function": "cigre_mv", "params": {"with_der": "pv_wind"}},
            _GridSource(pandapower="cigre_mv", options={"with_der": "pv_wind"}),
        ),
        ({"json": str(net_json)}, _GridSource(file=str(net_json))),
        ({"gridfile": str(net_json), "engine": "pandapower"}, _GridSource(file=str(net_json))),
    ]
    for params, spec in cases:
        sim = GridSimulator(json_outputs=True)
        sim.init("Grid-0", step_size=900)
        (grid,) = sim.create(1, "Grid", **params)
        net = load_net(spec)
        counts = {m: 0 for m in ("Bus", "Line", "Trafo", "Load", "Sgen", "Storage", "Switch")}
        for child in grid["children"]:
            counts[child["type"]] += 1
        expected = {m: len(net[m.lower()]) for m in counts}
        assert counts == expected, params
        assert sim.step_s == 900
        assert sim.net is not None
        assert np.allclose(sim.net.load.p_mw, net.load.p_mw)
    sim = GridSimulator()
    sim.init("Grid-0", step_s=60)
    sim.create(1, "Grid", gridfile=str(net_json), engine="pandapower")
    assert type(sim.grid.engine).__name__ == "PandapowerEngine"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("params", "field", "expected"),
    [
        ({}, "create", "expected exactly one of simbench"),
        ({"simbench": LV_CODE, "json": "x.json"}, "create", "expected exactly one"),
        ({"simbench": "1-LV-rurl1--0-sw"}, "simbench", "did you mean '1-LV-rural1--0-sw'"),
        ({"network_function": "case33"}, "network_function", "pandapower.networks function"),
        ({"network_function": "cigre_mv", "params": {"bad": 1}}, "params", "options"),
        ({"json": "/nonexistent/net.json"}, "", "no such file"),
        ({"simbench": LV_CODE, "engine": "pypower"}, "engine", "power-grid-model or pandapower"),
    ],
)
def test_bad_create_parameters_name_the_parameter(params: dict, field: str, expected: str) -> None:
    sim = GridSimulator()
    sim.init("Grid-0", step_size=900)
    with pytest.raises(InputError) as info:
        sim.create(1, "Grid", **params)
    assert info.value.field == field
    assert expected in info.value.message
    assert "\n" not in str(info.value)


def test_in_process_net_and_engine_at_start_still_work(net_json: Path) -> None:
    net = load_net(_GridSource(file=str(net_json)))
    sim = GridSimulator()
    sim.init("Grid-0", net=net, engine=make_engine("power-grid-model", net), step_s=900)
    (grid,) = sim.create(1, "Grid")
    assert len(grid["children"]) == sum(
        len(net[t]) for t in ("bus", "line", "trafo", "load", "sgen", "storage", "switch")
    )
    with pytest.raises(ValueError, match="given at start"):
        sim.create(1, "Grid", simbench=LV_CODE)


# --- relations and I[kA], in a mosaik world --------------------------------------------------


def test_entity_graph_relates_elements_to_their_buses_and_line_current_connects(
    net_json: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    world, writer = _world({"python": "gridtwin.simulators.grid_sim:GridSimulator"}, out)
    # pandapower: power-grid-model gives no result on this net with storage (see the report)
    grid = world.start("Grid", step_size=900).Grid(json=str(net_json), engine="pandapower")
    children = {c.eid: c for c in grid.children}
    for line in (c for c in grid.children if c.type == "Line"):
        world.connect(line, writer, "I[kA]", "I_from[kA]", "I_to[kA]", "loading[%]")
    graph = world.entity_graph
    world.run(until=900 * 2)

    net = small_net()

    def bus(idx: int) -> str:
        return children[f"bus-{net.bus.index.get_loc(idx)}"].full_id

    expected = {
        "Load": [[bus(b)] for b in net.load.bus],
        "Sgen": [[bus(b)] for b in net.sgen.bus],
        "Storage": [[bus(b)] for b in net.storage.bus],
        "Line": [[bus(f), bus(t)] for f, t in zip(net.line.from_bus, net.line.to_bus, strict=True)],
        "Trafo": [
            [bus(h), bus(lv)] for h, lv in zip(net.trafo.hv_bus, net.trafo.lv_bus, strict=True)
        ],
        "Switch": [[bus(net.switch.bus[0])], [bus(net.switch.bus[1]), bus(net.switch.element[1])]],
    }
    for model, bus_lists in expected.items():
        for pos, buses in enumerate(bus_lists):
            entity = children[f"{model.lower()}-{pos}"]
            neighbours = set(graph.neighbors(entity.full_id))
            assert set(buses) <= neighbours, (model, pos)
            info = entity.extra_info
            assert info is not None and info["index"] == pos
    # the line switch is related to its line too; its extra_info names both
    assert children["switch-0"].extra_info["element"] == "line-1"  # type: ignore[index]
    assert graph.has_edge(children["switch-0"].full_id, children["line-1"].full_id)
    assert children["load-0"].extra_info["bus"] == "bus-4"  # type: ignore[index]

    table = Collector.read(out)
    assert len(table) == 2
    for pos in range(len(net.line)):
        sid = children[f"line-{pos}"].full_id
        i_ka = table[f"{sid}-I[kA]"].to_numpy()
        both = np.maximum(table[f"{sid}-I_from[kA]"], table[f"{sid}-I_to[kA]"]).to_numpy()
        assert np.all(i_ka > 0)
        np.testing.assert_allclose(i_ka, both, rtol=0, atol=0)


# --- a process of its own ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    """Whether something listens on ``port`` (found by binding, never by connecting)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _in_process_vm_pu(
    spec: _GridSource, set_inputs, engine: str = "power-grid-model"
) -> np.ndarray:
    net = load_net(spec)
    grid = PhysicalGrid(net, make_engine(engine, net))
    grid.start_step({})
    set_inputs(grid.state)
    return grid.finish_step(0, [], {}).bus_vm_pu


def test_connect_starter_runs_the_grid_as_a_server(net_json: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridtwin.simulators.grid_sim", "--remote", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # a count, not a time budget: up to 60 s for the imports
            if _listening(port) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        out = tmp_path / "out.csv"
        world, writer = _world({"connect": f"127.0.0.1:{port}"}, out)
        grid = world.start("Grid", step_size=900).Grid(json=str(net_json), engine="pandapower")
        children = {c.eid: c for c in grid.children}
        buses = [c for c in grid.children if c.type == "Bus"]
        for each in buses:
            world.connect(each, writer, "Vm[pu]")
        world.run(until=900)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    table = Collector.read(out)
    vm = table[[f"{children[b.eid].full_id}-Vm[pu]" for b in buses]].to_numpy()[0]
    expected = _in_process_vm_pu(
        _GridSource(file=str(net_json)), lambda state: None, engine="pandapower"
    )
    np.testing.assert_allclose(vm, expected, rtol=0, atol=1e-9)
    assert np.all((vm > 0.9) & (vm < 1.1))


def test_example_mosaik_scenario_with_cmd_csv_and_pv(tmp_path: Path) -> None:
    """examples/mosaik_scenario.py as a user runs it: Grid by cmd:, mosaik-csv, mosaik-pv."""
    out = tmp_path / "voltages.csv"
    steps = 4
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples/mosaik_scenario.py"),
            "--steps",
            str(steps),
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{steps} steps recorded" in done.stdout
    table = Collector.read(out)
    assert len(table) == steps
    vm_cols = [c for c in table.columns if c.endswith("-Vm[pu]")]
    spec = _GridSource(simbench=LV_CODE)
    net = load_net(spec)
    assert len(vm_cols) == len(net.bus)
    # the load the CSV drives got the CSV's values
    profile = pd.read_csv(REPO / "examples/data/household_load.csv", header=1, index_col=0)
    np.testing.assert_allclose(
        table["Grid-0.load-0-P[MW]"].to_numpy(), profile.loc[table.index, "P[MW]"].to_numpy()
    )
    pv_p_mw = table["PV-0.PV_0-P[MW]"].to_numpy()
    assert np.all(pv_p_mw > 0)  # a June morning from 10:00
    load_bus = net.bus.index.get_loc(int(net.load.bus.iloc[0]))
    for row, (_, values) in enumerate(table.iterrows()):

        def inputs(state, values=values, row=row) -> None:
            state.load_p_mw[0] = values["Grid-0.load-0-P[MW]"]
            state.load_q_mvar[0] = values["Grid-0.load-0-Q[MVar]"]
            state.bus_p_inj_mw[load_bus] += pv_p_mw[row]

        expected = _in_process_vm_pu(spec, inputs)
        vm = values[[f"Grid-0.bus-{pos}-Vm[pu]" for pos in range(len(net.bus))]].to_numpy(float)
        np.testing.assert_allclose(vm, expected, rtol=0, atol=1e-6)
        assert np.all((vm > 0.9) & (vm < 1.1))


def test_cmd_starter_reports_a_bad_simbench_code_by_its_parameter() -> None:
    world = mosaik.World(
        {"Grid": {"cmd": "%(python)s -m gridtwin.simulators.grid_sim %(addr)s"}},
        mosaik_config={"start_timeout": 120},
        skip_greetings=True,
    )
    try:
        with pytest.raises(Exception) as info:
            world.start("Grid", step_size=900).Grid(simbench="1-LV-rurl1--0-sw")
        text = str(info.value)
        assert type(info.value).__name__ == "RemoteException"
        assert "<mosaik Grid>: simbench: got '1-LV-rurl1--0-sw'; expected a SimBench code" in text
    finally:
        world.shutdown()
