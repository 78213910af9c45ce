"""What a component declares besides its simulator: summary rows, InfluxDB mapping, dashboards.

The declaration types (pure data and small builders; this package imports
nothing heavy, so ``gridtwin show`` and ``--help`` read them without numpy,
pandas or mosaik). Each built-in automation function declares itself in a
module of this package (:mod:`gridtwin.declarations.estimation`, ...) that
:data:`DECLARATIONS` lists (re-exported by :mod:`gridtwin.registry`; it lives
here so that the light central modules need not import the registry's
component loader). The central modules gather them:
:mod:`gridtwin.report.summary` the summary rows, :mod:`gridtwin.report.html` the
report sections,
:mod:`gridtwin.recording.influx_schema` the InfluxDB mapping,
:mod:`gridtwin.dashboards.boards` the dashboards and panels. A user's
:class:`~gridtwin.controllers.function.AutomationFunction` declares the same
kinds of things as class attributes; its summary rows travel in the run's
``kpis.json`` (key :data:`SUMMARY_KEY`), so ``gridtwin show`` prints them
without importing the user's module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

__all__ = [
    "DECLARATIONS",
    "SUMMARY_KEY",
    "TESTBED_SECTIONS",
    "BoardPart",
    "Declaration",
    "InfluxTable",
    "Kpis",
    "Row",
    "SummarySection",
    "declarations",
    "format_figure",
    "lookup",
    "taken_sections",
]

Kpis = dict[str, Any]

SUMMARY_KEY = "summary"
"""Key of ``kpis.json`` holding the summary sections a run's own functions declared."""

TESTBED_SECTIONS = ("run", "grid", "reliability", "realtime", "bus")
"""``kpis.json`` sections of the testbed itself (not of an automation function)."""

DECLARATIONS: list[str] = [
    "gridtwin.declarations.estimation:DECLARATION",
    "gridtwin.declarations.forecasting:DECLARATION",
    "gridtwin.declarations.reconfig:DECLARATION",
    "gridtwin.declarations.flisr:DECLARATION",
    "gridtwin.declarations.voltage:DECLARATION",
]
"""``module:NAME`` of each built-in function's :class:`Declaration`; light modules."""


