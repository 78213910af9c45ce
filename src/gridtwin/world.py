"""Build and run the mosaik world of a scenario from the component registry.

The world holds no function-specific code: :func:`gridtwin.registry.components_for`
names the components, each plans its tables and KPIs and wires itself
(:mod:`gridtwin.components`). :func:`build_world` returns the world before it
runs, so a script can add simulators of its own; :func:`run` runs a scenario
and returns a :class:`~gridtwin.run.Run`.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridtwin.components import Wiring
from gridtwin.errors import InputError
from gridtwin.runlog import RunLog, new_run_dir

__all__ = [
    "SIM_CONFIG",
    "BuiltWorld",
    "Prepared",
    "RunResult",
    "build_world",
    "prepare",
    "run_scenario",
]

log = logging.getLogger("gridtwin")
CACHE = False  # mosaik's output cache grows without bound next to an idle event simulator

SIM_CONFIG: dict[str, dict[str, str]] = {
    name: {"python": f"gridtwin.{path}"}
    for name, path in {
        "Profiles": "simulators.profile_sim:ProfileSimulator",
        "Events": "simulators.event_sim:EventSimulator",
        "Grid": "simulators.grid_sim:GridSimulator",
        "Scada": "simulators.scada_sim:ScadaSimulator",
        "Channel": "simulators.channel_sim:ChannelSimulator",
        "Recorder": "recording.recorder_sim:RecorderSimulator",
        "Sensors": "simulators.sensor_sim:SensorSimulator",
        "Estimator": "controllers.estimation.estimator_sim:EstimatorSimulator",
        "VoltageControl": "controllers.voltage.voltage_sim:VoltageControlSimulator",
        "Reconfig": "controllers.reconfig.reconfig_sim:ReconfigSimulator",
        "Forecaster": "controllers.forecasting.forecast_sim:ForecastSimulator",
        "Flisr": "controllers.flisr.flisr_sim:FlisrSimulator",
        "Function": "controllers.function_sim:FunctionSimulator",
        "Reliability": "simulators.reliability_sim:ReliabilitySimulator",
    }.items()
}


@dataclass(slots=True)
class Prepared:
    """Everything a run needs, checked: the net, its profiles and the event schedule."""

    scenario: Any
    net: Any
    profiles: Any
    schedule: list[Any]
    plan: Any = None  # a measurements.SensorPlan with a measurements section
    reconfig_problem: Any = None  # a controllers.reconfig.Problem with a reconfiguration section
    forecaster: Any = None  # a controllers.forecasting.Forecaster with a forecasting section


@dataclass(slots=True)
class RunResult:
    """What a finished run leaves: its directory and its KPIs."""

    run_dir: Path
    kpis: dict[str, dict[str, Any]]
    rows_written: dict[str, int] = field(default_factory=dict)
    influx: Any = None  # an InfluxReport when recording.influx is set


def prepare(scenario: Any) -> Prepared:
    """Load the network, check the scenario against it, build profiles, events and functions.

    Raises
    ------
    InputError
        On any problem with the scenario, the network, a profile file or a function.
    """
    from gridtwin.controllers.reconfig.component import build_problem
    from gridtwin.controllers.user import check_params, load_function_class
    from gridtwin.events import build_schedule
    from gridtwin.grid.sources import load_net
    from gridtwin.profiles import build_profiles
    from gridtwin.scenario import check_against_net

    net = load_net(scenario.grid, scenario.source_file)
    plan = check_against_net(scenario, net)
    for i, spec in enumerate(scenario.functions):
        check_params(
            load_function_class(spec.use, scenario.source_file, i),
            spec.params,
            scenario.source_file,
            i,
        )
    profiles = build_profiles(scenario, net)
    schedule = build_schedule(scenario, net, plan)
    prepared = Prepared(scenario, net, profiles, schedule, plan, build_problem(scenario, net))
    if scenario.forecasting is not None:
        from gridtwin.controllers.forecasting.build import build_forecaster

        prepared.forecaster = build_forecaster(scenario, net)
    return prepared


def _engine_factory(scenario: Any, net: Any) -> Callable[[], Any]:
    from gridtwin.grid.engine import make_engine

    def new() -> Any:
        try:
            return make_engine(str(scenario.grid.engine), copy.deepcopy(net))
        except ValueError as exc:
            raise InputError(scenario.source_file, "grid.engine", str(exc)) from None

    return new


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

    @property
    def ports(self) -> dict[str, tuple[Any, str]]:
        """Control-centre port -> (entity, attribute)."""
        return self.wiring.providers

    @property
    def entities(self) -> dict[str, Any]:
        """Physical-world and testbed entities by role (``grid``, ``scada``, ``channel``, ...)."""
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
        scenario = self.wiring.scenario
        step_s = scenario.time.step
        influx_report = None
        try:
            self.world.run(
                until=scenario.time.duration,
                rt_factor=scenario.time.real_time_factor,
                print_progress=False,
            )
        finally:
            self.store.close()
            wall_s = wallclock.perf_counter() - self.t0
            sections = self.kpis.sections(wall_s=wall_s, sim_seconds=self.kpis.steps * step_s)
            sections["run"]["completed"] = self.kpis.steps == scenario.n_steps
            for section in self.wiring.sections:
                sections.update(section())
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
        rows = dict(self.store.rows_written)
        return RunResult(
            run_dir=self.run_dir, kpis=sections, rows_written=rows, influx=influx_report
        )


def build_world(
    scenario: Any,
    *,
    out_dir: str | Path | None = None,
    runs_root: str | Path = "runs",
    prepared: Prepared | None = None,
    on_step: Callable[[int], None] | None = None,
) -> BuiltWorld:
    """Build the mosaik world of a scenario (and its run directory), ready to run.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    out_dir : path, optional
        The run directory; default a new ``runs/<name>-<timestamp>``.
    prepared : Prepared, optional
        The result of :func:`prepare`, if the caller already has it.
    on_step : callable, optional
        Called with the number of steps done after each step (progress bars).
    """
    from gridtwin.recording.influx_run import InfluxRun
    from gridtwin.scenario import dump_scenario

    t0 = wallclock.perf_counter()
    prep = prepared or prepare(scenario)
    new_engine = _engine_factory(scenario, prep.net)
    engine = new_engine()
    influx = InfluxRun.connect(scenario)  # InputError on a wrong URL or credentials
    run_dir = new_run_dir(Path(runs_root), scenario) if out_dir is None else Path(out_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "scenario.yaml").write_text(dump_scenario(scenario), encoding="utf-8")
    runlog = RunLog(run_dir)
    try:
        return _build(scenario, prep, run_dir, runlog, influx, engine, new_engine, on_step, t0)
    except BaseException:
        runlog.close()
        raise


def _build(
    scenario: Any,
    prep: Prepared,
    run_dir: Path,
    runlog: RunLog,
    influx: Any,
    engine: Any,
    new_engine: Callable[[], Any],
    on_step: Callable[[int], None] | None,
    t0: float,
) -> BuiltWorld:
    import mosaik

    from gridtwin.recording.store import ParquetStore
    from gridtwin.registry import components_for
    from gridtwin.report.kpis import GridKpis

    log.info(
        "run %s: %d steps of %d s (%s)",
        scenario.name,
        scenario.n_steps,
        scenario.time.step,
        engine.name,
    )
    with contextlib.redirect_stdout(io.StringIO()):  # mosaik prints a banner
        world = mosaik.World(
            SIM_CONFIG, time_resolution=1.0, debug=False, cache=CACHE, skip_greetings=True
        )
    wiring = Wiring(world, scenario, prep, resources={"engine": engine, "new_engine": new_engine})
    components = components_for(scenario, prep)
    for component in components:
        component.plan(wiring)
    if wiring.resources.get("static_twin"):
        wiring.resources["static_engine"] = new_engine()
    store = ParquetStore(
        run_dir, scenario.time.start, wiring.tables, scenario.recording.flush_every_steps
    )
    kpis = GridKpis(step_s=scenario.time.step)
    recording = (
        influx.attach(store, run_dir, scenario, wiring.tables, prep.net) if influx else store
    )
    wiring.recorder_params.update(store=recording, kpis=kpis, on_step=on_step)
    for component in components:
        component.add(wiring)
    wiring.finish()
    return BuiltWorld(world, wiring, run_dir, store, kpis, influx, runlog, t0)


def run_scenario(
    scenario: Any,
    *,
    out_dir: str | Path | None = None,
    runs_root: str | Path = "runs",
    prepared: Prepared | None = None,
    on_step: Callable[[int], None] | None = None,
) -> RunResult:
    """Run a scenario and leave its run directory (see :func:`build_world` for the parameters)."""
    built = build_world(
        scenario, out_dir=out_dir, runs_root=runs_root, prepared=prepared, on_step=on_step
    )
    return built.run()
