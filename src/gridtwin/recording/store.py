"""The embedded run store: Parquet datasets written as the run goes.

Each table is a folder ``<table>.parquet/`` of part files
(``part-00000.parquet``, ...), one per flush, so a run stopped halfway leaves
every flushed step readable. ``pandas.read_parquet(run_dir / "bus.parquet")``
reads a whole table in one call.

Long format, one row per element and step: ``time`` (UTC), ``sim_time_s``,
``element`` (name), then the fields with units in their names.

A value can be unknown (a step whose power flow did not converge): floats
are then NaN, and the fields declared :data:`BOOL_OR_NULL` or
:data:`INT_OR_NULL` are written as Arrow booleans or integers with a null.

Every table the store knows of is present after :meth:`ParquetStore.close`,
with an empty part carrying its schema when nothing was recorded: the
per-step tables it was given, and the free-form tables announced with
``append_rows(name, [])`` whose schema is in :data:`ROW_SCHEMAS`. Free-form
rows are written with that schema, so ``time`` is ``timestamp[ms, UTC]`` and
``element`` a dictionary (pandas: category) in every table.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "BOOL_OR_NULL",
    "INT_OR_NULL",
    "ROW_SCHEMAS",
    "ParquetStore",
    "TableSpec",
    "arrow_column",
    "columns_table",
    "new_run_id",
]

BOOL_OR_NULL = np.dtype("f2")
"""A boolean field that may be unknown: buffered as 1.0 / 0.0 / NaN, written as bool or null."""

INT_OR_NULL = np.dtype("f4")
"""A count that may be unknown: buffered as float (exact below 2**24), written as int64 or null."""


def arrow_column(values: np.ndarray) -> pa.Array:
    """One field's values as an Arrow array (NaN of a nullable field becomes null)."""
    if values.dtype == BOOL_OR_NULL:
        return pa.array(values == 1, mask=np.isnan(values))
    if values.dtype == INT_OR_NULL:
        unknown = np.isnan(values)
        return pa.array(np.where(unknown, 0, values).astype(np.int64), mask=unknown)
    return pa.array(values)


TIME = pa.timestamp("ms", "UTC")
ELEMENT = pa.dictionary(pa.int32(), pa.string())
ROW_SCHEMAS: dict[str, pa.Schema] = {
    "switch": pa.schema(
        [("time", TIME), ("sim_time_s", pa.int64()), ("element", ELEMENT), ("closed", pa.bool_())]
    ),
    "events": pa.schema(
        [
            ("time", TIME),
            ("sim_time_s", pa.int64()),
            ("type", pa.string()),
            ("target", pa.string()),
            ("params", pa.string()),
        ]
    ),
    "bad_data_removed": pa.schema(
        [("time", TIME), ("sim_time_s", pa.int64()), ("element", ELEMENT)]
    ),
    "timing": pa.schema(  # gridtwin.pacing: one row per simulator and step, and element "step"
        [
            ("time", TIME),
            ("sim_time_s", pa.int64()),
            ("element", ELEMENT),
            ("wall_start_unix_ns", pa.int64()),
            ("lateness_ms", pa.float64()),
            ("compute_ms", pa.float64()),
            ("skipped", pa.bool_()),
        ]
    ),
    "command": pa.schema(  # simulators.channel.CommandRecord, at the command's issue time
        [
            ("time", TIME),
            ("sim_time_s", pa.int64()),
            ("command_id", pa.int64()),
            ("source", pa.string()),
            ("target", pa.string()),
            ("n_elements", pa.int64()),
            ("local", pa.bool_()),
            ("issued_s", pa.int64()),
            ("arrival_s", pa.int64()),
            ("status", pa.string()),
        ]
    ),
    "flisr_incidents": pa.schema(  # FLISR's incidents as the run ended (times in s)
        [
            ("time", TIME),
            ("sim_time_s", pa.int64()),
            ("lines", pa.string()),
            ("breakers", pa.string()),
            ("isolation", pa.int64()),
            ("reclosed", pa.int64()),
            ("ties", pa.int64()),
            ("restored_s", pa.int64()),
            ("returned_s", pa.int64()),
        ]
    ),
    "command_rejected": pa.schema(  # commands from outside gridtwin that were refused
        [
            ("time", TIME),
            ("sim_time_s", pa.int64()),
            ("source", pa.string()),
            ("reason", pa.string()),
            ("detail", pa.string()),
            ("command", pa.string()),
            ("topic", pa.string()),
            ("received", TIME),
        ]
    ),
}
"""Schemas of the free-form tables: their rows are written with them, and an
announced table without rows is written empty with its schema."""