def lookup(kpis: Kpis, dotted: str) -> Any:
    """``kpis["a"]["b"]`` for ``"a.b"``; None if any part is missing."""
    node: Any = kpis
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def format_figure(value: float | int | None, digits: int | None) -> str:
    """``n/a`` for an absent or NaN figure, else the value with ``digits`` decimals."""
    if value is None or value != value:
        return "n/a"
    if digits is None:
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    return f"{value:.{digits}f}"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the summary.

    Attributes
    ----------
    label : str
        What the row shows, e.g. ``"min bus voltage"``.
    keys : tuple of str
        Dotted ``kpis.json`` keys (``"grid.vm_min_pu"``), one per figure; a row
        with several figures shows them joined by `` / ``. A single key may be
        given as a string.
    unit : str
        Unit of the figures (``"pu"``, ``"MWh"``, ``""`` for counts and ratios).
    digits : int or None
        Decimals; None for integers shown as they are.
    scale : float
        Factor from the stored value to the shown one (100 for a share in %).
    """

    label: str
    keys: tuple[str, ...]
    unit: str = ""
    digits: int | None = None
    scale: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.keys, str):
            object.__setattr__(self, "keys", (self.keys,))

    def values(self, kpis: Kpis) -> list[float | int | None]:
        """The row's figures from ``kpis`` (None where absent), scaled."""
        out: list[float | int | None] = []
        for key in self.keys:
            value = lookup(kpis, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                out.append(None)
            elif self.scale != 1.0:
                out.append(value * self.scale)
            else:
                out.append(value)
        return out

    def text(self, kpis: Kpis) -> str:
        """The figures as shown, e.g. ``"0.9213"`` or ``"95 / 1"``."""
        return " / ".join(format_figure(v, self.digits) for v in self.values(kpis))

    def within(self, section: str) -> Row:
        """This row with every key not already dotted put under ``section``."""
        keys = tuple(k if "." in k else f"{section}.{k}" for k in self.keys)
        return Row(self.label, keys, self.unit, self.digits, self.scale)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (``kpis.json``)."""
        return {
            "label": self.label,
            "keys": list(self.keys),
            "unit": self.unit,
            "digits": self.digits,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """Inverse of :meth:`as_dict`."""
        return cls(
            str(data["label"]),
            tuple(str(k) for k in data["keys"]),
            str(data.get("unit", "")),
            None if data.get("digits") is None else int(data["digits"]),
            float(data.get("scale", 1.0)),
        )


@dataclass(frozen=True, slots=True)
class SummarySection:
    """A titled group of summary rows, shown when ``kpis.json`` has section ``section``.

    Attributes
    ----------
    title : str
        Shown in bold (``"state estimation"``).
    section : str or None
        The ``kpis.json`` section the rows read; None: always shown (``run``, ``grid``).
    rows : tuple of Row
        A row none of whose figures is present is left out (unless ``section`` is None).
    order : int
        Position among all sections (smaller first; the testbed's ``run`` is 0, ``grid`` 10).
    rows_for : callable, optional
        ``kpis -> rows`` for rows that depend on what the run has (one per
        forecast cadence), after ``rows``; kept as they come.
    """

    title: str
    section: str | None
    rows: tuple[Row, ...] = ()
    order: int = 100
    rows_for: Callable[[Kpis], tuple[Row, ...]] | None = None

    def shown(self, kpis: Kpis) -> tuple[Row, ...]:
        """The rows to show for ``kpis`` (empty when its section is absent)."""
        if self.section is not None and not kpis.get(self.section):
            return ()
        kept = tuple(
            r
            for r in self.rows
            if self.section is None or any(v is not None for v in r.values(kpis))
        )  # run and grid rows always: an absent figure there shows as n/a
        return kept + (self.rows_for(kpis) if self.rows_for is not None else ())

    def as_dict(self) -> dict[str, Any]:
        """JSON form (``kpis.json``; a section with ``rows_for`` cannot be stored)."""
        return {
            "title": self.title,
            "section": self.section,
            "order": self.order,
            "rows": [r.as_dict() for r in self.rows],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SummarySection:
        """Inverse of :meth:`as_dict`."""
        section = data.get("section")
        return cls(
            str(data["title"]),
            None if section is None else str(section),
            tuple(Row.from_dict(r) for r in data.get("rows", [])),
            int(data.get("order", 100)),
        )


@dataclass(frozen=True, slots=True)
class InfluxTable:
    """Where one Parquet table goes in InfluxDB.

    Attributes
    ----------
    measurement : str
        The measurement.
    kind : str, optional
        A constant ``kind`` tag (tables sharing a measurement).
    element_column : str or None
        The column whose value is the ``element`` tag.
    tag_columns : tuple of str
        Further columns written as tags.
    per_row : bool
        Free-form rows: a series may repeat at one time.
    empty_field : str
        Boolean field written on a row none of whose fields has a value.
    net_table : str, optional
        pandapower table whose feeders tag the elements.
    """

    measurement: str
    kind: str | None = None
    element_column: str | None = "element"
    tag_columns: tuple[str, ...] = ()
    per_row: bool = False
    empty_field: str = "all_nan"
    net_table: str | None = None


@dataclass(frozen=True, slots=True)
class BoardPart:
    """Panels a component adds to a shared dashboard.

    Attributes
    ----------
    board : str
        The dashboard's file stem (``"control"``).
    order : int
        Position of these panels among the board's (smaller first).
    panels : callable
        ``() -> list of panel dicts`` (Grafana JSON model, with their ``gridPos``).
    """

    board: str
    order: int
    panels: Callable[[], list[dict]]


@dataclass(frozen=True)
class Declaration:
    """Everything a component declares for the summary, InfluxDB and the dashboards.

    Attributes
    ----------
    name : str
        The component (``"estimation"``).
    summary : tuple of SummarySection
        Its summary sections.
    influx : dict
        Parquet table -> :class:`InfluxTable`, for the tables it records.
    boards : dict
        Dashboards it owns: file stem -> ``() -> dashboard dict``, with the
        position among the dashboards (``(order, builder)``).
    panels : tuple of BoardPart
        Panels it adds to dashboards others own.
    report : tuple of (int, str) or None
        Its section of the run report: the position among the report's function
        sections and ``module:function`` of the builder (``Context -> Section | None``,
        imported only when a report is built: it may import Bokeh).
    """

    name: str
    summary: tuple[SummarySection, ...] = ()
    influx: Mapping[str, InfluxTable] = field(default_factory=dict)
    boards: Mapping[str, tuple[int, Callable[[], dict]]] = field(default_factory=dict)
    panels: tuple[BoardPart, ...] = ()
    report: tuple[int, str] | None = None


@cache
def declarations() -> tuple[Declaration, ...]:
    """The built-in functions' declarations (:data:`DECLARATIONS`), loaded once."""
    out = []
    for path in DECLARATIONS:
        module, _, name = path.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return tuple(out)


def taken_sections() -> set[str]:
    """``kpis.json`` keys a user's function may not use as its name."""
    own = {s.section for d in declarations() for s in d.summary if s.section}
    return own | set(TESTBED_SECTIONS) | {SUMMARY_KEY}
