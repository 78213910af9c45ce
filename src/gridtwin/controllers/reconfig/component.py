"""Reconfiguration as a component: reported positions and metered powers in, switch commands out."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np

from gridtwin.components import RowWriter, Wiring
from gridtwin.errors import InputError

__all__ = ["METERED", "Reconfiguration", "build_problem"]

METERED = (
    ("metered_load_p_mw", "load_p_mw"),
    ("metered_load_q_mvar", "load_q_mvar"),
    ("metered_sgen_p_mw", "sgen_p_mw"),
    ("metered_sgen_q_mvar", "sgen_q_mvar"),
)
"""The metered powers a switching function plans on: view port -> input attribute."""


class Reconfiguration:
    """The ``reconfiguration`` section: the best radial configuration, every ``every``.

    Reads the reported switch and line positions, the metered powers and the
    operators' ``reconfigure`` requests; writes switch commands. Records
    ``reconfig`` (losses against the held starting configuration, from the
    testbed's static twin) and ``reconfig_plans``; KPIs in section ``reconfig``.
    Summary rows, InfluxDB mapping, dashboard: :mod:`gridtwin.declarations.reconfig`.
    """

    name = "reconfiguration"

    def plan(self, wiring: Wiring) -> None:
        from gridtwin.controllers.reconfig.tables import RECONFIG_TABLE
        from gridtwin.report.reconfig_kpis import ReconfigKpis

        wiring.record(RECONFIG_TABLE, ["reconfig"])
        kpis = ReconfigKpis(wiring.prepared.reconfig_problem, step_s=wiring.step_s)
        wiring.feed(partial(_feed, kpis), "reconfig_plans")
        wiring.resources["static_twin"] = True
        wiring.sections.append(lambda: {"reconfig": kpis.section()})

    def add(self, wiring: Wiring) -> None:
        from gridtwin.controllers.reconfig import Weights
        from gridtwin.controllers.reconfig.controller import Controller

        scenario = wiring.scenario
        spec = scenario.reconfiguration
        controller = Controller(
            problem=wiring.prepared.reconfig_problem,
            weights=Weights.for_objective(spec.objective, **spec.weight_overrides()),
            step_s=wiring.step_s,
            every_s=spec.every,
            horizon_s=spec.horizon,
            period_s=spec.period,
            forecast=spec.forecast,
            max_evaluations=spec.max_evaluations,
            time_limit_s=spec.time_limit_s,
            seed=scenario.seed if spec.seed is None else spec.seed,
            robust=spec.hold_check,
        )
        sim = wiring.world.start(
            "Reconfig", controller=controller, step_s=wiring.step_s, name=self.name
        )
        entity = wiring.add_function(self.name, sim.Reconfig())
        wiring.provide("switch_orders", entity, "commands")
        wiring.read(
            entity,
            ("reported_switch_closed", "switch_closed"),
            ("reported_line_in_service", "line_in_service"),
            *METERED,
        )
        wiring.read(entity, "reports", optional=True)
        grid, recorder = wiring.entities["grid"], wiring.entities["recorder"]
        wiring.connect(entity, recorder, "plans")
        wiring.connect(grid, recorder, "static_losses_mw", "command_operations")


def build_problem(scenario: Any, net: Any) -> Any:
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


def _feed(kpis: Any, time_s: int, inputs: Any, write_rows: RowWriter) -> None:
    """The recorder's step: the ``reconfig_plans`` rows and the reconfiguration KPIs."""
    plans = [r for r in inputs["plans"] or [] if r.time_s == time_s]
    kpis.add_plans(plans)
    rows = [{k: v for k, v in asdict(r).items() if k != "time_s"} for r in plans]
    write_rows("reconfig_plans", time_s, rows)
    result = inputs["result"]
    if result is None:
        return
    static = inputs["static_losses_mw"]
    kpis.add(
        converged=result.converged,
        losses_mw=result.losses_mw,
        static_losses_mw=np.nan if static is None else static,
        load_demand_p_mw=inputs["load_demand_p_mw"],
        switch_closed=inputs["switch_closed"],
        line_in_service=inputs["line_in_service"],
        command_operations=inputs["command_operations"] or 0,
    )
