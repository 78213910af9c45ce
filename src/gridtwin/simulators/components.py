"""Components of the physical world and the testbed: grid, SCADA, channel, events, sensors.

::

    profiles ► Grid ──truth──► Scada ──telemetry──► (control-centre view)
    Events ──►   ▲  └──truth──► Sensors ──frames──► (control-centre view)
                 └── Channel ◄── commands of every automation function (time-shifted)
    everything ──► Recorder ──► run store, kpis.json
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridtwin.components import Wiring
from gridtwin.grid.topology import element_names
from gridtwin.measurements import MeasurementFrame
from gridtwin.recording.tables import B1, GRID_TABLES, StepTable, dataclass_columns
from gridtwin.simulators.channel import CommandChannel
from gridtwin.simulators.scada import TelemetryModel
from gridtwin.simulators.scada_sim import OUTPUTS as SCADA_PORTS

__all__ = ["MEASUREMENT_TABLE", "Core", "Measurements", "Reliability"]

MEASUREMENT_TABLE = StepTable(
    "measurement",
    {
        name: column
        for name, column in dataclass_columns(
            MeasurementFrame, "frame", dtypes={"valid": B1, "corrupted": B1}
        ).items()
        if name != "time_s"
    },
    ("frame",),
)
"""The ``measurement`` table (element = measurement name): the frame's per-scalar
fields; the value's unit is in the measurement's name."""

_GRID_TRUTH = (
    "result",
    "load_demand_p_mw",
    "switch_closed",
    "line_in_service",
    "trafo_tap_pos",
    "sgen_available_p_mw",
)


class Core:
    """Profiles, grid, recorder and events in every run; SCADA and the channel when used."""

    name = "core"

    def plan(self, wiring: Wiring) -> None:
        scenario, net = wiring.scenario, wiring.prepared.net
        for name in scenario.recording.tables:
            if name in GRID_TABLES:  # empty element tables are written empty with their schema
                names = ["grid"] if name == "grid" else element_names(net, name)
                wiring.record(GRID_TABLES[name], names)

    def add(self, wiring: Wiring) -> None:
        w, scenario, prep = wiring.world, wiring.scenario, wiring.prepared
        step_s, net = wiring.step_s, prep.net
        grid = wiring.add_entity(
            "grid",
            w.start(
                "Grid",
                net=net,
                engine=wiring.resources["engine"],
                step_s=step_s,
                static_engine=wiring.resources.get("static_engine"),
                profiles=prep.profiles,  # read in the grid's step: no simulator of its own
            ).Grid(),
        )
        recorder = wiring.add_entity(
            "recorder",
            w.start(
                "Recorder",
                step_s=step_s,
                tables=list(wiring.tables)
                + (["switch"] if "switch" in scenario.recording.tables else []),
                switch_names=element_names(net, "switch"),
                declared=list(wiring.declared.values()),
                start_s=int(scenario.time.start.timestamp()),
                **wiring.recorder_params,
            ).Recorder(),
        )
        wiring.provide_on_demand(  # SCADA steps only when something reads it
            ["telemetry", *SCADA_PORTS], lambda: self._add_scada(wiring, grid)
        )
        wiring.add_entity_on_demand(  # the channel steps only when something sends to it
            "channel", lambda: self._add_channel(wiring, grid, recorder)
        )
        wiring.connect(grid, recorder, "command_records")
        wiring.connect(grid, recorder, *_GRID_TRUTH)
        if prep.schedule:
            events_sim = w.start("Events", schedule=prep.schedule)
            events = wiring.add_entity("events", events_sim.Events())
            wiring.connect(events, grid, "events")
            wiring.connect(events, recorder, "events")
            wiring.connect(events, wiring.entities["channel"], "events")
            wiring.provide("reports", events, "reports")
            w.set_initial_event(events_sim._sid, prep.schedule[0].time_s)

    def _add_channel(self, wiring: Wiring, grid: Any, recorder: Any) -> None:
        scenario, step_s = wiring.scenario, wiring.step_s
        link = scenario.commands
        channel = wiring.world.start(
            "Channel",
            channel=CommandChannel(
                step_s,
                latency_s=link.latency,
                loss_probability=link.loss_probability,
                seed=scenario.seed if link.seed is None else link.seed,
                end_s=scenario.time.duration,
            ),
            step_s=step_s,
        ).Channel()
        wiring.add_entity("channel", channel)
        wiring.connect(channel, grid, "commands")
        wiring.connect(channel, recorder, "command_records")

    def _add_scada(self, wiring: Wiring, grid: Any) -> None:
        scenario, net = wiring.scenario, wiring.prepared.net
        spec = scenario.scada
        model = TelemetryModel(
            net.bus.index.get_indexer(net.load["bus"]),
            net.bus.index.get_indexer(net.sgen["bus"]),
            meter_accuracy=spec.meter_accuracy,
            seed=scenario.seed if spec.seed is None else spec.seed,
        )
        scada = wiring.add_entity(
            "scada", wiring.world.start("Scada", model=model, step_s=wiring.step_s).Scada()
        )
        wiring.connect(
            grid,
            scada,
            "result",
            "switch_closed",
            "line_in_service",
            "trafo_tap_pos",
            "fault_passed",
            "sgen_available_p_mw",
        )
        wiring.provide("telemetry", scada)
        for port in SCADA_PORTS:
            wiring.provide(port, scada)


class Measurements:
    """Sensors: the true state in, measurement frames out (with a ``measurements`` section)."""

    name = "measurements"

    def plan(self, wiring: Wiring) -> None:
        plan = wiring.prepared.plan
        wiring.record(MEASUREMENT_TABLE, list(plan.sc_name))

    def add(self, wiring: Wiring) -> None:
        from gridtwin.simulators.sensors import SensorModel

        scenario, prep = wiring.scenario, wiring.prepared
        seed = scenario.measurements.seed
        model = SensorModel(prep.plan, wiring.step_s, scenario.seed if seed is None else seed)
        replay = None
        if scenario.measurements_file:
            from gridtwin.measurement_log import read_measurement_log

            replay = read_measurement_log(scenario.measurements_file, scenario, prep.plan)
        sim = wiring.world.start("Sensors", model=model, step_s=wiring.step_s, replay=replay)
        sensors = wiring.add_entity("sensors", sim.Sensors())
        wiring.connect(wiring.entities["grid"], sensors, "result")
        wiring.connect(sensors, wiring.entities["recorder"], "frame")
        if "events" in wiring.entities:
            wiring.connect(wiring.entities["events"], sensors, "events")
        wiring.provide("measurement_frame", sensors, "frame")
        spec = scenario.forecasting
        if spec is not None and spec.feed_estimator:
            wiring.read(sensors, "pseudo", optional=True)
        # the control centre's own DER set-points of the last step: its pseudo-measurements
        wiring.read(sensors, ("setpoints", "commands"), optional=True, time_shifted=True)


class Reliability:
    """Testbed-side reliability KPIs (with faults or FLISR): the truth, never a function's input."""

    name = "reliability"

    def plan(self, wiring: Wiring) -> None:
        from gridtwin.report.reliability_kpis import ReliabilityKpis

        self.kpis = ReliabilityKpis.from_net(wiring.prepared.net, wiring.step_s)
        wiring.resources["reliability_kpis"] = self.kpis
        wiring.sections.append(lambda: {"reliability": self.kpis.section()})

    def add(self, wiring: Wiring) -> None:
        sim = wiring.world.start("Reliability", kpis=self.kpis, step_s=wiring.step_s)
        wiring.connect(wiring.entities["grid"], sim.Reliability(), "result", "load_demand_p_mw")


def frame_value(frame: Any, scalar: int) -> float | None:
    """The valid value of one measurement scalar, or None."""
    if frame is None or scalar < 0 or not frame.valid[scalar]:
        return None
    return float(np.asarray(frame.value)[scalar])
