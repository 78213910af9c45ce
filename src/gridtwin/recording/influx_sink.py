"""The InfluxDB sink: a second consumer of what the recorder writes to the run store.

::

    Recorder ──append / append_rows──► StoreFanout ──► ParquetStore (primary, complete)
                                            └────────► InfluxSink ──batches──► InfluxWriter

The sink keeps its own small buffers of the per-step arrays (the Parquet
store flushes every ``flush_every_steps``; the sink sends every
``batch_points`` points or every ``max_delay_s`` of wall time, whichever
comes first, so Grafana follows a running simulation), encodes them in bulk
(:mod:`gridtwin.recording.lineproto`) and hands the batches to the
background writer. The simulation never waits on the network.

Timestamps: simulated time (``time.start`` + ``sim_time_s``, seconds), or in
real-time mode the wall-clock time at which the recorder saw the step
(nanoseconds, with ``sim_time_s`` as an extra field).
"""

from __future__ import annotations

import logging
import time as wallclock
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from gridtwin.recording.influx_schema import Batch, RunTags, encode_table, kpi_batch
from gridtwin.recording.influx_writer import InfluxWriter, WriteStats
from gridtwin.recording.store import ParquetStore, TableSpec, arrow_column, columns_table

__all__ = ["InfluxSink", "StoreFanout"]

log = logging.getLogger("gridtwin.influx")


@dataclass(slots=True)
class _StepBuffer:
    spec: TableSpec
    capacity: int
    times: np.ndarray = field(init=False)
    wall_ns: np.ndarray = field(init=False)
    data: dict[str, np.ndarray] = field(init=False)
    n: int = 0

    def __post_init__(self) -> None:
        self.times = np.zeros(self.capacity, dtype=np.int64)
        self.wall_ns = np.zeros(self.capacity, dtype=np.int64)
        width = len(self.spec.elements)
        self.data = {
            name: np.zeros((self.capacity, width), dtype=dtype)
            for name, dtype in self.spec.fields.items()
        }


