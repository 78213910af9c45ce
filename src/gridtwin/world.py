"""Build and run the mosaik world of a scenario.

::

    Profiles ──► Grid ──► Recorder ──► run store (Parquet), kpis.json
    Events ───►  ▲  └───────► ▲
                 └────────────┘ (events are recorded too)

With a ``reconfiguration`` section the controller closes the loop::

    Grid ──status, meters──► Reconfig ──switch_command (time-shifted: next step)──► Grid
                                └──plans──► Recorder

All simulators run in-process; their data flows as numpy arrays.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import re
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp

from gridtwin.errors import InputError
from gridtwin.events import ScheduledEvent, build_schedule, resolve_target
from gridtwin.grid.engine import PowerFlowEngine, make_engine
from gridtwin.grid.sources import load_net
from gridtwin.grid.topology import element_names
from gridtwin.profiles import Profiles, build_profiles
from gridtwin.recording.influx_run import InfluxRun
from gridtwin.recording.recorder_sim import (
    RECONFIG_TABLE_FIELDS,
    SE_TABLE_FIELDS,
    TABLE_FIELDS,
)
from gridtwin.recording.store import ParquetStore, TableSpec, new_run_id
from gridtwin.report.kpis import GridKpis
from gridtwin.report.se_kpis import SeKpis
from gridtwin.scenario import Scenario, check_against_net, dump_scenario
from gridtwin.simulators.sensors import SensorModel, SensorPlan

__all__ = ["Prepared", "RunResult", "prepare", "run_scenario"]

log = logging.getLogger("gridtwin")
CACHE = False  # mosaik's output cache grows without bound next to an idle event simulator

SIM_CONFIG = {
    "Profiles": {"python": "gridtwin.simulators.profile_sim:ProfileSimulator"},
    "Events": {"python": "gridtwin.simulators.event_sim:EventSimulator"},
    "Grid": {"python": "gridtwin.simulators.grid_sim:GridSimulator"},
    "Recorder": {"python": "gridtwin.recording.recorder_sim:RecorderSimulator"},
    "Sensors": {"python": "gridtwin.simulators.sensor_sim:SensorSimulator"},
    "Estimator": {"python": "gridtwin.controllers.estimation.estimator_sim:EstimatorSimulator"},
    "VoltageControl": {
        "python": "gridtwin.controllers.voltage.voltage_sim:VoltageControlSimulator"
    },
    "Reconfig": {"python": "gridtwin.controllers.reconfig.reconfig_sim:ReconfigSimulator"},
    "Forecaster": {"python": "gridtwin.controllers.forecasting.forecast_sim:ForecastSimulator"},
    "Flisr": {"python": "gridtwin.controllers.flisr.flisr_sim:FlisrSimulator"},
    "Reliability": {"python": "gridtwin.simulators.reliability_sim:ReliabilitySimulator"},
}


@dataclass(slots=True)
class Prepared:
    """Everything a run needs, checked: the net, its profiles and the event schedule."""

    scenario: Scenario
    net: pp.pandapowerNet
    profiles: Profiles
    schedule: list[ScheduledEvent]
    plan: SensorPlan | None = None
    reconfig_problem: Any = None  # a controllers.reconfig.Problem with a reconfiguration section
    forecaster: Any = None  # a controllers.forecasting.Forecaster with a forecasting section


@dataclass(slots=True)
class RunResult:
    """What a finished run leaves: its directory and its KPIs."""

    run_dir: Path
    kpis: dict[str, dict[str, Any]]
    rows_written: dict[str, int] = field(default_factory=dict)
    influx: Any = None  # an InfluxReport when recording.influx is set


def prepare(scenario: Scenario) -> Prepared:
    """Load the network, check the scenario against it, build profiles and events.

    Raises
    ------
    InputError
        On any problem with the scenario, the network or a profile file.
    """
    net = load_net(scenario.grid, scenario.source_file)
    plan = check_against_net(scenario, net)
    profiles = build_profiles(scenario, net)
    schedule = build_schedule(scenario, net, plan)
    prepared = Prepared(scenario, net, profiles, schedule, plan, _reconfig_problem(scenario, net))
    if scenario.forecasting is not None:
        from gridtwin.controllers.forecasting.build import build_forecaster

        prepared.forecaster = build_forecaster(scenario, net)
    return prepared


def _reconfig_problem(scenario: Scenario, net: pp.pandapowerNet) -> Any:
    """The reconfiguration problem of the starting net (None without a reconfiguration section).

    Raises
    ------
    InputError
        If the net has nothing to reconfigure (named as a reconfiguration field).
    """
    spec = scenario.reconfiguration
    if spec is None:
        return None
    from gridtwin.controllers.reconfig import Problem

    try:
        return Problem.from_net(
            net,
            all_lines_switchable=spec.all_lines_switchable,
            vm_min_pu=spec.vm_min_pu,
            vm_max_pu=spec.vm_max_pu,
            max_loading_percent=spec.max_loading_percent,
            source=scenario.source_file,
        )
    except InputError as exc:
        field = (
            "reconfiguration.all_lines_switchable" if exc.field == "switch" else "reconfiguration"
        )
        raise InputError(scenario.source_file, field, f"{exc.field}: {exc.message}") from None


def new_run_dir(base: Path, scenario: Scenario) -> Path:
    """A fresh ``<base>/<scenario>-<YYYYmmdd-HHMMSS>[-n]`` directory."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", scenario.name)
    candidate = base / f"{name}-{stamp}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = base / f"{name}-{stamp}-{n}"
    candidate.mkdir(parents=True)
    return candidate


