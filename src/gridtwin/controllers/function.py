"""Write your own automation function: the base class a user's function derives from.

A function is a class with the ports it reads (names from
:data:`gridtwin.components.VIEW_PORTS`), an optional pydantic model of its
parameters, and a ``step`` that maps what the control centre sees to
commands. Optionally it declares an ``Output`` dataclass (recorded each step
as a table named after the function, one column per field), ``kpis()`` (its
section of ``kpis.json``) and ``summary`` rows over those KPIs (shown by
``gridtwin run``/``show``/``report``/``compare``); the table goes to InfluxDB
as the measurement of the same name and each field gets a dashboard panel
(``gridtwin dashboards build --scenario FILE``). gridtwin runs it in a mosaik simulator of its own
(:mod:`gridtwin.controllers.function_sim`), connects the ports and sends its
commands through the command channel. Nothing of the grid's true state
reaches it. Enable it in a scenario::

    functions:
      - use: examples/peak_shaving.py:PeakShaving   # or a module: package.module:Class
        name: peak_shaving
        params: {export_limit_mw: 2.0}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from gridtwin.declarations import Row
from gridtwin.grid.commands import Command, Target

__all__ = ["AutomationFunction", "FunctionContext", "NoParams", "Row"]


class NoParams(BaseModel):
    """A function without parameters."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class FunctionContext:
    """What a function knows before the run: the network model of the control centre.

    Attributes
    ----------
    name : str
        The function's name in the scenario (the source of its commands).
    step_s : int
        Simulation step [s].
    elements : dict of list of str
        Element names per pandapower table (``bus``, ``line``, ``switch``, ``sgen``, ...),
        in the order of every array the function sees and sends.
    sgen_rating_mva : ndarray
        Rated apparent power per sgen [MVA].
    measurement_names : list of str
        Scalars of a measurement frame (``"<kind>:<quantity>:<element>"``).
    """

    name: str
    step_s: int
    elements: dict[str, list[str]]
    sgen_rating_mva: np.ndarray
    measurement_names: list[str] = field(default_factory=list)

    def position(self, table: str, name: str) -> int:
        """Position of element ``name`` in ``table``; ValueError if unknown."""
        return self.elements[table].index(name)


class AutomationFunction:
    """Base class of a user's automation function.

    Class attributes
    ----------------
    reads : tuple of str
        The control-centre ports it reads (see :data:`gridtwin.components.VIEW_PORTS`).
    Params : type of pydantic.BaseModel
        Its parameters (the ``params`` of its scenario entry, checked like the scenario).
    Output : dataclass type, optional
        What it records each step: ``step`` sets :attr:`output` to an instance
        (fields ``float``, ``int`` or ``bool``, units in the names); one row per
        step in the table named after the function (element = its name). A
        step that leaves :attr:`output` None records no row.
    summary : tuple of Row
        Summary rows over its :meth:`kpis` (a key without a dot is one of its
        KPIs: ``Row("steps limited", "limited_steps", "steps")``).
    """

    reads: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[BaseModel]] = NoParams
    Output: ClassVar[type | None] = None
    summary: ClassVar[tuple[Row, ...]] = ()

    def __init__(self, params: Any, context: FunctionContext) -> None:
        self.params = params
        self.context = context
        self.output: Any = None

    def kpis(self) -> dict[str, float | int | bool]:
        """Its KPIs at the end of the run: the ``kpis.json`` section named after it."""
        return {}

    def step(self, time_s: int, view: dict[str, Any]) -> list[Command]:
        """Decide at ``time_s`` from ``view`` (port -> value; a port without data is absent)."""
        raise NotImplementedError

    def command(self, time_s: int, target: Target | str, positions: Any, values: Any) -> Command:
        """A command from this function (it acts one step later at the earliest)."""
        return Command(
            self.context.name,
            int(time_s),
            Target(target),
            np.asarray(positions, dtype=np.int64).reshape(-1),
            np.asarray(values, dtype=float).reshape(-1),
        )
