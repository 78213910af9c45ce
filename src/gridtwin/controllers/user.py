"""A user's automation function as a component: load its class, check its params, wire its ports.

Its declarations become the same kinds of things a built-in declares: its
``Output`` dataclass a per-step table named after it (recorded by the
generic recorder, in InfluxDB the measurement of that name), its ``kpis()``
the ``kpis.json`` section of that name, its ``summary`` rows a summary
section stored in ``kpis.json`` (:data:`~gridtwin.declarations.SUMMARY_KEY`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import sys
import typing
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from gridtwin.components import VIEW_PORTS, Wiring
from gridtwin.controllers.function import AutomationFunction, FunctionContext
from gridtwin.declarations import SUMMARY_KEY, SummarySection, taken_sections
from gridtwin.errors import InputError
from gridtwin.grid.topology import element_names
from gridtwin.recording.tables import B1, F8, I8, StepTable, dataclass_columns

__all__ = [
    "UserFunction",
    "declared_outputs",
    "load_function_class",
    "output_fields",
    "output_table",
]

_DTYPES = {bool: B1, int: I8, float: F8}


def output_fields(cls: type) -> dict[str, np.dtype]:
    """Field name -> dtype of an ``Output`` dataclass (``bool``, ``int``, else float64).

    Raises
    ------
    TypeError
        If ``cls`` is not a dataclass.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"Output {cls!r} is not a dataclass")
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):
        hints = {}
    return {f.name: _DTYPES.get(hints.get(f.name, float), F8) for f in dataclasses.fields(cls)}


def output_table(name: str, cls: type) -> StepTable:
    """The per-step table of a function's ``Output``: one row per step, element ``name``."""
    source = f"output:{name}"
    return StepTable(name, dataclass_columns(cls, source, dtypes=output_fields(cls)), (source,))


def _as_any(value: Any) -> Any:
    """The summary list in ``kpis.json`` (a list where sections are dicts)."""
    return value


def _plain(value: Any) -> Any:
    """A KPI as JSON takes it (numpy scalars to Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def _import(use: str, base: Path) -> Any:
    target, _, cls_name = use.rpartition(":")
    if target.endswith(".py"):
        path = Path(target)
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise LookupError(f"no file {path}")
        module_name = f"gridtwin_user_{path.stem}_{abs(hash(str(path.resolve())))}"
        module = sys.modules.get(module_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise LookupError(f"{target} has no {cls_name}")
    return cls


def load_function_class(use: str, source_file: str, index: int) -> type[AutomationFunction]:
    """The class a ``functions[index].use`` names.

    Raises
    ------
    InputError
        If it cannot be imported, is not an AutomationFunction or reads unknown ports.
    """
    field = f"functions[{index}].use"
    base = Path(source_file).parent if source_file != "<scenario>" else Path.cwd()
    try:
        cls = _import(use, base)
    except (ImportError, LookupError, SyntaxError, OSError) as exc:
        raise InputError(source_file, field, f"cannot load {use!r}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, AutomationFunction)):
        raise InputError(
            source_file, field, f"{use!r} is not a gridtwin.controllers.function.AutomationFunction"
        )
    unknown = sorted(set(cls.reads) - set(VIEW_PORTS))
    if unknown:
        raise InputError(
            source_file,
            field,
            f"{use!r} reads {', '.join(unknown)}; expected control-centre ports: "
            + ", ".join(VIEW_PORTS),
        )
    return cls


def declared_outputs(scenario: Any) -> dict[str, dict[str, np.dtype]]:
    """Function name -> its ``Output`` fields (name -> dtype), for the scenario's own functions."""
    out = {}
    for i, spec in enumerate(scenario.functions):
        if spec.use is None:
            continue
        cls = load_function_class(spec.use, scenario.source_file, i)
        if cls.Output is not None:
            try:
                out[spec.name or cls.__name__] = output_fields(cls.Output)
            except TypeError as exc:
                raise InputError(scenario.source_file, f"functions[{i}].use", str(exc)) from None
    return out


def check_params(cls: type[AutomationFunction], params: dict, source_file: str, index: int) -> Any:
    """The function's parameters, checked against its ``Params`` model."""
    try:
        return cls.Params.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        field = f"functions[{index}].params" + (f".{where}" if where else "")
        raise InputError(source_file, field, err["msg"]) from None