def _setup_logging(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        from loguru import logger as mosaik_logger

        mosaik_logger.remove()
        mosaik_logger.add(
            run_dir / "run.log", level="WARNING", format="{time} {level} mosaik: {message}"
        )
    except ImportError:  # pragma: no cover - mosaik always brings loguru
        pass
    return handler


def _build_engine(scenario: Scenario, net: pp.pandapowerNet) -> PowerFlowEngine:
    try:
        return make_engine(str(scenario.grid.engine), net)
    except ValueError as exc:
        raise InputError(scenario.source_file, "grid.engine", str(exc)) from None


def _add_estimation(
    world: Any, scenario: Scenario, prep: Prepared, net: pp.pandapowerNet, grid: Any, recorder: Any
) -> Any:
    """Sensors (and the estimator, if the scenario has one) wired between grid and recorder::

    Grid ──result──► Sensors ──frame──► Estimator ──estimate──► Recorder
     └──switch states, taps──────────────►  ▲
    """
    from gridtwin.controllers.estimation.wls import Topology

    plan = prep.plan
    assert plan is not None and scenario.measurements is not None
    step_s = scenario.time.step
    seed = scenario.measurements.seed
    model = SensorModel(plan, step_s, scenario.seed if seed is None else seed)
    replay = None
    if scenario.measurements_file:
        from gridtwin.measurement_log import read_measurement_log

        replay = read_measurement_log(scenario.measurements_file, scenario, plan)
    sensors = world.start("Sensors", model=model, step_s=step_s, replay=replay).Sensors()
    world.connect(grid, sensors, "result")
    world.connect(sensors, recorder, "frame")
    spec = scenario.estimation
    if spec is None:
        return sensors, None
    kwargs = {
        "confidence": spec.chi2_confidence,
        "lnr_threshold": spec.lnr_threshold,
        "max_removals": spec.max_bad_data_removals,
    }
    if spec.engine == "pandapower":
        from gridtwin.controllers.estimation.pp_wls import PandapowerEstimator

        estimator: Any = PandapowerEstimator(net, plan, **kwargs)
    else:
        from gridtwin.controllers.estimation.wls import WlsEstimator

        estimator = WlsEstimator(net, plan, **kwargs)
    est = world.start(
        "Estimator", estimator=estimator, topology=Topology.from_net(net), step_s=step_s
    ).Estimator()
    world.connect(sensors, est, "frame")
    world.connect(grid, est, "switch_closed", "line_in_service", "trafo_tap_pos")
    world.connect(est, recorder, "estimate")
    return sensors, est


def _add_voltage_control(
    world: Any,
    scenario: Scenario,
    prep: Prepared,
    net: pp.pandapowerNet,
    grid: Any,
    recorder: Any,
    sensors: Any,
    est: Any,
) -> None:
    """The voltage controllers between grid, estimator and recorder::

    Grid ──result, taps, available P──► VoltageControl ──tap, Q, P limit──► Grid (next step)
    Estimator ──estimate──►  ▲   (or Sensors ──frame──► ▲)      └──commands──► Recorder
    """
    from gridtwin.controllers.voltage import (
        PRESETS,
        CentralVoltageControl,
        Curve,
        LocalCurves,
        Oltc,
        VoltageController,
    )
    from gridtwin.grid.state import GridState
    from gridtwin.report.voltage_kpis import band_per_bus
    from gridtwin.simulators.sensors import Terminal, _feeder_heads

    vc = scenario.voltage_control
    assert vc is not None
    step_s = scenario.time.step
    world.connect(grid, recorder, "sgen_available_p_mw")
    if vc.oltc is None and vc.local is None and vc.central is None:
        return  # no control: the KPIs only
    trafo = net.trafo
    tappable = (
        np.flatnonzero(
            trafo["tap_max"].fillna(0).to_numpy() > trafo["tap_min"].fillna(0).to_numpy()
        )
        if len(trafo)
        else np.zeros(0, dtype=np.int64)
    )
    regulated_bus = (
        int(net.bus.index.get_loc(trafo["lv_bus"].iloc[tappable[0]])) if len(tappable) else -1
    )
    oltc = None
    if vc.oltc is not None and len(tappable):
        t = trafo.iloc[tappable[0]]
        sign = -1.0 if str(t["tap_side"]) == "hv" else 1.0
        oltc = Oltc(
            set_point_pu=vc.oltc.set_point_pu,
            dead_band_pu=vc.oltc.dead_band_pu,
            delay_s=vc.oltc.delay,
            tap_min=int(trafo["tap_min"].iloc[tappable].max()),
            tap_max=int(trafo["tap_max"].iloc[tappable].min()),
            raise_per_tap_pu=sign * float(t["tap_step_percent"]) / 100.0,
            ldc_r_pu=vc.oltc.ldc_r_pu,
            ldc_x_pu=vc.oltc.ldc_x_pu,
        )
    # ratings scale with the scenario's sgen_scale (more DER = more installed inverters)
    rating = (
        net.sgen["sn_mva"].fillna(net.sgen["p_mw"]).to_numpy(float) * scenario.profiles.sgen_scale
        if len(net.sgen)
        else None
    )
    local = None
    if vc.local is not None and rating is not None:
        preset = PRESETS[vc.local.preset]

        def curve(spec: Any, name: str) -> Curve:
            return Curve(tuple(spec.v_pu), tuple(spec.y_pu)) if spec else preset[name]

        local = LocalCurves(
            curve(vc.local.q_u, "q_u") if vc.local.q_u_enabled else None,
            curve(vc.local.p_u, "p_u") if vc.local.p_u_enabled else None,
            rating,
            vc.local.response_time_s,
        )
    central = None
    if vc.central is not None and est is not None:
        low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), vc.band_mv_pu, vc.band_lv_pu)
        central = CentralVoltageControl(
            net,
            vm_min_pu=low,
            vm_max_pu=high,
            margin_pu=vc.central.margin_pu,
            tap_trafos=tappable if oltc is None else np.zeros(0, dtype=np.int64),
            q_limit_pu=vc.central.q_limit_pu,
            cost_curtailment_per_mw=vc.central.cost_curtailment_per_mw,
            cost_q_per_mvar=vc.central.cost_q_per_mvar,
            cost_tap_per_step=vc.central.cost_tap_per_step,
            rating_mva=rating,
        )
    controller = VoltageController(
        len(net.sgen),
        tappable if (oltc is not None or central is not None) else np.zeros(0, dtype=np.int64),
        oltc=oltc,
        local=local,
        central=central,
        central_interval_s=vc.central.interval if vc.central else step_s,
        step_s=step_s,
    )
    plan = prep.plan
    regulated_scalar = -1
    if plan is not None and regulated_bus >= 0:
        bus_name = element_names(net, "bus")[regulated_bus]
        hits = [i for i, n in enumerate(plan.sc_name) if n.endswith(f":vm_pu:{bus_name}")]
        regulated_scalar = hits[0] if hits else -1
    heads, term = _feeder_heads(net) if len(net.trafo) else (np.zeros(0, np.int64), [])
    sim = world.start(
        "VoltageControl",
        controller=controller,
        known=GridState.from_net(net),
        sgen_bus=net.bus.index.get_indexer(net.sgen["bus"]),
        regulated_bus=regulated_bus,
        regulated_scalar=regulated_scalar,
        feeder_lines=heads if oltc is not None and (oltc.ldc_r_pu or oltc.ldc_x_pu) else [],
        feeder_sign=np.where(np.asarray(term) == Terminal.LINE_FROM, 1.0, -1.0)
        if oltc is not None and (oltc.ldc_r_pu or oltc.ldc_x_pu)
        else [],
        s_base_mva=float(trafo["sn_mva"].iloc[tappable].sum()) if len(tappable) else 1.0,
        step_s=step_s,
    )
    vcs = sim.VoltageControl()
    world.connect(
        grid,
        vcs,
        "result",
        "trafo_tap_pos",
        "sgen_available_p_mw",
        "switch_closed",
        "line_in_service",
    )
    if est is not None:
        world.connect(est, vcs, "estimate")
    elif sensors is not None:
        world.connect(sensors, vcs, "frame")
    n_sgen = len(net.sgen)
    outputs: list[str] = []
    initial: dict[str, Any] = {}
    if controller.tap_trafos.size:
        outputs.append("trafo_tap_pos")
        tap0 = trafo["tap_pos"].fillna(0).to_numpy(np.int64)
        initial["trafo_tap_pos"] = tap0
    if local is not None or central is not None:
        outputs += ["sgen_q_set_mvar", "sgen_p_limit_mw"]
        initial["sgen_q_set_mvar"] = np.full(n_sgen, np.nan)
        initial["sgen_p_limit_mw"] = np.full(n_sgen, np.inf)
    if outputs:
        world.connect(vcs, grid, *outputs, time_shifted=True, initial_data=initial)
    world.connect(vcs, recorder, "commands")


