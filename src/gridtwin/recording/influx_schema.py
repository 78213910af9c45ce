"""How the run store's tables become InfluxDB points.

One measurement per kind, tags ``run_id``, ``scenario``, ``element`` (and
``feeder`` where the element sits on one), fields named as in Parquet:

=====================  ================  =========================================
Parquet table          measurement       further tags
=====================  ================  =========================================
``grid``               ``grid``          (element ``grid``)
``bus``                ``bus``           ``feeder``
``line``               ``line``          ``feeder``
``trafo``              ``trafo``         ``feeder=substation``
``load``/``sgen``      ``load``/``sgen`` ``feeder``
``storage``            ``storage``       ``feeder``
``switch``             ``switch``        ``feeder``
``events``             ``event``         ``type``; element = the event's target
``measurement``        ``measurement``   ``device``, ``quantity``
``estimate_bus``       ``estimate``      ``kind=bus``, ``feeder``
``estimate_line``      ``estimate``      ``kind=line``, ``feeder``
``estimation``         ``estimate``      ``kind=estimator``
``bad_data_removed``   ``estimate``      ``kind=bad_data_removed`` (field ``removed``)
``forecast``           ``forecast``      element = forecast target
``forecast_issues``    ``fc_issue``      ``cadence``; element = target, time = issued
``control``            ``control``       ``kind=der``, ``feeder`` (voltage control set-points)
``reconfig``           ``control``       ``kind=reconfig``
``reconfig_plans``     ``control``       ``kind=reconfig_plan``
any other table        its own name      –
``kpis.json``          ``kpi``           ``section``; one point at the end of the run
=====================  ================  =========================================

A feeder is the part of the grid behind one line leaving the substation
busbar (the transformers' low-voltage buses, or the external grid's bus,
joined by closed bus-bus switches) with the switches as they stand at the
start; feeders are named ``F1``, ``F2``, ... in the order of those lines.
The busbar and the transformers are ``substation``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridtwin.grid.topology import element_names
from gridtwin.recording.lineproto import encode, tag_prefixes

__all__ = [
    "TABLES",
    "Batch",
    "RunTags",
    "TableMap",
    "bus_feeders",
    "encode_table",
    "kpi_batch",
    "run_tags_from_net",
    "table_map",
]

_NOT_FIELDS = {"time", "sim_time_s"}


@dataclass(frozen=True, slots=True)
class TableMap:
    """Where one Parquet table goes: measurement, constant ``kind`` tag, tag columns."""

    measurement: str
    kind: str | None = None
    element_column: str | None = "element"
    tag_columns: tuple[str, ...] = ()
    per_row: bool = False  # free-form rows: a series may repeat at one time
    empty_field: str = "all_nan"
    net_table: str | None = None  # pandapower table whose feeders tag the elements


TABLES: dict[str, TableMap] = {
    "grid": TableMap("grid"),
    "bus": TableMap("bus", net_table="bus"),
    "line": TableMap("line", net_table="line"),
    "trafo": TableMap("trafo", net_table="trafo"),
    "load": TableMap("load", net_table="load"),
    "sgen": TableMap("sgen", net_table="sgen"),
    "storage": TableMap("storage", net_table="storage"),
    "switch": TableMap("switch", per_row=True, net_table="switch"),
    "events": TableMap("event", element_column="target", tag_columns=("type",), per_row=True),
    "measurement": TableMap("measurement"),
    "estimate_bus": TableMap("estimate", kind="bus", net_table="bus"),
    "estimate_line": TableMap("estimate", kind="line", net_table="line"),
    "estimation": TableMap("estimate", kind="estimator"),
    "bad_data_removed": TableMap(
        "estimate", kind="bad_data_removed", per_row=True, empty_field="removed"
    ),
    "forecast": TableMap("forecast"),
    "forecast_issues": TableMap("fc_issue", tag_columns=("cadence",), per_row=True),
    "control": TableMap("control", kind="der", net_table="sgen"),
    "reconfig": TableMap("control", kind="reconfig"),
    "reconfig_plans": TableMap("control", kind="reconfig_plan", element_column=None, per_row=True),
}
"""The Parquet tables gridtwin writes and their measurements."""


def table_map(table: str) -> TableMap:
    """The mapping of ``table``; a table not listed keeps its name as measurement."""
    return TABLES.get(table) or TableMap(table, per_row=True)


@dataclass(slots=True)
class Batch:
    """Encoded lines, ready to write: payload, precision and points per measurement."""

    payload: bytes
    precision: str
    points: dict[str, int]

    @property
    def n_points(self) -> int:
        """All points in the batch."""
        return sum(self.points.values())


@dataclass(slots=True)
class RunTags:
    """The tags of one run: common tags and extra tags per net table and element name."""

    run_id: str
    scenario: str
    element_tags: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def common(self, kind: str | None) -> dict[str, str]:
        """``run_id``, ``scenario`` and ``kind`` if given."""
        tags = {"run_id": self.run_id, "scenario": self.scenario}
        if kind:
            tags["kind"] = kind
        return tags

    def extra(self, tmap: TableMap, name: str) -> dict[str, str]:
        """Further tags of element ``name`` (feeder, device, quantity)."""
        if tmap.measurement == "measurement":
            parts = name.split(":")
            return {"device": parts[0], "quantity": parts[1]} if len(parts) >= 3 else {}
        if tmap.net_table is None:
            return {}
        return self.element_tags.get(tmap.net_table, {}).get(name, {})


def bus_feeders(net: pp.pandapowerNet) -> dict[int, str]:
    """Feeder name per bus index (``F1``, ... or ``substation``); buses on none are left out."""
    pos = {b: i for i, b in enumerate(net.bus.index)}
    n = len(pos)
    sources = set(net.trafo.lv_bus) if len(net.trafo) else set(net.ext_grid.bus)
    sw = net.switch
    open_line_ends = set(sw.element[(sw.et == "l") & ~sw.closed.astype(bool)])
    couplers = sw[(sw.et == "b") & sw.closed.astype(bool)]
    coupled = np.array(
        [[pos[a], pos[b]] for a, b in zip(couplers.bus, couplers.element, strict=True)]
    )
    busbar = {pos[b] for b in sources if b in pos}
    grow = True
    while grow and len(coupled):
        grow = False
        for a, b in coupled:
            if (a in busbar) != (b in busbar):
                busbar |= {a, b}
                grow = True
    lines = net.line[net.line.in_service.astype(bool) & ~net.line.index.isin(open_line_ends)]
    edges = [
        (pos[f], pos[t], i)
        for i, f, t in zip(lines.index, lines.from_bus, lines.to_bus, strict=True)
    ]
    edges += [(a, b, -1) for a, b in coupled]
    inner = [(a, b) for a, b, _ in edges if a not in busbar and b not in busbar]
    rows = np.array([a for a, _ in inner] + list(range(n)), dtype=np.int64)
    cols = np.array([b for _, b in inner] + list(range(n)), dtype=np.int64)
    _, label = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)))
    heads: dict[int, int] = {}
    for a, b, line in sorted(edges, key=lambda e: (e[2] < 0, e[2])):
        if (a in busbar) != (b in busbar) and line >= 0:
            comp = label[b if a in busbar else a]
            heads.setdefault(int(comp), line)
    names = {comp: f"F{k + 1}" for k, comp in enumerate(sorted(heads, key=heads.__getitem__))}
    index = list(net.bus.index)
    out = {index[i]: "substation" for i in busbar}
    for i in range(n):
        if i not in busbar and int(label[i]) in names:
            out[index[i]] = names[int(label[i])]
    return out


def run_tags_from_net(run_id: str, scenario: str, net: pp.pandapowerNet | None) -> RunTags:
    """The run's tags, with feeders per element when the net is known."""
    tags = RunTags(run_id, scenario)
    if net is None:
        return tags
    feeders = bus_feeders(net)

    def by_bus(table: str, column: str) -> dict[str, dict[str, str]]:
        frame = net[table]
        names = element_names(net, table)
        return {
            name: {"feeder": feeders[b]}
            for name, b in zip(names, frame[column], strict=True)
            if b in feeders
        }

    tags.element_tags = {
        "bus": {
            name: {"feeder": feeders[b]}
            for name, b in zip(element_names(net, "bus"), net.bus.index, strict=True)
            if b in feeders
        },
        "trafo": {name: {"feeder": "substation"} for name in element_names(net, "trafo")},
        "switch": by_bus("switch", "bus"),
        "load": by_bus("load", "bus"),
        "sgen": by_bus("sgen", "bus"),
        "storage": by_bus("storage", "bus"),
    }
    line = net.line
    to_feeder = [feeders.get(t) for t in line.to_bus]
    from_feeder = [feeders.get(f) for f in line.from_bus]
    tags.element_tags["line"] = {
        name: {"feeder": feeder}
        for name, a, b in zip(element_names(net, "line"), to_feeder, from_feeder, strict=True)
        if (feeder := _line_feeder(a, b)) is not None
    }
    return tags


