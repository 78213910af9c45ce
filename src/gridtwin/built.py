"""A built world and a finished run: what :func:`gridtwin.world.build_world` hands out."""

from __future__ import annotations

import json
import logging
import time as wallclock
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridtwin.components import Wiring
from gridtwin.runlog import RunLog

__all__ = ["BuiltWorld", "RunResult"]

log = logging.getLogger("gridtwin")


@dataclass(slots=True)
class RunResult:
    """What a finished run leaves: its directory and its KPIs."""

    run_dir: Path
    kpis: dict[str, dict[str, Any]]
    rows_written: dict[str, int] = field(default_factory=dict)
    influx: Any = None  # an InfluxReport when recording.influx is set


@dataclass
class BuiltWorld:
    """A mosaik world built from a scenario, not yet run.

    ``world`` is the mosaik world; ``ports`` maps each control-centre port to
    the (entity, attribute) that provides it; ``entities`` and ``functions``
    are the built entities by role and by function name. Add simulators and
    connect them, then call :meth:`run`.
    """

    world: Any
    wiring: Wiring
    run_dir: Path
    store: Any
    kpis: Any
    influx: Any
    runlog: RunLog
    t0: float
    run_id: str = ""

    @property
    def ports(self) -> dict[str, tuple[Any, str]]:
        """Control-centre port -> (entity, attribute)."""
        self.wiring.start_on_demand()  # a script may connect to any of them
        return self.wiring.providers

    @property
    def entities(self) -> dict[str, Any]:
        """Physical-world and testbed entities by role (``grid``, ``scada``, ``channel``, ...)."""
        self.wiring.start_on_demand()
        return self.wiring.entities

    @property
    def functions(self) -> dict[str, Any]:
        """Automation function entities by name."""
        return self.wiring.functions

    def close(self) -> None:
        """Give up a world that will not run: close its store, log and simulators."""
        self.store.close()
        self.runlog.close()
        self.world.shutdown()

    def run(self) -> RunResult:
        """Run to the scenario's end (or until stopped) and write ``kpis.json``."""
        from gridtwin.pacing import RealTimeStop, abandon, pacer_for

        scenario = self.wiring.scenario
        step_s = scenario.time.step
        influx_report = None
        pacer = pacer_for(self.wiring, self.wiring.recorder_params.get("store", self.store))
        if pacer is not None:  # times every step (timing table); paces them in real time
            pacer.install(self.world)
        stopped = False
        try:
            try:
                self.world.run(until=scenario.time.duration, print_progress=False)
            except RealTimeStop as exc:  # realtime.on_overrun: stop
                stopped = True
                log.warning("stopped: %s", exc)
        finally:
            if pacer is not None:
                pacer.finish()
            recording = self.wiring.recorder_params.get("store", self.store)
            for write in self.wiring.closing:  # rows a component writes at the end
                write(recording)  # where the recorder writes (InfluxDB too, if attached)
            self.store.close()
            wall_s = wallclock.perf_counter() - self.t0
            sections = self.kpis.sections(wall_s=wall_s, sim_seconds=self.kpis.steps * step_s)
            sections["run"]["completed"] = self.kpis.steps == scenario.n_steps
            sections["run"]["run_id"] = self.run_id
            for section in self.wiring.sections:
                sections.update(section())
            if pacer is not None:
                sections.update(pacer.kpis(self.kpis.steps))
            text = json.dumps(sections, indent=2) + "\n"
            (self.run_dir / "kpis.json").write_text(text, encoding="utf-8")
            if self.influx is not None:
                end_s = int(scenario.time.start.timestamp()) + self.kpis.steps * step_s
                influx_report = self.influx.finish(sections, end_s)
            log.info(
                "done: %d steps in %.2f s, %d not converged",
                self.kpis.steps,
                wall_s,
                self.kpis.nonconverged,
            )
            self.runlog.close()
        if stopped:
            abandon(self.world)
        rows = dict(self.store.rows_written)
        return RunResult(
            run_dir=self.run_dir, kpis=sections, rows_written=rows, influx=influx_report
        )
