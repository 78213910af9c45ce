"""Profiles from CSV files.

Format (one file per element table and quantity)::

    time,MV1.101 Load 2 [MW],MV1.101 Load 3 [MW]
    2016-01-01T00:00:00+01:00,0.061,0.058
    2016-01-01T00:15:00+01:00,0.059,0.060

- ``time``: ISO 8601 with a UTC offset, the same offset as the scenario's
  ``time.start``, evenly spaced (no gaps).
- One column per element: the element's name or pandapower index, then its
  unit in brackets. Units: ``[MW]`` for ``p_mw``, ``[MVAr]`` for ``q_mvar``,
  ``[pu]`` for ``scaling`` (a factor on the element's rated p and q).
- Elements without a column keep their rated values.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["HEADER", "UNITS", "CsvProfile", "read_csv_text", "read_profile_csv"]

UNITS = {"p_mw": "MW", "q_mvar": "MVAr", "scaling": "pu"}
"""The unit each quantity's columns must carry."""

HEADER = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
"""A column header with its unit in brackets: ``'Load 3 [MW]'``."""
_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_HAS_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


@dataclass(frozen=True, slots=True)
class CsvProfile:
    """A validated CSV profile: regular times and one column per element."""

    first_s: int  # epoch seconds (UTC) of the first row
    resolution_s: int
    positions: np.ndarray  # element positions in the pandapower table, per column
    values: np.ndarray  # (n_rows, n_columns)


def read_csv_text(path: str | Path, expected: str) -> pd.DataFrame:
    """A CSV file as text cells (parsed by the caller), or a one-line :class:`InputError`.

    ``expected`` names the file kind for the message, e.g. ``'a profile CSV file'``.
    """
    if not Path(path).is_file():
        raise InputError(str(path), "", f"no such file; expected {expected}")
    try:
        return pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "", f"not a readable CSV file ({exc})") from None


def read_profile_csv(
    path: str | Path, *, element: str, quantity: str, net: pp.pandapowerNet, utc_offset_s: int
) -> CsvProfile:
    """Read and check one profile CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    element : {'load', 'sgen', 'storage'}
        The pandapower table its columns name.
    quantity : {'p_mw', 'q_mvar', 'scaling'}
        What the values are; fixes the unit every column header must carry.
    net : pandapowerNet
        The network, to look up element names.
    utc_offset_s : int
        The scenario's UTC offset [s]; every time stamp must carry it.

    Raises
    ------
    InputError
        One line naming the file, the column or row, and what was expected.
    """
    src = str(path)
    frame = read_csv_text(path, "a profile CSV file")
    if "time" not in frame.columns:
        raise InputError(src, "time", f"no 'time' column; got columns {list(frame.columns)[:4]}")
    if len(frame) < 2:
        raise InputError(src, "", f"got {len(frame)} rows; expected at least 2")
    first_s, resolution_s = _check_times(frame["time"], src, utc_offset_s)
    columns = [c for c in frame.columns if c != "time"]
    if not columns:
        raise InputError(
            src, "", f"no element columns; expected 'NAME [{UNITS[quantity]}]' columns"
        )
    positions = np.array(
        [_column_position(c, element, quantity, net, src) for c in columns], dtype=np.int64
    )
    if len(set(positions.tolist())) != len(positions):
        raise InputError(src, "", f"two columns name the same {element}; expected one each")
    values = np.empty((len(frame), len(columns)))
    for j, col in enumerate(columns):
        try:  # numpy parses each cell exactly (pandas' fast parser may miss the last digit)
            numbers = frame[col].to_numpy(dtype=float)
        except ValueError:  # some cell is not a number: find it
            numbers = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if quantity == "scaling":
            bad |= numbers < 0
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            cell = frame[col].iloc[row]
            want = "a finite number of 0 or more" if quantity == "scaling" else "a finite number"
            if np.isnan(numbers[row]) and cell.strip().lower() not in ("nan", "+nan", "-nan"):
                want = "a number"
            raise InputError(src, f"{col}, row {row + 2}", f"got {cell!r}; expected {want}")
        values[:, j] = numbers
    return CsvProfile(first_s, resolution_s, positions, values)


def _utc_offset_s(ts: pd.Timestamp) -> int:
    offset = ts.utcoffset()
    if offset is None:  # not reached: every row was checked to carry an offset
        raise ValueError(f"{ts} has no UTC offset")
    return int(offset.total_seconds())


def _check_times(times: pd.Series, src: str, utc_offset_s: int) -> tuple[int, int]:
    text = times.fillna("").astype(str).str.strip()
    has_offset = text.str.contains(_HAS_OFFSET)
    if not has_offset.all():
        row = int(np.flatnonzero(~has_offset.to_numpy())[0])
        raise InputError(
            src,
            f"time, row {row + 2}",
            f"got {text.iloc[row]!r}; expected ISO 8601 with a UTC offset, "
            "e.g. 2016-01-01T00:00:00+01:00",
        )
    try:
        parsed = pd.to_datetime(text, format="ISO8601", utc=True)
        local = [pd.Timestamp(v) for v in (text.iloc[0], text.iloc[-1])]
    except (ValueError, TypeError) as exc:
        raise InputError(src, "time", f"not ISO 8601 ({exc})") from None
    offsets = {_utc_offset_s(ts) for ts in local}
    offset_strings = text.str.extract(_OFFSET)[0]
    if offset_strings.nunique() > 1 or offsets != {utc_offset_s}:
        found = offset_strings.iloc[0]
        want = _format_offset(utc_offset_s)
        raise InputError(
            src,
            "time",
            f"time-zone mismatch: got UTC offset {found}, expected {want} as in time.start",
        )
    seconds = parsed.astype("int64").to_numpy() // 1_000_000_000
    diffs = np.diff(seconds)
    resolution = int(diffs[0])
    if resolution <= 0 or (diffs != resolution).any():
        row = int(np.flatnonzero(diffs != resolution)[0]) + 1 if resolution > 0 else 1
        raise InputError(
            src,
            f"time, row {row + 2}",
            f"gap or disorder in time: {text.iloc[row - 1]} then {text.iloc[row]}; "
            f"expected evenly spaced rows every {resolution} s",
        )
    return int(seconds[0]), resolution


def _format_offset(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _column_position(
    column: str, element: str, quantity: str, net: pp.pandapowerNet, src: str
) -> int:
    match = HEADER.match(column)
    want = UNITS[quantity]
    if not match:
        raise InputError(src, column, f"no unit in the header; expected '{column} [{want}]'")
    name, unit = match.group("name"), match.group("unit").strip()
    if unit.lower() != want.lower():
        raise InputError(
            src, column, f"unit mismatch: got [{unit}], expected [{want}] for {quantity}"
        )
    table = net[element]
    if name.isdigit() and int(name) in table.index:
        return int(table.index.get_loc(int(name)))
    names = table["name"].astype(str).to_numpy() if "name" in table else np.array([])
    hits = np.flatnonzero(names == name)
    if len(hits) == 1:
        return int(hits[0])
    hint = difflib.get_close_matches(name, list(names), n=1)
    raise InputError(
        src,
        column,
        f"no {element} named {name!r} in the network"
        + (f" (did you mean {hint[0]!r}?)" if hint else f"; expected a {element} name or index"),
    )