def _line_feeder(to_feeder: str | None, from_feeder: str | None) -> str | None:
    """A line's feeder: its to-bus's, unless that is none or the substation; else its
    from-bus's, else the to-bus's (``substation``); None when neither bus has one."""
    if to_feeder not in (None, "substation"):
        return to_feeder
    return from_feeder or to_feeder


def _rows_to_strings(table: pa.Table) -> pa.Table:
    """Nested columns (lists, structs) as JSON text; free-form rows only."""
    for i, col in enumerate(table.columns):
        if pa.types.is_nested(col.type):
            text = [None if v is None else json.dumps(v, sort_keys=True) for v in col.to_pylist()]
            table = table.set_column(i, table.field(i).name, pa.array(text, pa.string()))
    return table


def encode_table(
    table_name: str,
    table: pa.Table,
    run: RunTags,
    *,
    time_ns: np.ndarray | None = None,
) -> Batch:
    """Encode rows of the Parquet table ``table_name`` as one batch of line protocol.

    Parameters
    ----------
    table_name : str
        The Parquet table (``bus``, ``events``, ...), see :data:`TABLES`.
    table : pyarrow.Table
        Its rows: ``time``, ``sim_time_s``, element column, fields.
    run : RunTags
        The run's tags.
    time_ns : numpy.ndarray, optional
        Wall-clock timestamps [ns] per row (real-time mode) instead of ``time``.
    """
    tmap = table_map(table_name)
    if tmap.per_row:
        table = _rows_to_strings(table)
    if table_name == "events":
        text = pc.binary_join_element_wise(
            pc.cast(table.column("type"), pa.string()),
            pc.cast(table.column("target"), pa.string()),
            pc.cast(table.column("params"), pa.string()),
            " ",
        )
        table = table.append_column("text", text)
    key_cols = [c for c in (tmap.element_column, *tmap.tag_columns) if c]
    fields = [c for c in table.column_names if c not in _NOT_FIELDS and c not in key_cols]
    if time_ns is not None and "sim_time_s" in table.column_names:
        fields.append("sim_time_s")
    common = run.common(tmap.kind)
    if tmap.element_column and tmap.element_column in table.column_names and not tmap.tag_columns:
        column = table.column(tmap.element_column).combine_chunks()
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(pc.cast(column, pa.string()))
        names = [str(v) for v in column.dictionary.to_pylist()]
        index = column.indices
        prefixes = tag_prefixes(
            tmap.measurement, common, names, [run.extra(tmap, n) for n in names]
        )
    else:
        n = table.num_rows
        el_col = tmap.element_column if tmap.element_column in table.column_names else None
        tag_cols = [c for c in tmap.tag_columns if c in table.column_names]
        els = [str(v) for v in table.column(el_col).to_pylist()] if el_col else [table_name] * n
        tag_values = [[str(v) for v in table.column(c).to_pylist()] for c in tag_cols]
        keys = list(zip(els, *tag_values, strict=True))
        unique = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        index = pa.array([unique[k] for k in keys], pa.int32())
        names = [k[0] for k in unique]
        extra = [run.extra(tmap, k[0]) | dict(zip(tag_cols, k[1:], strict=True)) for k in unique]
        prefixes = tag_prefixes(tmap.measurement, common, names, extra)
    payload, precision = encode(
        table,
        pa.array(prefixes, pa.string()),
        index,
        fields,
        time_ns=time_ns,
        empty_field=tmap.empty_field,
        per_row=tmap.per_row,
    )
    return Batch(payload, precision, {tmap.measurement: table.num_rows})


def kpi_batch(kpis: Mapping[str, Any], run: RunTags, end_s: int) -> Batch:
    """The run's ``kpis.json`` as ``kpi`` points, one per section, at ``end_s`` [s since epoch]."""
    lines = []
    for section, values in kpis.items():
        if not isinstance(values, Mapping):
            continue
        row: dict[str, Any] = {}
        for k, v in values.items():  # numbers as floats: a KPI's type never changes between runs
            if isinstance(v, bool):
                row[k] = v
            elif isinstance(v, int | float) and np.isfinite(v):
                row[k] = float(v)
        if not row:
            continue
        table = pa.table({"time": pa.array([end_s], pa.int64()).cast(pa.timestamp("s", "UTC"))})
        for k, v in row.items():
            table = table.append_column(k, pa.array([v]))
        prefix = tag_prefixes("kpi", run.common(None) | {"section": section}, [section], [{}])
        payload, _ = encode(table, pa.array(prefix), pa.array([0], pa.int32()), list(row))
        lines.append(payload)
    return Batch(b"".join(lines), "s", {"kpi": len(lines)})
