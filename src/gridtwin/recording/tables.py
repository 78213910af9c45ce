"""Declarations of the per-step tables: one field list per table, read by the recorder.

A :class:`StepTable` names a table, its fields (name -> dtype, units in the
names) and how each field's value is drawn from the recorder's inputs of a
step. Both the store schema (:meth:`StepTable.spec`) and each step's append
(:meth:`StepTable.values`) are derived from it, so a field is spelled out
once. Fields are derived from the dataclass that carries the values where
one does (:func:`dataclass_columns`): the per-element tables of
:class:`~gridtwin.grid.engine.PowerFlowResult` from
:data:`~gridtwin.grid.engine.ELEMENT_COLUMNS`, the estimation tables from the
estimate, the measurement table from the measurement frame.

The grid tables (``grid``, ``bus``, ``line``, ``trafo``, ``load``, ``sgen``,
``storage``) are declared here (:data:`GRID_TABLES`); each component declares
its own tables next to its code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from gridtwin.grid.engine import ELEMENT_COLUMNS, PowerFlowResult
from gridtwin.recording.store import BOOL_OR_NULL, INT_OR_NULL, TableSpec

__all__ = [
    "B1",
    "F8",
    "GRID_TABLES",
    "I8",
    "Column",
    "StepTable",
    "attr",
    "dataclass_columns",
    "given",
    "result_columns",
]

F8, B1, I8 = np.dtype("f8"), np.dtype("bool"), np.dtype("i8")

Inputs = Mapping[str, Any]
"""The recorder's inputs of one step: attribute -> value (None when absent)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a table: its dtype and how a step's value is drawn from the inputs."""

    dtype: np.dtype
    value: Callable[[Inputs], Any]


@dataclass(frozen=True, slots=True)
class attr:  # noqa: N801  (a getter, used like a function)
    """Getter ``inputs[source].name``."""

    source: str
    name: str

    def __call__(self, inputs: Inputs) -> Any:
        return getattr(inputs[self.source], self.name)


@dataclass(frozen=True, slots=True)
class StepTable:
    """A per-step, per-element table.

    Attributes
    ----------
    name : str
        The table's name in the run directory.
    columns : dict
        Field name (units in the name) -> :class:`Column`, in the order written.
    sources : tuple of str
        The inputs a step must have (not None) to get rows.
    """

    name: str
    columns: dict[str, Column]
    sources: tuple[str, ...]

    @property
    def fields(self) -> dict[str, np.dtype]:
        """Field name -> dtype (the store schema's fields)."""
        return {name: c.dtype for name, c in self.columns.items()}

    def spec(self, elements: list[str]) -> TableSpec:
        """The store schema of this table for ``elements``."""
        return TableSpec(list(elements), self.fields)

    def values(self, inputs: Inputs) -> dict[str, Any] | None:
        """This step's values, or None: a source missing, or no elements (written empty)."""
        if any(inputs[s] is None for s in self.sources):
            return None
        out = {name: c.value(inputs) for name, c in self.columns.items()}
        empty = any(isinstance(v, np.ndarray) and v.size == 0 for v in out.values())
        return None if empty else out


def dataclass_columns(
    cls: type, source: str, prefix: str = "", dtypes: Mapping[str, np.dtype] | None = None
) -> dict[str, Column]:
    """Columns for the fields of dataclass ``cls`` named ``prefix...`` (prefix dropped).

    ``dtypes`` gives a column's dtype by column name (default float64); the
    value is the field of input ``source``.
    """
    dtypes = dtypes or {}
    return {
        f.name.removeprefix(prefix): Column(
            dtypes.get(f.name.removeprefix(prefix), F8), attr(source, f.name)
        )
        for f in fields(cls)
        if f.name.startswith(prefix)
    }


def result_columns(table: str) -> dict[str, Column]:
    """Columns of ``table``'s per-element arrays in the ``result`` (a PowerFlowResult)."""
    return {col: Column(F8, attr("result", name)) for col, name in ELEMENT_COLUMNS[table].items()}


def given(name: str, default: Any = None) -> Callable[[Inputs], Any]:
    """Getter of input ``name`` as it is, ``default`` when absent."""

    def get(inputs: Inputs) -> Any:
        value = inputs[name]
        return default if value is None else value

    return get


def _energized(inputs: Inputs) -> np.ndarray:
    r: PowerFlowResult = inputs["result"]
    live = r.bus_energized
    return live if r.converged else np.full(live.size, np.nan)  # unknown, not dead


def _masked(values: np.ndarray, live: np.ndarray, reduce: Callable[[np.ndarray], Any]) -> float:
    return float(reduce(values[live])) if live.any() else float("nan")


def _line_loading_max(r: PowerFlowResult) -> float:
    loading = r.line_loading_percent
    return float(np.nanmax(loading)) if np.isfinite(loading).any() else np.nan


def _deenergized(r: PowerFlowResult) -> float:
    live = r.bus_energized
    return int(live.size - live.sum()) if r.converged else np.nan


def _of_result(fn: Callable[[PowerFlowResult], Any]) -> Callable[[Inputs], Any]:
    return lambda inputs: fn(inputs["result"])


_GRID_COLUMNS: dict[str, Column] = {
    "converged": Column(B1, attr("result", "converged")),
    "losses_mw": Column(F8, attr("result", "losses_mw")),
    "load_p_mw": Column(F8, _of_result(lambda r: r.load_p_mw.sum())),
    "load_demand_p_mw": Column(F8, lambda inputs: inputs["load_demand_p_mw"].sum()),
    "sgen_p_mw": Column(F8, _of_result(lambda r: r.sgen_p_mw.sum())),
    "ext_grid_p_mw": Column(F8, _of_result(lambda r: r.ext_grid_p_mw.sum())),
    "ext_grid_q_mvar": Column(F8, _of_result(lambda r: r.ext_grid_q_mvar.sum())),
    "vm_min_pu": Column(F8, _of_result(lambda r: _masked(r.bus_vm_pu, r.bus_energized, np.min))),
    "vm_max_pu": Column(F8, _of_result(lambda r: _masked(r.bus_vm_pu, r.bus_energized, np.max))),
    "line_loading_max_percent": Column(F8, _of_result(_line_loading_max)),
    "deenergized_buses": Column(INT_OR_NULL, _of_result(_deenergized)),  # null: not converged
}

GRID_TABLES: dict[str, StepTable] = {
    "grid": StepTable("grid", _GRID_COLUMNS, ("result",)),
    "bus": StepTable(
        "bus",
        result_columns("bus") | {"energized": Column(BOOL_OR_NULL, _energized)},
        ("result",),
    ),
    "line": StepTable(
        "line",
        result_columns("line") | {"in_service": Column(B1, given("line_in_service"))},
        ("result",),
    ),
    "trafo": StepTable(
        "trafo",
        result_columns("trafo") | {"tap_pos": Column(I8, given("trafo_tap_pos"))},
        ("result",),
    ),
    "load": StepTable(
        "load",
        result_columns("load") | {"demand_p_mw": Column(F8, given("load_demand_p_mw"))},
        ("result",),
    ),
    "sgen": StepTable(
        "sgen",
        result_columns("sgen")
        | {"available_p_mw": Column(F8, given("sgen_available_p_mw", np.nan))},
        ("result",),
    ),
    "storage": StepTable("storage", result_columns("storage"), ("result",)),
}
"""The grid's per-step tables (``grid``: one row per step, element ``grid``); the
per-element fields are those of :class:`PowerFlowResult` (``ELEMENT_COLUMNS``)."""
