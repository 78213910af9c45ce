"""gridtwin's simulators in processes of their own: the adapter and the tagged JSON form.

The entry point is :func:`gridtwin.remote.main` (each simulator module's
``__main__``).

mosaik starts a remote simulator with its ``cmd:`` starter (``python -m
gridtwin.simulators.profile_sim %(addr)s``) or connects to one already
listening (``... --remote HOST:PORT``, its ``connect:`` starter). Two things
cannot cross a process boundary and are replaced here:

- **Start parameters that are objects** (the profiles, the sensor model, the
  estimator, a net): a remote simulator takes ``scenario=PATH`` (a scenario
  file) instead, and builds the very objects gridtwin's own world would give
  it from that scenario (:func:`gridtwin.remote.start_params`); ``function=NAME`` picks one of
  the scenario's automation functions for the ``Function`` simulator, and
  ``index=N`` the N-th start of a simulator that a scenario starts more than
  once. Parameters given next to ``scenario`` win (``step_s``). The grid
  also takes a SimBench code, a pandapower network name or a pandapower JSON
  file at ``create`` (:mod:`gridtwin.simulators.grid_sim`).
- **Values that are objects** (a power-flow result, a measurement frame,
  commands): they travel in a tagged JSON form (:func:`encode` /
  :func:`decode`) that another gridtwin simulator turns back into the same
  object: an array is ``{"__nd__": dtype, "v": [...]}``, a dataclass
  ``{"__dc__": "module:Class", ...fields}``, an enum ``{"__enum__":
  "module:Class", "v": value}``. Only ``gridtwin.`` classes are decoded.
  The grid gives plain JSON (lists, numbers) for stock mosaik components by
  default, the tagged form with ``wire="tagged"`` at start.

The recorder and the reliability KPIs run only inside gridtwin's own process
(they hold the run store and the KPI accumulators the run reads at its end):
their ``__main__`` says so and exits with status 2 (:func:`refuse`).
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Callable
from enum import Enum
from typing import Any

import mosaik_api_v3
import numpy as np

__all__ = ["RemoteSimulator", "decode", "encode", "refuse"]


def encode(value: Any) -> Any:
    """``value`` in the tagged JSON form (see the module docstring)."""
    if isinstance(value, Enum):  # before str and int: StrEnum and IntEnum are both
        return {"__enum__": _path(type(value)), "v": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"__nd__": value.dtype.str, "shape": list(value.shape), "v": value.ravel().tolist()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__dc__": _path(type(value)), **fields}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def decode(value: Any) -> Any:
    """The object of a tagged JSON value (plain JSON stays as it is)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__nd__" in value:
        return np.asarray(value["v"], dtype=np.dtype(value["__nd__"])).reshape(value["shape"])
    if "__enum__" in value:
        return _class(value["__enum__"])(value["v"])
    if "__dc__" in value:
        cls = _class(value["__dc__"])
        fields = {k: decode(v) for k, v in value.items() if k != "__dc__"}
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        obj = cls(**{k: v for k, v in fields.items() if k in init})
        for name in set(fields) - init:  # fields set after init (a channel's queue, ...)
            object.__setattr__(obj, name, fields[name])
        return obj
    return {k: decode(v) for k, v in value.items()}


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(path: str) -> Any:
    module, _, name = path.partition(":")
    if not module.startswith("gridtwin."):
        raise ValueError(f"refusing to decode {path!r}: not a gridtwin class")
    return getattr(importlib.import_module(module), name)


class RemoteSimulator(mosaik_api_v3.Simulator):
    """A gridtwin simulator for a process of its own: serializable start, tagged JSON data.

    Parameters
    ----------
    name : str
        The simulator's name in :data:`gridtwin.registry.SIM_CONFIG`.
    inner : mosaik_api_v3.Simulator
        The in-process simulator it runs.
    params_for : callable
        ``params_for(scenario_path, name, function=..., index=...)``: the start
        parameters of ``name`` for a scenario file (:func:`gridtwin.remote.start_params`).
    tagged_outputs : bool
        Encode outputs in the tagged form (False: the inner simulator's own
        plain JSON, the grid's for stock mosaik components).
    """

    def __init__(
        self,
        name: str,
        inner: mosaik_api_v3.Simulator,
        params_for: Callable[..., dict[str, Any]],
        tagged_outputs: bool = True,
    ) -> None:
        super().__init__(inner.meta)
        self.name, self.inner, self.tagged_outputs = name, inner, tagged_outputs
        self.params_for = params_for

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Any:
        wire = sim_params.pop("wire", None)
        if wire is not None:  # the grid: "plain" for stock components, "tagged" for gridtwin's
            if wire not in ("plain", "tagged"):
                raise ValueError(f"wire: got {wire!r}; expected plain or tagged")
            self.tagged_outputs = wire == "tagged"
            if hasattr(self.inner, "json_outputs"):
                self.inner.json_outputs = not self.tagged_outputs
        if sim_params.get("scenario") is not None:
            derived = self.params_for(
                str(sim_params.pop("scenario")),
                self.name,
                function=sim_params.pop("function", None),
                index=int(sim_params.pop("index", 0)),
            )
            sim_params = derived | sim_params
        meta = self.inner.init(sid, time_resolution, **sim_params)
        self.meta = meta
        return meta

    def create(self, num: int, model: str, **model_params: Any) -> Any:
        return self.inner.create(num, model, **decode(model_params))

    def setup_done(self) -> None:
        self.inner.setup_done()

    def step(self, time: int, inputs: Any, max_advance: int) -> Any:
        return self.inner.step(time, decode(inputs), max_advance)

    def get_data(self, outputs: Any) -> Any:
        data = self.inner.get_data(outputs)
        return encode(data) if self.tagged_outputs else data

    def finalize(self) -> None:
        self.inner.finalize()


def refuse(module: str, why: str) -> int:
    """The ``__main__`` of a simulator that runs only inside gridtwin's process: say so, exit 2."""
    print(f"error: {module} cannot run as a process of its own: {why}", file=sys.stderr)
    return 2