class InfluxSink:
    """Buffers the recorder's per-step arrays and rows, encodes them, queues them to the writer.

    Parameters
    ----------
    writer : InfluxWriter
        The background writer.
    run : RunTags
        Run id, scenario and per-element tags.
    start_s : int
        The scenario's start [s since the epoch].
    tables : dict
        ``name -> TableSpec`` of the per-step tables (as for the ParquetStore).
    batch_points : int
        Points per batch (per table).
    max_delay_s : float
        Longest wall time data waits in the sink's buffers [s].
    real_time : bool
        Stamp points with wall-clock time instead of simulated time.
    """

    def __init__(
        self,
        writer: InfluxWriter,
        run: RunTags,
        start_s: int,
        tables: Mapping[str, TableSpec],
        *,
        batch_points: int = 50_000,
        max_delay_s: float = 1.0,
        real_time: bool = False,
    ) -> None:
        self.writer = writer
        self.run = run
        self.start_s = int(start_s)
        self.real_time = real_time
        self.max_delay_s = max_delay_s
        self._buffers = {
            name: _StepBuffer(spec, max(1, batch_points // max(1, len(spec.elements))))
            for name, spec in tables.items()
        }
        self._rows: dict[str, list[Any]] = {}  # dicts, or Arrow tables of columns
        self._last_send = wallclock.monotonic()
        self._wall_of_step: tuple[int, int] = (-1, 0)
        self.queued: dict[str, int] = {}  # points handed to the writer, per measurement

    def _wall_ns(self, sim_time_s: int) -> int:
        if self._wall_of_step[0] != sim_time_s:
            self._wall_of_step = (sim_time_s, wallclock.time_ns())
        return self._wall_of_step[1]

    def append(self, table: str, sim_time_s: int, values: Mapping[str, Any]) -> None:
        """Add one step of a per-step table (the ParquetStore's ``append``)."""
        buf = self._buffers[table]
        buf.times[buf.n] = sim_time_s
        if self.real_time:
            buf.wall_ns[buf.n] = self._wall_ns(sim_time_s)
        for name, arr in buf.data.items():
            arr[buf.n] = values[name]
        buf.n += 1
        if buf.n == buf.capacity:
            self._send_table(table)
        if wallclock.monotonic() - self._last_send >= self.max_delay_s:
            self.flush()

    def append_rows(self, table: str, rows: list[dict]) -> None:
        """Add free-form rows (events, switch changes, ...)."""
        if rows:
            if self.real_time:
                rows = [r | {"_wall_ns": self._wall_ns(int(r["sim_time_s"]))} for r in rows]
            self._rows.setdefault(table, []).extend(rows)

    def append_columns(self, table: str, columns: Mapping[str, Any]) -> None:
        """Add free-form rows given as columns (the ParquetStore's ``append_columns``)."""
        data = columns_table(columns)
        if self.real_time and data.num_rows:  # rows of one call come at one wall time
            wall = np.full(data.num_rows, wallclock.time_ns(), dtype=np.int64)
            data = data.append_column("_wall_ns", pa.array(wall))
        self._rows.setdefault(table, []).append(data)

    def flush(self) -> None:
        """Encode and queue everything buffered."""
        for table in self._buffers:
            self._send_table(table)
        for table, rows in self._rows.items():
            if rows:
                data = _rows_arrow(rows)
                wall = None
                if "_wall_ns" in data.column_names:
                    wall = data.column("_wall_ns").to_numpy()
                    data = data.drop_columns(["_wall_ns"])
                self._queue(encode_table(table, data, self.run, time_ns=wall))
                rows.clear()
        self._last_send = wallclock.monotonic()

    def _send_table(self, table: str) -> None:
        buf = self._buffers[table]
        if buf.n == 0:
            return
        n, width = buf.n, len(buf.spec.elements)
        times = np.repeat(buf.times[:n], width) + self.start_s
        columns: dict[str, Any] = {
            "time": pa.array(times.astype("datetime64[s]"), pa.timestamp("s", "UTC")),
            "sim_time_s": pa.array(times - self.start_s),
            "element": pa.DictionaryArray.from_arrays(
                pa.array(np.tile(np.arange(width, dtype=np.int32), n)),
                pa.array(buf.spec.elements, pa.string()),
            ),
        }
        for name, arr in buf.data.items():
            columns[name] = arrow_column(arr[:n].reshape(-1))
        wall = np.repeat(buf.wall_ns[:n], width) if self.real_time else None
        self._queue(encode_table(table, pa.table(columns), self.run, time_ns=wall))
        buf.n = 0

    def _queue(self, batch: Batch) -> None:
        for name, count in batch.points.items():
            self.queued[name] = self.queued.get(name, 0) + count
        self.writer.put(batch)

    def close(
        self,
        kpis: Mapping[str, Any] | None = None,
        end_s: int | None = None,
        *,
        drain_timeout_s: float = 30.0,
    ) -> WriteStats:
        """Flush, add the KPIs as ``kpi`` points, wait for the writer up to ``drain_timeout_s``."""
        self.flush()
        if kpis:
            stamp = end_s if end_s is not None else self.start_s
            self._queue(kpi_batch(kpis, self.run, stamp))
        return self.writer.close(drain_timeout_s)


def _rows_arrow(rows: list[Any]) -> pa.Table:
    """Buffered free-form rows (dicts, or Arrow tables of columns) as one Arrow table."""
    chunks = [r for r in rows if isinstance(r, pa.Table)]
    dicts = [r for r in rows if not isinstance(r, pa.Table)]
    if dicts:
        chunks.append(pa.Table.from_pylist(dicts))
    return chunks[0] if len(chunks) == 1 else pa.concat_tables(chunks, promote_options="default")


class StoreFanout:
    """Looks like a :class:`ParquetStore` to the recorder; feeds the store, then the sink.

    The Parquet store stays the primary store: it gets every call first, and a
    failing sink is logged and switched off (``sink_error``) without touching it.
    """

    def __init__(self, store: ParquetStore, sink: InfluxSink) -> None:
        self.store = store
        self.sink: InfluxSink | None = sink
        self.sink_error = ""

    @property
    def rows_written(self) -> dict[str, int]:
        """Rows the Parquet store wrote, per table."""
        return self.store.rows_written

    def _to_sink(self, method: str, *args: Any) -> None:
        if self.sink is None:
            return
        try:
            getattr(self.sink, method)(*args)
        except Exception as exc:  # the run and its Parquet store go on
            log.exception("InfluxDB sink failed; recording to Parquet only from here")
            self.sink_error = f"{type(exc).__name__}: {exc}"
            self.sink = None

    def append(self, table: str, sim_time_s: int, values: Mapping[str, Any]) -> None:
        """Both stores' ``append``."""
        self.store.append(table, sim_time_s, values)
        self._to_sink("append", table, sim_time_s, values)

    def append_rows(self, table: str, rows: list[dict]) -> None:
        """Both stores' ``append_rows``."""
        self.store.append_rows(table, rows)
        self._to_sink("append_rows", table, rows)

    def append_columns(self, table: str, columns: Mapping[str, Any]) -> None:
        """Both stores' ``append_columns``."""
        self.store.append_columns(table, dict(columns))
        self._to_sink("append_columns", table, columns)

    def flush(self) -> None:
        """Flush both."""
        self.store.flush()
        self._to_sink("flush")

    close = flush
