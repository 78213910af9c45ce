"""Run any gridtwin simulator as a process of its own: ``python -m gridtwin.<module> %(addr)s``.

mosaik starts a remote simulator with its ``cmd:`` starter (``python -m
gridtwin.simulators.profile_sim %(addr)s``) or connects to one already
listening (``... --remote HOST:PORT``, its ``connect:`` starter). The adapter
and the tagged JSON form of the values are in :mod:`gridtwin.simulators.remote`;
here are the entry point (:func:`main`) and :func:`start_params`, which builds
from a scenario file the start parameters (objects) gridtwin's own world
would give a simulator. A simulator module reaches :func:`main` by name
(``importlib``), as the registry reaches the components, so that the
simulators stay below the scenario layer.
"""

from __future__ import annotations

import importlib
import tempfile
from dataclasses import dataclass
from typing import Any

import mosaik_api_v3

from gridtwin.simulators.remote import RemoteSimulator

__all__ = ["ScenarioStarts", "main", "scenario_starts", "start_params"]


class _Factory:
    """What a capturing world's ``start`` returns: remembers the start parameters."""

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        self.name, self.params, self._sid = name, params, f"{name}-capture"

    def __getattr__(self, model: str) -> Any:
        if model.startswith("_"):
            raise AttributeError(model)
        return lambda *args, **kwargs: _Entity(self)


class _Entity:
    def __init__(self, factory: _Factory) -> None:
        self.factory = factory
        self.full_id = f"{factory._sid}.entity"


class _CaptureWorld:
    """Stands in for a mosaik world while a scenario's components are wired: records every start.

    Nothing is simulated; it exists to learn the start parameters gridtwin's
    own world would pass (the components build them), so that a remote
    simulator gets exactly those.
    """

    def __init__(self) -> None:
        self.started: list[_Factory] = []

    def start(self, starter: Any, /, **params: Any) -> _Factory:
        factory = _Factory(starter if isinstance(starter, str) else "external", params)
        self.started.append(factory)
        return factory

    def connect(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_initial_event(self, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class ScenarioStarts:
    """Every simulator start gridtwin's own world makes for a scenario, with its parameters.

    Attributes
    ----------
    starts : list of (str, dict)
        (simulator name in :data:`~gridtwin.registry.SIM_CONFIG`, start parameters), in order.
    functions : dict
        Automation function name -> (simulator name, start parameters).
    """

    starts: list[tuple[str, dict[str, Any]]]
    functions: dict[str, tuple[str, dict[str, Any]]]


def scenario_starts(scenario_path: str) -> ScenarioStarts:
    """Wire a scenario file's components against a recording world and keep every start.

    External functions (``cmd:``/``connect:``) are left out: they are the
    user's processes already.

    Raises
    ------
    InputError
        If the scenario is bad.
    """
    from gridtwin.components import Wiring
    from gridtwin.controllers.external.component import ExternalFunction
    from gridtwin.prepare import engine_factory, prepare
    from gridtwin.registry import components_for
    from gridtwin.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    prep = prepare(scenario)
    new_engine = engine_factory(scenario, prep.net)
    world = _CaptureWorld()
    with tempfile.TemporaryDirectory() as tmp:
        wiring = Wiring(
            world,
            scenario,
            prep,
            resources={"engine": new_engine(), "new_engine": new_engine, "run_dir": tmp},
        )
        components = [
            c for c in components_for(scenario, prep) if not isinstance(c, ExternalFunction)
        ]
        for component in components:
            component.plan(wiring)
        if wiring.resources.get("static_twin"):
            wiring.resources["static_engine"] = new_engine()
        wiring.recorder_params.update(store=None, kpis=None, on_step=None)
        for component in components:
            component.add(wiring)
        wiring.start_on_demand()  # SCADA and the channel: gridtwin starts them when read
        wiring.finish()
    functions = {
        name: (entity.factory.name, dict(entity.factory.params))
        for name, entity in wiring.functions.items()
        if isinstance(entity, _Entity)
    }
    starts = [(f.name, dict(f.params)) for f in world.started]
    if not any(name == "Profiles" for name, _ in starts):
        # gridtwin's own grid reads its profiles in its step; a stock world drives it from these
        starts.insert(0, ("Profiles", {"profiles": prep.profiles, "step_s": scenario.time.step}))
    return ScenarioStarts(starts, functions)


def start_params(
    scenario_path: str, sim_name: str, *, function: str | None = None, index: int = 0
) -> dict[str, Any]:
    """The start parameters gridtwin's own world gives ``sim_name`` for a scenario file.

    Parameters
    ----------
    scenario_path : str
        A scenario file.
    sim_name : str
        The simulator's name in :data:`gridtwin.registry.SIM_CONFIG` (``Profiles``, ...).
    function : str, optional
        For ``Function``: the name of the scenario's automation function.
    index : int
        Which start of ``sim_name``, when the scenario starts it more than once.

    Raises
    ------
    InputError
        If the scenario is bad or does not start ``sim_name``.
    """
    from gridtwin.errors import InputError

    found = scenario_starts(scenario_path)
    if function is not None:
        if found.functions.get(function, ("", {}))[0] != sim_name:
            raise InputError(scenario_path, "function", f"got {function!r}; no such {sim_name}")
        return found.functions[function][1]
    starts = [params for name, params in found.starts if name == sim_name]
    if index >= len(starts):
        raise InputError(
            scenario_path,
            "index" if starts else "scenario",
            f"this scenario starts {sim_name} {len(starts)} time(s); "
            f"expected index < {len(starts)}",
        )
    return starts[index]


def main(name: str, *, tagged_outputs: bool = True) -> int:
    """Run the simulator ``name`` (of :data:`~gridtwin.registry.SIM_CONFIG`) for a mosaik world.

    ``python -m gridtwin.<module> HOST:PORT`` (mosaik's ``cmd:`` with
    ``%(addr)s``) or ``... --remote HOST:PORT`` (``connect:``).
    """
    from gridtwin.registry import SIM_CONFIG

    entry: Any = SIM_CONFIG[name]
    module, _, cls_name = str(entry["python"]).partition(":")
    inner_cls = getattr(importlib.import_module(module), cls_name)
    inner = inner_cls(json_outputs=True) if name == "Grid" else inner_cls()
    sim = RemoteSimulator(name, inner, start_params, tagged_outputs)
    return mosaik_api_v3.start_simulation(sim, f"gridtwin {name}")