ROWS_PER_PART = 20_000
"""Free-form rows given as columns that are written as a part once this many wait."""


@dataclass(slots=True)
class TableSpec:
    """A per-step, per-element table: element names and field dtypes."""

    elements: list[str]
    fields: dict[str, np.dtype]


@dataclass(slots=True)
class _Buffer:
    spec: TableSpec
    capacity: int
    times: np.ndarray = field(init=False)
    data: dict[str, np.ndarray] = field(init=False)
    n: int = 0

    def __post_init__(self) -> None:
        self.times = np.zeros(self.capacity, dtype=np.int64)
        n_el = len(self.spec.elements)
        self.data = {
            name: np.zeros((self.capacity, n_el), dtype=dtype)
            for name, dtype in self.spec.fields.items()
        }


class ParquetStore:
    """Buffers per-step arrays and writes them as Parquet parts.

    Parameters
    ----------
    run_dir : Path
        The run directory.
    start : datetime
        The scenario's start; ``time`` = start + ``sim_time_s``.
    tables : dict
        ``name -> TableSpec`` for per-step tables (one row per element).
    flush_every_steps : int
        Steps buffered before a part is written.
    """

    def __init__(
        self, run_dir: Path, start: datetime, tables: dict[str, TableSpec], flush_every_steps: int
    ) -> None:
        self.run_dir = Path(run_dir)
        self.start_s = int(start.timestamp())
        self.flush_every = flush_every_steps
        self._buffers = {name: _Buffer(spec, flush_every_steps) for name, spec in tables.items()}
        self._rows: dict[str, list[Any]] = {}  # dicts, or Arrow tables of columns
        self._parts: dict[str, int] = {}
        self.rows_written: dict[str, int] = {}

    def append(self, table: str, sim_time_s: int, values: Mapping[str, Any]) -> None:
        """Add one step of ``table``; writes a part when the buffer is full."""
        buf = self._buffers[table]
        buf.times[buf.n] = sim_time_s
        for name, arr in buf.data.items():
            arr[buf.n] = values[name]
        buf.n += 1
        if buf.n == buf.capacity:
            self._flush_table(table)

    def append_rows(self, table: str, rows: list[dict]) -> None:
        """Add free-form rows (events, switch changes); written at the next flush.

        ``append_rows(table, [])`` announces a table: :meth:`close` writes it
        empty with its schema (:data:`ROW_SCHEMAS`) if no row ever comes.
        """
        self._rows.setdefault(table, []).extend(rows)

    def append_columns(self, table: str, columns: dict[str, Any]) -> None:
        """Add free-form rows given as columns (arrays of equal length), ``time`` as
        ``timestamp[ms, UTC]`` and ``element`` as a dictionary; written at the next flush,
        or as a part of their own once :data:`ROWS_PER_PART` rows are waiting (one
        schema for every part: the columns' types do not depend on the values)."""
        rows = self._rows.setdefault(table, [])
        rows.append(columns_table(columns))
        if sum(r.num_rows for r in rows if isinstance(r, pa.Table)) >= ROWS_PER_PART:
            self._write(table, _rows_table(table, rows))
            rows.clear()

    def flush(self) -> None:
        """Write everything buffered."""
        for table in self._buffers:
            self._flush_table(table)
        for table, rows in self._rows.items():
            if rows:
                self._write(table, _rows_table(table, rows))
                rows.clear()

    def close(self) -> None:
        """Write everything buffered, then an empty part for every table still without one."""
        self.flush()
        for table, buf in self._buffers.items():
            if table not in self._parts:
                self._write(table, self._empty_step_table(buf.spec))
        for table in self._rows:
            if table not in self._parts and table in ROW_SCHEMAS:
                self._write(table, ROW_SCHEMAS[table].empty_table())

    @staticmethod
    def _empty_step_table(spec: TableSpec) -> pa.Table:
        fields = [("time", pa.timestamp("s", "UTC")), ("sim_time_s", pa.int64())]
        fields.append(("element", ELEMENT))
        fields += [(name, _arrow_type(dtype)) for name, dtype in spec.fields.items()]
        return pa.schema(fields).empty_table()

    def _flush_table(self, table: str) -> None:
        buf = self._buffers[table]
        if buf.n == 0:
            return
        n, n_el = buf.n, len(buf.spec.elements)
        times = np.repeat(buf.times[:n], n_el)
        columns = {
            "time": pa.array(
                (times + self.start_s).astype("datetime64[s]"), pa.timestamp("s", "UTC")
            ),
            "sim_time_s": pa.array(times),
            "element": pa.DictionaryArray.from_arrays(
                pa.array(np.tile(np.arange(n_el, dtype=np.int32), n)),
                pa.array(buf.spec.elements, pa.string()),
            ),
        }
        for name, arr in buf.data.items():
            columns[name] = arrow_column(arr[:n].reshape(-1))
        self._write(table, pa.table(columns))
        buf.n = 0

    def _write(self, table: str, data: pa.Table) -> None:
        folder = self.run_dir / f"{table}.parquet"
        folder.mkdir(parents=True, exist_ok=True)
        part = self._parts.get(table, 0)
        tmp = folder / f".part-{part:05d}.parquet.tmp"
        pq.write_table(data, tmp, compression="snappy")
        tmp.rename(folder / f"part-{part:05d}.parquet")  # atomic: readers never see half a part
        self._parts[table] = part + 1
        self.rows_written[table] = self.rows_written.get(table, 0) + data.num_rows


