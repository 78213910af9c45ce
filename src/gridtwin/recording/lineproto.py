"""InfluxDB line protocol, encoded in bulk from Arrow tables.

One line per row::

    bus,run_id=r1,scenario=s,element=Bus\\ 3,feeder=F1 vm_pu=1.01,energized=true 1466463600

The whole table is encoded with Arrow compute kernels (number formatting,
element-wise string joins), never a Python loop per value: the tag part of a
line is built once per element and taken by index, each field becomes a
``name=value`` column, and the columns are joined with nulls skipped.

- Floats use the shortest representation that reads back to the same double.
  InfluxDB has no NaN or infinity: a non-finite value leaves its field out
  (reads as missing), and a row with no field left gets ``<empty_field>=true``
  so that every row stays a point.
- Integers carry the ``i`` suffix, booleans are ``true``/``false``, strings
  are quoted with ``"`` and ``\\`` escaped.
- Tag keys and values escape ``,``, ``=``, space and ``\\``.

Timestamps are whole seconds (``precision=s``), or nanoseconds where rows of a
free-form table may repeat a series at one time: the n-th repeat then lands n
nanoseconds later, so that InfluxDB (which keeps one point per series and
timestamp) keeps every row.

References
----------
.. [1] InfluxDB 1.x line protocol reference,
   https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["encode", "escape_tag", "tag_prefixes"]

_EMPTY = pa.scalar("", pa.string())


def escape_tag(value: str) -> str:
    """Escape a tag key or value (or a measurement name) for line protocol."""
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace("=", "\\=")
        .replace(" ", "\\ ")
        .replace("\n", "\\n")
    )


def _escape_tag_array(values: pa.Array) -> pa.Array:
    values = pc.cast(values, pa.string())
    for old, new in (("\\", "\\\\"), (",", "\\,"), ("=", "\\="), (" ", "\\ "), ("\n", "\\n")):
        values = pc.replace_substring(values, old, new)
    return pc.if_else(pc.equal(values, ""), "-", values)


def tag_prefixes(
    measurement: str, common: Mapping[str, str], elements: Sequence[str], extra: Sequence[dict]
) -> list[str]:
    """The measurement-and-tags part of a line, one per element, ending in a space.

    Parameters
    ----------
    measurement : str
        The measurement name.
    common : mapping
        Tags every line carries (``run_id``, ``scenario``, ``kind``).
    elements : sequence of str
        Element names (the ``element`` tag).
    extra : sequence of dict
        Further tags per element (``feeder``, ...), same length as ``elements``.
    """
    head = escape_tag(measurement) + "".join(
        f",{escape_tag(k)}={escape_tag(v)}" for k, v in common.items()
    )
    out = []
    for name, tags in zip(elements, extra, strict=True):
        more = "".join(
            f",{escape_tag(k)}={escape_tag(v)}" for k, v in tags.items() if v not in (None, "")
        )
        out.append(f"{head},element={escape_tag(name) or '-'}{more} ")
    return out


def _field(name: str, column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """``,name=value`` per row, ``""`` where the value is missing or not finite."""
    key = "," + escape_tag(name) + "="
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_boolean(kind):
        text = pc.if_else(column, key + "true", key + "false")
    elif pa.types.is_floating(kind):
        text = pc.cast(column, pa.string())
        text = pc.if_else(pc.is_finite(column), text, pa.scalar(None, pa.string()))
        text = pc.binary_join_element_wise(key, text, _EMPTY)
    elif pa.types.is_integer(kind):
        text = pc.binary_join_element_wise(key, pc.cast(column, pa.string()), "i", _EMPTY)
    elif pa.types.is_timestamp(kind):
        seconds = pc.cast(pc.cast(column, pa.timestamp("s", "UTC")), pa.int64())
        text = pc.binary_join_element_wise(key, pc.cast(seconds, pa.string()), "i", _EMPTY)
    else:
        text = pc.cast(column, pa.string())
        text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        text = pc.replace_substring(text, "\n", "\\n")
        text = pc.binary_join_element_wise(key, '"', text, '"', _EMPTY)
    return pc.fill_null(text, _EMPTY)


def _repeat_rank(prefix_ids: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """0 for the first row of each (series, time), 1 for the second, ..."""
    if len(ts) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(ts)), prefix_ids, ts))
    key_sorted = np.stack([ts[order], prefix_ids[order]], axis=1)
    new_group = np.ones(len(ts), dtype=bool)
    new_group[1:] = np.any(key_sorted[1:] != key_sorted[:-1], axis=1)
    idx = np.arange(len(ts))
    starts = np.maximum.accumulate(np.where(new_group, idx, 0))
    rank = np.empty(len(ts), dtype=np.int64)
    rank[order] = idx - starts
    return rank


def encode(
    table: pa.Table,
    prefixes: pa.Array,
    prefix_index: pa.Array,
    fields: Sequence[str],
    *,
    time_ns: np.ndarray | None = None,
    empty_field: str = "all_nan",
    per_row: bool = False,
) -> tuple[bytes, str]:
    """Encode a table as line protocol.

    Parameters
    ----------
    table : pyarrow.Table
        Rows to write; must have a ``time`` column (timestamp) unless ``time_ns``.
    prefixes : pyarrow.Array of str
        Measurement and tags per series, each ending in a space (:func:`tag_prefixes`).
    prefix_index : pyarrow.Array of int32
        For each row, its index into ``prefixes``.
    fields : sequence of str
        The columns written as fields.
    time_ns : numpy.ndarray, optional
        Timestamps [ns since the epoch] per row instead of ``time`` (real-time mode).
    empty_field : str
        The boolean field written on a row none of whose fields has a value.
    per_row : bool
        Rows may repeat a series at one time (free-form tables): nanosecond
        timestamps with the repeat number added.

    Returns
    -------
    (bytes, str)
        The lines, each ending in ``\\n``, and the precision (``s`` or ``ns``).
    """
    n = table.num_rows
    if n == 0:
        return b"", "s"
    if time_ns is not None:
        ts, precision = np.asarray(time_ns, dtype=np.int64), "ns"
    else:
        seconds = pc.cast(table.column("time"), pa.timestamp("s", "UTC"))
        ts = pc.cast(seconds, pa.int64()).to_numpy()
        precision = "s"
    if per_row:
        index = np.asarray(prefix_index.to_numpy(zero_copy_only=False), dtype=np.int64)
        if precision == "s":
            ts = ts * 1_000_000_000
            precision = "ns"
        ts = ts + _repeat_rank(index, ts)
    parts = [_field(name, table.column(name)) for name in fields]
    # Each part is ",name=value" or "": join without separator, drop the first comma.
    # (Arrow's null_handling="skip" would be simpler but loses all-null rows.)
    if len(parts) > 1:
        body = pc.binary_join_element_wise(*parts, _EMPTY)
    elif parts:
        body = parts[0]
    else:
        body = pa.array([""] * n, pa.string())
    body = pc.utf8_slice_codeunits(body, 1)
    filler = pa.scalar(escape_tag(empty_field) + "=true", pa.string())
    body = pc.if_else(pc.equal(body, ""), filler, body)
    lines = pc.binary_join_element_wise(
        pc.take(prefixes, prefix_index), body, " ", pa.array(ts).cast(pa.string()), "\n", _EMPTY
    )
    return _payload(lines), precision


def _payload(lines: pa.Array) -> bytes:
    """The bytes of all strings of ``lines`` back to back (no copy per line)."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
    start, end = int(offsets[0]), int(offsets[len(lines)])
    return lines.buffers()[2].slice(start, end - start).to_pybytes()
