"""A user's automation function as a component: load its class, check its params, wire its ports."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gridtwin.components import VIEW_PORTS, Wiring
from gridtwin.controllers.function import AutomationFunction, FunctionContext
from gridtwin.errors import InputError
from gridtwin.grid.topology import element_names

__all__ = ["UserFunction", "load_function_class"]


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

    def add(self, wiring: Wiring) -> None:
        net, plan = wiring.prepared.net, wiring.prepared.plan
        context = FunctionContext(
            name=self.name,
            step_s=wiring.step_s,
            elements={
                t: element_names(net, t)
                for t in ("bus", "line", "trafo", "switch", "load", "sgen", "storage")
            },
            sgen_rating_mva=net.sgen["sn_mva"].fillna(net.sgen["p_mw"]).to_numpy(float)
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