def _arrow_type(dtype: np.dtype) -> pa.DataType:
    """The Arrow type a field of ``dtype`` is written with (nullable bool and int included)."""
    if dtype == BOOL_OR_NULL:
        return pa.bool_()
    if dtype == INT_OR_NULL:
        return pa.int64()
    return pa.from_numpy_dtype(dtype)


def _rows_table(table: str, rows: list[Any]) -> pa.Table:
    """Free-form rows as Arrow: with the table's schema if it has one, else inferred with
    ``time`` as ``timestamp[ms, UTC]`` and ``element`` as a dictionary, like every table.
    Rows given as columns (:meth:`ParquetStore.append_columns`) come as Arrow tables."""
    chunks = [r for r in rows if isinstance(r, pa.Table)]
    dicts = [r for r in rows if not isinstance(r, pa.Table)]
    if dicts:
        if table in ROW_SCHEMAS:
            chunks.append(pa.Table.from_pylist(dicts, schema=ROW_SCHEMAS[table]))
        else:
            chunks.append(_typed(pa.Table.from_pylist(dicts)))
    return chunks[0] if len(chunks) == 1 else pa.concat_tables(chunks, promote_options="default")


def _typed(data: pa.Table) -> pa.Table:
    for name, kind in (("time", TIME), ("element", ELEMENT)):
        if name in data.column_names:
            i = data.column_names.index(name)
            data = data.set_column(i, name, data.column(name).cast(kind))
    return data


def columns_table(columns: Mapping[str, Any]) -> pa.Table:
    """Columns as Arrow; ``time`` (datetime64, UTC) as ``timestamp[ms, UTC]``."""
    arrays = {
        key: (
            pa.array(np.asarray(value, "datetime64[ms]").astype(np.int64), type=TIME)
            if key == "time"
            else pa.array(value)
        )
        for key, value in columns.items()
    }
    return _typed(pa.table(arrays))


def new_run_id(run_dir: Path) -> str:
    """A run id unique per run: the run directory's name and a random suffix.

    Two runs written to the same ``--out`` name get different ids, so they
    never mix in InfluxDB; ``kpis.json`` keeps it as ``run.run_id``.
    """
    return f"{Path(run_dir).name}-{secrets.token_hex(3)}"