def _add_forecasting(
    world: Any, scenario: Scenario, prep: Prepared, grid: Any, recorder: Any, sensors: Any
) -> None:
    """The forecaster, fed by the metered powers; its forecasts feed the pseudo-measurements::

    Grid ──result (load, sgen P)──► Forecaster ──forecast──► Recorder
                                        └──pseudo──► Sensors ──frame──► Estimator
    """
    spec = scenario.forecasting
    assert spec is not None and prep.forecaster is not None
    sim = world.start("Forecaster", forecaster=prep.forecaster, step_s=scenario.time.step)
    forecaster = sim.Forecaster()
    world.connect(grid, forecaster, "result")
    world.connect(forecaster, recorder, "forecast")
    if sensors is not None and spec.feed_estimator:
        world.connect(forecaster, sensors, "pseudo")


def _add_reconfiguration(
    world: Any, scenario: Scenario, prep: Prepared, grid: Any, recorder: Any, events: Any
) -> None:
    """The reconfiguration controller, closing the loop through the grid::

    Grid ──result (meters), switch_closed, line_in_service──► Reconfig
     ▲                                                          │
     └──────────── switch_command (time-shifted: the next step) ┤
    Events ──reconfigure──► Reconfig ──plans──► Recorder ◄──────┘
    """
    from gridtwin.controllers.reconfig import Weights
    from gridtwin.controllers.reconfig.controller import Controller

    spec = scenario.reconfiguration
    assert spec is not None
    controller = Controller(
        problem=prep.reconfig_problem,
        weights=Weights.for_objective(spec.objective, **spec.weight_overrides()),
        step_s=scenario.time.step,
        every_s=spec.every,
        horizon_s=spec.horizon,
        period_s=spec.period,
        forecast=spec.forecast,
        max_evaluations=spec.max_evaluations,
        time_limit_s=spec.time_limit_s or float("inf"),
        seed=scenario.seed if spec.seed is None else spec.seed,
    )
    reconfig = world.start("Reconfig", controller=controller, step_s=scenario.time.step).Reconfig()
    world.connect(grid, reconfig, "result", "switch_closed", "line_in_service")
    world.connect(
        reconfig,
        grid,
        "switch_command",
        time_shifted=True,
        initial_data={"switch_command": None},
    )
    world.connect(reconfig, recorder, "plans")
    world.connect(grid, recorder, "static_losses_mw", "command_operations")
    if events is not None:
        world.connect(events, reconfig, "events")


