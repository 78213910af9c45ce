"""Build and run the mosaik world of a scenario from the component registry.

The world holds no function-specific code: :func:`gridtwin.registry.components_for`
names the components, each plans its tables and KPIs and wires itself
(:mod:`gridtwin.components`). :func:`build_world` returns the world before it
runs, so a script can add simulators of its own; :func:`run` runs a scenario
and returns a :class:`~gridtwin.run.Run`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time as wallclock
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridtwin.built import BuiltWorld, RunResult
from gridtwin.components import Wiring
from gridtwin.prepare import Prepared, engine_factory, prepare
from gridtwin.registry import SIM_CONFIG, components_for
from gridtwin.runlog import RunLog, new_run_dir

__all__ = [
    "SIM_CONFIG",
    "BuiltWorld",
    "Prepared",
    "RunResult",
    "build_world",
    "new_run_dir",
    "prepare",
    "run_scenario",
]

log = logging.getLogger("gridtwin")
CACHE = False  # mosaik's output cache grows without bound next to an idle event simulator


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
    new_engine = engine_factory(scenario, prep.net)
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

    from gridtwin.recording.store import ParquetStore, new_run_id
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
            dict(SIM_CONFIG),  # a copy: a script may add simulators to its world's config
            time_resolution=1.0,
            debug=False,
            cache=CACHE,
            skip_greetings=True,
        )
    wiring = Wiring(
        world,
        scenario,
        prep,
        resources={"engine": engine, "new_engine": new_engine, "run_dir": run_dir},
    )
    components = components_for(scenario, prep)
    try:
        for component in components:
            component.plan(wiring)
    except BaseException:
        world.shutdown()  # a component's declaration refused (InputError)
        raise
    if wiring.resources.get("static_twin"):
        wiring.resources["static_engine"] = new_engine()
    flush_every = min(scenario.recording.flush_every_steps, scenario.time.n_steps)  # buffers
    store = ParquetStore(run_dir, scenario.time.start, wiring.tables, flush_every)
    kpis = GridKpis(step_s=scenario.time.step)
    run_id = new_run_id(run_dir)  # unique per run: InfluxDB tag and kpis.json run.run_id
    recording = (
        influx.attach(store, run_dir, scenario, wiring.tables, prep.net, run_id=run_id)
        if influx
        else store
    )
    wiring.recorder_params.update(store=recording, kpis=kpis, on_step=on_step)
    wiring.resources["run_id"] = run_id
    try:
        for component in components:
            component.add(wiring)
        wiring.finish()
    except BaseException:
        world.shutdown()  # stops the simulators started so far (external processes too)
        raise
    return BuiltWorld(world, wiring, run_dir, store, kpis, influx, runlog, t0, run_id)


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
