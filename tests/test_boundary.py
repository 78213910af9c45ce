"""The information boundary, checked on the data-flow graph of every shipped scenario.

::

    Grid ──truth──► Scada, Sensors, Recorder, Reliability   (physical world and testbed)
    Scada, Sensors, Estimator, Forecaster, Events.reports ──view──► automation functions
    automation functions ──commands (time-shifted)──► Channel ──► Grid

An automation function may read only control-centre ports (and a field
device's own terminal readings) and write only ``commands`` to the channel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtwin.components import FIELD_PORTS, VIEW_PORTS
from gridtwin.scenario import load_scenario
from gridtwin.world import build_world

SCENARIOS = sorted(Path(__file__).parents[1].glob("scenarios/*.yaml"))
VIEW_SOURCES = {"scada", "sensors", "estimation", "forecasting", "events"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_functions_read_only_the_control_centre_view(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    built = build_world(scenario, out_dir=tmp_path / "run")
    try:
        flows = built.wiring.flows
        functions = set(built.functions)
        view_attrs = {attr for _, attr in built.ports.values()}
        for flow in flows:
            if flow.dest in functions:
                assert flow.src in VIEW_SOURCES | functions, flow
                assert flow.src != "grid", flow
                assert flow.src_attr in view_attrs, flow
                port = next(p for p, (_, a) in built.ports.items() if a == flow.src_attr)
                assert port in VIEW_PORTS or port in FIELD_PORTS, flow
            provided = (flow.src, flow.src_attr) in {
                (built.wiring.name_of(e), a) for e, a in built.ports.values()
            }
            if flow.src in functions and not provided:
                assert flow.dest in {"channel", "recorder"}, flow
                if flow.dest == "channel":
                    # without time shift only a bus bridge stamping its commands with the
                    # previous step (the channel delays them a step from their stamp)
                    shifted = flow.time_shifted or flow.src in built.wiring.previous_step
                    assert shifted and flow.src_attr == "commands", flow
        # the mosaik entity graph agrees: no edge from the grid into a function
        graph = built.world.entity_graph
        grid_id = built.entities["grid"].full_id
        for name, entity in built.functions.items():
            assert not graph.has_edge(grid_id, entity.full_id), name
        # every function that sends commands reaches the grid only through the channel
        channel_id = built.entities["channel"].full_id
        assert graph.has_edge(channel_id, grid_id)
    finally:
        built.close()


def test_wiring_refuses_a_truth_port(tmp_path: Path) -> None:
    scenario = load_scenario(Path(__file__).parents[1] / "scenarios/mv-rural-day.yaml")
    built = build_world(scenario, out_dir=tmp_path / "run")
    try:
        with pytest.raises(ValueError, match="not a control-centre port"):
            built.wiring.read(built.entities["recorder"], "result")
        with pytest.raises(ValueError, match="not a control-centre port"):
            built.wiring.read(built.entities["recorder"], "sgen_terminal_vm_pu")
    finally:
        built.close()