class UserFunction:
    """One entry of the scenario's ``functions`` list."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.name = ""

    def plan(self, wiring: Wiring) -> None:
        scenario = wiring.scenario
        spec = scenario.functions[self.index]
        assert spec.use is not None  # registry: an external function is an ExternalFunction
        cls = load_function_class(spec.use, scenario.source_file, self.index)
        self.params = check_params(cls, spec.params, scenario.source_file, self.index)
        self.cls = cls
        self.name = spec.name or cls.__name__
        self._declare(wiring)

    def _declare(self, wiring: Wiring) -> None:
        """Its table, KPI section and summary rows (checked against the names taken)."""
        source, field = wiring.scenario.source_file, f"functions[{self.index}].name"
        if self.name in _taken_names(wiring):
            raise InputError(
                source, field, f"{self.name!r} is taken by gridtwin; expected another name"
            )
        if self.cls.Output is not None:
            try:
                wiring.record(output_table(self.name, self.cls.Output), [self.name])
            except TypeError as exc:
                raise InputError(source, f"functions[{self.index}].use", str(exc)) from None
        if self.cls.summary:
            rows = tuple(r.within(self.name) for r in self.cls.summary)
            section = SummarySection(self.name, self.name, rows, 100 + self.index)
            declared = wiring.resources.setdefault("user_summary", [])
            if not declared:  # one kpis.json entry for every user function's rows
                wiring.sections.append(
                    lambda: {SUMMARY_KEY: _as_any([s.as_dict() for s in declared])}
                )
            declared.append(section)

    def add(self, wiring: Wiring) -> None:
        net, plan = wiring.prepared.net, wiring.prepared.plan
        context = FunctionContext(
            name=self.name,
            step_s=wiring.step_s,
            elements={
                t: element_names(net, t)
                for t in ("bus", "line", "trafo", "switch", "load", "sgen", "storage")
            },
            sgen_rating_mva=net.sgen["sn_mva"].fillna(net.sgen["p_mw"].abs()).to_numpy(float)
            * wiring.scenario.profiles.sgen_scale,
            measurement_names=list(plan.sc_name) if plan is not None else [],
        )
        function = self.cls(self.params, context)
        sim = wiring.world.start("Function", function=function, step_s=wiring.step_s)
        missing = wiring.missing(self.cls.reads)
        if missing:
            raise InputError(
                wiring.scenario.source_file,
                f"functions[{self.index}].use",
                f"{self.name} reads {', '.join(missing)}, which nothing in this scenario "
                "provides; expected a scenario with the sections that provide them",
            )
        entity = wiring.add_function(self.name, sim.Function())
        wiring.read(entity, *self.cls.reads)
        if self.cls.Output is not None:
            wiring.connect(entity, wiring.entities["recorder"], ("output", "outputs"))
        if type(function).kpis is not AutomationFunction.kpis:
            wiring.sections.append(lambda: {self.name: _user_kpis(self.name, function)})


_FREE_FORM = frozenset({"reconfig_plans", "forecast_issues", "functions_external"})
"""Run-directory tables and kpis.json sections outside the declared ones."""


def _taken_names(wiring: Wiring) -> set[str]:
    """Names a user's function may not take: gridtwin's tables and kpis.json sections."""
    from gridtwin.recording.store import ROW_SCHEMAS

    return {*taken_sections(), *wiring.tables, *ROW_SCHEMAS, *_FREE_FORM, SUMMARY_KEY}


def _user_kpis(name: str, function: AutomationFunction) -> dict[str, Any]:
    """A user's ``kpis()`` as plain JSON values; what is not a number, text or null is left
    out with a warning, and a ``kpis()`` that fails leaves the section empty (the run's
    kpis.json is written either way)."""
    import logging
    import math

    log = logging.getLogger("gridtwin")
    try:
        figures = dict(function.kpis())
    except Exception as exc:  # the user's code: reported in one line, the run's figures kept
        log.warning(
            "function %s: kpis() failed (%s: %s); its section is empty",
            name,
            type(exc).__name__,
            exc,
        )
        return {}
    out: dict[str, Any] = {}
    for key, value in figures.items():
        plain = _plain(value)
        if isinstance(plain, float) and not math.isfinite(plain):
            plain = None
        if plain is None or isinstance(plain, bool | int | float | str):
            out[str(key)] = plain
        else:
            log.warning(
                "function %s: kpis() %r: got %s; expected a number, text or null; left out",
                name,
                key,
                type(value).__name__,
            )
    return out