def _add_flisr(world: Any, scenario: Scenario, prep: Prepared, grid: Any, events: Any) -> Any:
    """FLISR, closing the loop through the grid::

    Grid ──switch_closed, line_in_service, fault_passed, result──► Flisr
     ▲                                    Events ──repair──►  │
     └──────────── switch_command (time-shifted, next step) ──┘

    Returns the :class:`~gridtwin.controllers.flisr.Flisr` (its incidents feed the KPIs).
    """
    from gridtwin.controllers.flisr import Flisr
    from gridtwin.controllers.flisr.feasibility import RestorationCheck
    from gridtwin.grid.protection import DeviceGraph

    spec = scenario.flisr
    assert spec is not None
    net = prep.net
    graph = DeviceGraph.from_net(net)
    check = RestorationCheck(
        net,
        _build_engine(scenario, copy.deepcopy(net)),
        vm_min_pu=spec.vm_min_pu,
        vm_max_pu=spec.vm_max_pu,
        max_loading_percent=spec.max_loading_percent,
    )
    n_sw = len(net.switch)
    remote = {
        "all": np.ones(n_sw, dtype=bool),
        "breakers": graph.switch_is_cb.copy(),
        "none": np.zeros(n_sw, dtype=bool),
    }[spec.remote]
    flisr = Flisr(
        graph,
        net.switch["closed"].to_numpy(dtype=bool).copy(),
        check,
        remote,
        remote_time_s=spec.remote_time,
        manual_time_s=spec.manual_time,
        confirm_s=spec.confirm,
        indicators=_indicator_mask(net, spec.indicators),
    )
    sim = world.start("Flisr", flisr=flisr, step_s=scenario.time.step, meter=check.meter)
    entity = sim.Flisr()
    world.connect(grid, entity, "switch_closed", "line_in_service", "fault_passed", "result")
    world.connect(
        entity,
        grid,
        "switch_command",
        time_shifted=True,
        initial_data={"switch_command": None},
    )
    if events is not None:
        world.connect(events, entity, "events")
    return flisr


