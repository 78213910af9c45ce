"""Everything a run needs before its world is built: the net, profiles, events, functions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gridtwin.errors import InputError

__all__ = ["Prepared", "engine_factory", "prepare"]


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


def prepare(scenario: Any, *, check_only: bool = False) -> Prepared:
    """Load the network, check the scenario against it, build profiles, events and functions.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario.
    check_only : bool
        Make every check and build nothing a check does not need (what
        ``gridtwin validate`` does): the network may come as its kept tables
        (:func:`gridtwin.grid.netcache.load_tables`), the forecaster is checked
        but not trained, and ``reconfig_problem`` and ``forecaster`` stay None.
        The reconfiguration problem needs the full net; it is checked once per
        kept net and ``reconfiguration`` section (:func:`gridtwin.grid.netcache.is_checked`).

    Raises
    ------
    InputError
        On any problem with the scenario, the network, a profile file or a function.
    """
    from gridtwin.controllers.user import check_params, load_function_class
    from gridtwin.events import build_schedule
    from gridtwin.grid.netcache import is_checked, mark_checked
    from gridtwin.profiles import build_profiles
    from gridtwin.scenario import check_against_net

    reconfig = scenario.reconfiguration
    section = None if reconfig is None else reconfig.model_dump(mode="json")
    known = reconfig is not None and is_checked(scenario.grid, "reconfiguration", section)
    if check_only and (reconfig is None or known):
        from gridtwin.grid.netcache import load_tables

        net = load_tables(scenario.grid, scenario.source_file)
    else:  # the reconfiguration problem is checked on the full net
        from gridtwin.grid.netcache import keep_tables
        from gridtwin.grid.sources import load_net

        net = load_net(scenario.grid, scenario.source_file)
        keep_tables(scenario.grid, net)
    plan = check_against_net(scenario, net)
    for i, spec in enumerate(scenario.functions):
        if spec.use is None:  # an external function (cmd/connect): checked when it starts
            continue
        check_params(
            load_function_class(spec.use, scenario.source_file, i),
            spec.params,
            scenario.source_file,
            i,
        )
    profiles = build_profiles(scenario, net)
    schedule = build_schedule(scenario, net, plan)
    prepared = Prepared(scenario, net, profiles, schedule, plan)
    if reconfig is not None and not (check_only and known):
        from gridtwin.controllers.reconfig.component import build_problem

        problem = build_problem(scenario, net)
        mark_checked(scenario.grid, "reconfiguration", section)
        prepared.reconfig_problem = None if check_only else problem
    if scenario.forecasting is not None:
        from gridtwin.controllers.forecasting.build import build_forecaster, check_forecasting

        if check_only:
            check_forecasting(scenario, net)
        else:
            prepared.forecaster = build_forecaster(scenario, net)
    return prepared


def engine_factory(scenario: Any, net: Any) -> Callable[[], Any]:
    """A function that makes a new power-flow engine on a copy of ``net`` for each caller."""
    from gridtwin.grid.factory import make_engine

    def new() -> Any:
        try:
            return make_engine(str(scenario.grid.engine), copy.deepcopy(net))
        except ValueError as exc:
            raise InputError(scenario.source_file, "grid.engine", str(exc)) from None

    return new