def _indicator_mask(net: pp.pandapowerNet, indicators: Any) -> np.ndarray | None:
    """Per switch: a fault passage indicator there (None: at every switch)."""
    if indicators == "all":
        return None
    mask = np.zeros(len(net.switch), dtype=bool)
    for name in indicators:
        mask[resolve_target(net, "switch", name)] = True
    return mask


def _fault_truth(prep: Prepared) -> tuple[list[tuple[int, int, int | None]], list[int]]:
    """Permanent line faults (line, time, repair time or None) and all repair times [s]."""
    faults: list[tuple[int, int, int | None]] = []
    repairs = [e.time_s for e in prep.schedule if e.type == "repair"]
    for e in prep.schedule:
        if e.type == "line_fault" and dict(e.params).get("permanent", 1.0) >= 0.5:
            for line in e.positions:
                rep = [
                    r.time_s
                    for r in prep.schedule
                    if r.type == "repair" and line in r.positions and r.time_s >= e.time_s
                ]
                faults.append((int(line), e.time_s, min(rep) if rep else None))
    return faults, repairs


def run_scenario(
    scenario: Scenario,
    *,
    out_dir: str | Path | None = None,
    runs_root: str | Path = "runs",
    prepared: Prepared | None = None,
    on_step: Callable[[int], None] | None = None,
) -> RunResult:
    """Run a scenario and leave its run directory.

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
    import mosaik

    t0 = wallclock.perf_counter()
    prep = prepared or prepare(scenario)
    net = prep.net
    engine = _build_engine(scenario, net)
    influx = InfluxRun.connect(scenario)  # InputError on a wrong URL or credentials
    if out_dir is None:
        run_dir = new_run_dir(Path(runs_root), scenario)
    else:
        run_dir = Path(out_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "scenario.yaml").write_text(dump_scenario(scenario), encoding="utf-8")
    run_id = new_run_id(run_dir)  # unique per run: InfluxDB tag and kpis.json run.run_id
    handler = _setup_logging(run_dir)
    log.info(
        "run %s: %d steps of %d s on %s (%s)",
        scenario.name,
        scenario.n_steps,
        scenario.time.step,
        scenario.grid.simbench or scenario.grid.pandapower or scenario.grid.file,
        engine.name,
    )

    tables = {
        name: TableSpec(
            element_names(net, name) if name != "grid" else ["grid"], TABLE_FIELDS[name]
        )
        for name in scenario.recording.tables
        if name in TABLE_FIELDS  # empty element tables are written empty with their schema
    }
    plan = prep.plan
    if plan is not None:
        tables["measurement"] = TableSpec(plan.sc_name, SE_TABLE_FIELDS["measurement"])
        if scenario.estimation is not None:
            for name, table in (("estimate_bus", "bus"), ("estimate_line", "line")):
                tables[name] = TableSpec(element_names(net, table), SE_TABLE_FIELDS[name])
            tables["estimation"] = TableSpec(["estimator"], SE_TABLE_FIELDS["estimation"])
    reconfig_kpis = None
    if scenario.reconfiguration is not None:
        from gridtwin.report.reconfig_kpis import ReconfigKpis

        tables["reconfig"] = TableSpec(["reconfig"], RECONFIG_TABLE_FIELDS)
        reconfig_kpis = ReconfigKpis(prep.reconfig_problem, step_s=scenario.time.step)
    voltage_kpis = None
    vc = scenario.voltage_control
    if vc is not None:
        from gridtwin.recording.recorder_sim import CONTROL_TABLE_FIELDS
        from gridtwin.report.voltage_kpis import VoltageKpis, band_per_bus

        low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), vc.band_mv_pu, vc.band_lv_pu)
        voltage_kpis = VoltageKpis(scenario.time.step, low, high)
        if (vc.local is not None or vc.central is not None) and len(net.sgen):
            tables["control"] = TableSpec(element_names(net, "sgen"), CONTROL_TABLE_FIELDS)
    forecast_kpis = None
    if prep.forecaster is not None:
        from gridtwin.controllers.forecasting.build import forecast_fields
        from gridtwin.report.forecast_kpis import ForecastKpis

        fc = prep.forecaster
        fields = forecast_fields(fc.config.quantiles)
        tables["forecast"] = TableSpec(fc.targets.names, dict.fromkeys(fields, np.dtype("f8")))
        forecast_kpis = ForecastKpis(
            fc.targets.group,
            fc.config.quantiles,
            info={
                "model": str(fc.config.model),
                "level": scenario.forecasting.level,  # type: ignore[union-attr]
                "targets": fc.targets.n_targets,
            },
        )
    store = ParquetStore(run_dir, scenario.time.start, tables, scenario.recording.flush_every_steps)
    kpis = GridKpis(step_s=scenario.time.step)
    se_kpis = None
    if plan is not None and scenario.estimation is not None:
        bounds = np.concatenate([plan.ch_active_from_s, plan.ch_active_until_s])
        starts = np.unique(bounds[(bounds > 0) & (bounds < scenario.time.duration)])
        se_kpis = SeKpis(plan.sc_name, [0, *starts.tolist()])
    step_s = scenario.time.step
    reliability_kpis = None
    if scenario.flisr is not None or any(e.type == "line_fault" for e in prep.schedule):
        from gridtwin.report.reliability_kpis import ReliabilityKpis

        reliability_kpis = ReliabilityKpis.from_net(net, step_s)
    flisr = None
    influx_report = None
    recording_store = (
        influx.attach(store, run_dir, scenario, tables, net, run_id=run_id) if influx else store
    )
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # mosaik prints a banner
            world = mosaik.World(
                SIM_CONFIG, time_resolution=1.0, debug=False, cache=CACHE, skip_greetings=True
            )
        profiles_sim = world.start("Profiles", profiles=prep.profiles, step_s=step_s)
        static_engine = (
            _build_engine(scenario, copy.deepcopy(net)) if reconfig_kpis is not None else None
        )
        grid_sim = world.start(
            "Grid", net=net, engine=engine, step_s=step_s, static_engine=static_engine
        )
        recorder_sim = world.start(
            "Recorder",
            store=recording_store,
            kpis=kpis,
            step_s=step_s,
            tables=list(tables) + (["switch"] if "switch" in scenario.recording.tables else []),
            switch_names=element_names(net, "switch"),
            start_s=int(scenario.time.start.timestamp()),
            on_step=on_step,
            se_kpis=se_kpis,
            reconfig_kpis=reconfig_kpis,
            forecast_kpis=forecast_kpis,
            voltage_kpis=voltage_kpis,
        )
        profiles = profiles_sim.Profiles()
        grid = grid_sim.Grid()
        recorder = recorder_sim.Recorder()
        world.connect(
            profiles, grid, "load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar", "storage_p_mw"
        )
        sensors = est = None
        if plan is not None:
            sensors, est = _add_estimation(world, scenario, prep, net, grid, recorder)
        if voltage_kpis is not None:
            _add_voltage_control(world, scenario, prep, net, grid, recorder, sensors, est)
        if prep.forecaster is not None:
            _add_forecasting(world, scenario, prep, grid, recorder, sensors)
        events = None
        if prep.schedule:
            events_sim = world.start("Events", schedule=prep.schedule)
            events = events_sim.Events()
            world.connect(events, grid, "events")
            world.connect(events, recorder, "events")
            if sensors is not None:
                world.connect(events, sensors, "events")
            world.set_initial_event(events_sim._sid, prep.schedule[0].time_s)
        if scenario.reconfiguration is not None:
            _add_reconfiguration(world, scenario, prep, grid, recorder, events)
        if scenario.flisr is not None:
            flisr = _add_flisr(world, scenario, prep, grid, events)
        if reliability_kpis is not None:
            meter = world.start("Reliability", kpis=reliability_kpis, step_s=step_s).Reliability()
            world.connect(grid, meter, "result", "load_demand_p_mw")
        world.connect(
            grid,
            recorder,
            "result",
            "load_demand_p_mw",
            "switch_closed",
            "line_in_service",
            "trafo_tap_pos",
        )
        world.run(
            until=scenario.time.duration,
            rt_factor=scenario.time.real_time_factor,
            print_progress=False,
        )
    finally:
        store.close()
        wall_s = wallclock.perf_counter() - t0
        sections = kpis.sections(wall_s=wall_s, sim_seconds=kpis.steps * step_s)
        sections["run"]["completed"] = kpis.steps == scenario.n_steps
        sections["run"]["run_id"] = run_id
        if se_kpis is not None:
            sections["se"] = se_kpis.section()
        if reconfig_kpis is not None:
            sections["reconfig"] = reconfig_kpis.section()
        if forecast_kpis is not None:
            forecast_kpis.add(prep.forecaster.finish())
            forecast_kpis.train_s = prep.forecaster.train_s_total
            sections["forecast"] = forecast_kpis.section()
        if voltage_kpis is not None:
            sections["voltage"] = voltage_kpis.section()
        if reliability_kpis is not None:
            sections["reliability"] = reliability_kpis.section()
        if flisr is not None and reliability_kpis is not None:
            faults, repairs = _fault_truth(prep)
            ops = sum(len(i.isolation) + len(i.reclosed) + len(i.ties) for i in flisr.incidents)
            sections["flisr"] = reliability_kpis.flisr_section(
                flisr.incidents, faults, repairs, ops
            )
        (run_dir / "kpis.json").write_text(json.dumps(sections, indent=2) + "\n", encoding="utf-8")
        if influx is not None:
            end_s = int(scenario.time.start.timestamp()) + kpis.steps * step_s
            influx_report = influx.finish(sections, end_s)
        log.info(
            "done: %d steps in %.2f s, %d not converged", kpis.steps, wall_s, kpis.nonconverged
        )
        log.removeHandler(handler)
        handler.close()
    return RunResult(
        run_dir=run_dir, kpis=sections, rows_written=dict(store.rows_written), influx=influx_report
    )
