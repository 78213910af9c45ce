"""Files in and out of the optimizer: period loads (CSV), solutions (JSON), weights.

Every reader checks its input and raises :class:`~gridtwin.errors.InputError`
with one line naming the file, the field and what was expected.

Periods CSV (the conventions of :mod:`gridtwin.profiles.csv`)::

    time,Load 3 [MW],Load 3 [MVAr],PV 1 [MW]
    2024-06-01T00:00:00+02:00,0.061,0.020,0.0
    2024-06-01T01:00:00+02:00,0.059,0.019,0.0

- one row per period; ``time`` (ISO 8601) is optional and gives each period's
  duration (the step to the next row; the last row repeats the step before);
  without it every period lasts one hour;
- one column per element and quantity: a load's name or pandapower index
  (or else an sgen's name), then the unit: ``[MW]`` (``p_mw``), ``[MVAr]``
  (``q_mvar``) or ``[pu]`` (a factor on the element's rated p and q);
- a load with only ``[MW]`` keeps its rated power factor; elements without a
  column keep their rated powers.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.controllers.reconfig.objective import Weights
from gridtwin.controllers.reconfig.problem import Periods, Problem
from gridtwin.errors import InputError
from gridtwin.grid.topology import element_names
from gridtwin.profiles.csv import HEADER, read_csv_text

__all__ = ["WEIGHT_KEYS", "parse_weights", "read_periods_csv", "read_solution_json"]

_UNITS = {"mw": "p", "mvar": "q", "pu": "scaling"}

WEIGHT_KEYS = {
    "losses": "loss_cost_per_mwh",
    "reliability": "reliability",
    "switching": "switching_cost",
    "violations": "violation_cost_per_percent_h",
}
"""Short names accepted by :func:`parse_weights` and the fields they set."""


def read_periods_csv(path: str | Path, problem: Problem) -> Periods:
    """Read load and generation per period from a CSV file (format in the module doc)."""
    src = str(path)
    frame = read_csv_text(path, "a periods CSV file")
    if len(frame) == 0:
        raise InputError(src, "", "no rows; expected one row per period")
    net = problem.net
    base = Periods.from_net(net, n=len(frame))
    load_p, load_q = base.load_p_mw.copy(), base.load_q_mvar.copy()
    sgen_p, sgen_q = base.sgen_p_mw.copy(), base.sgen_q_mvar.copy()
    duration = _durations(frame, src)
    load_names = element_names(net, "load")
    sgen_names = element_names(net, "sgen")
    q_given: set[int] = set()
    p_given: list[int] = []
    for column in (c for c in frame.columns if c != "time"):
        name, kind = _header(column, src)
        values = _column_values(frame, column, src)
        table, pos = _element(name, net, load_names, sgen_names, src, column)
        p_arr, q_arr = (load_p, load_q) if table == "load" else (sgen_p, sgen_q)
        if kind == "scaling":
            p_arr[:, pos] = values * _base_p(base, table, pos)
            q_arr[:, pos] = values * _base_q(base, table, pos)
            if table == "load":
                q_given.add(pos)
        elif kind == "p":
            p_arr[:, pos] = values
            if table == "load":
                p_given.append(pos)
        else:
            q_arr[:, pos] = values
            if table == "load":
                q_given.add(pos)
    for pos in p_given:  # [MW] only: keep the rated power factor
        if pos not in q_given:
            rated_p, rated_q = base.load_p_mw[0, pos], base.load_q_mvar[0, pos]
            load_q[:, pos] = load_p[:, pos] * (rated_q / rated_p if rated_p else 0.0)
    return Periods(load_p, load_q, sgen_p, sgen_q, duration)


def _header(column: str, src: str) -> tuple[str, str]:
    """(element name, kind of value: ``p``, ``q`` or ``scaling``) of a column header."""
    match = HEADER.match(column)
    if not match:
        raise InputError(
            src, column, "no unit in the header; expected 'NAME [MW]', '[MVAr]' or '[pu]'"
        )
    name, unit = match.group("name"), match.group("unit").strip().lower()
    if unit not in _UNITS:
        raise InputError(src, column, f"unit [{unit}]; expected [MW], [MVAr] or [pu]")
    return name, _UNITS[unit]


def _column_values(frame: pd.DataFrame, column: str, src: str) -> np.ndarray:
    """A column's numbers; InputError naming the first row that is not a number."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise InputError(
            src,
            f"{column}, row {row + 2}",
            f"got {frame[column].iloc[row]!r}; expected a number",
        )
    return values


def _base_p(base: Periods, table: str, pos: int) -> float:
    return float((base.load_p_mw if table == "load" else base.sgen_p_mw)[0, pos])


def _base_q(base: Periods, table: str, pos: int) -> float:
    return float((base.load_q_mvar if table == "load" else base.sgen_q_mvar)[0, pos])


def _durations(frame: pd.DataFrame, src: str) -> np.ndarray:
    n = len(frame)
    if "time" not in frame.columns:
        return np.ones(n)
    try:
        times = pd.to_datetime(frame["time"], format="ISO8601", utc=True)
    except (ValueError, TypeError) as exc:
        raise InputError(src, "time", f"not ISO 8601 ({exc})") from None
    if n == 1:
        return np.ones(1)
    step_h = np.diff(times.astype("int64").to_numpy()) / 3.6e12
    if (step_h <= 0).any():
        row = int(np.flatnonzero(step_h <= 0)[0]) + 1
        raise InputError(
            src, f"time, row {row + 2}", "not after the row before; expected rising times"
        )
    return np.append(step_h, step_h[-1])


def _element(
    name: str,
    net: Any,
    load_names: list[str],
    sgen_names: list[str],
    src: str,
    column: str,
) -> tuple[str, int]:
    if name.isdigit() and int(name) in net.load.index:
        return "load", int(net.load.index.get_loc(int(name)))
    for table, names in (("load", load_names), ("sgen", sgen_names)):
        hits = [i for i, n in enumerate(names) if n == name]
        if len(hits) == 1:
            return table, hits[0]
    hint = difflib.get_close_matches(name, load_names + sgen_names, n=1)
    raise InputError(
        src,
        column,
        f"no load named {name!r} in the network"
        + (f" (did you mean {hint[0]!r}?)" if hint else "; expected a load name or index"),
    )


def parse_weights(text: str, base: Weights) -> Weights:
    """Weights from ``'losses=50,switching=10'`` (keys in :data:`WEIGHT_KEYS`) over ``base``."""
    changes: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in WEIGHT_KEYS or not value.strip():
            raise InputError(
                "--weights",
                key,
                f"got {part!r}; expected KEY=NUMBER with KEY in {list(WEIGHT_KEYS)}",
            )
        try:
            number = float(value)
        except ValueError:
            raise InputError("--weights", key, f"got {value!r}; expected a number") from None
        if not np.isfinite(number) or number < 0:
            raise InputError("--weights", key, f"got {value!r}; expected a number >= 0")
        changes[WEIGHT_KEYS[key]] = number
    return dataclasses.replace(base, **changes)


def read_solution_json(path: str | Path, problem: Problem) -> tuple[np.ndarray, np.ndarray | None]:
    """The plan ``(n_periods, m)`` and start configuration of a solution file.

    The plan comes from each period's ``open_lines`` (pandapower line indices);
    the start from ``start_open_lines`` if present.
    """
    src = str(path)
    if not Path(path).is_file():
        raise InputError(src, "", "no such file; expected a solution JSON file")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(src, "", f"not valid JSON ({exc})") from None
    periods = data.get("periods") if isinstance(data, dict) else None
    if not isinstance(periods, list) or not periods:
        raise InputError(src, "periods", "missing or empty; expected a list of periods")
    index = problem.line_index().tolist()
    where = {line: i for i, line in enumerate(index)}

    def closed_of(open_lines: Any, field: str) -> np.ndarray:
        if not isinstance(open_lines, list):
            raise InputError(src, field, "expected a list of line indices")
        closed = np.ones(problem.m, dtype=bool)
        for line in open_lines:
            if line not in where:
                raise InputError(
                    src, field, f"line {line!r} is not a switchable line of this network"
                )
            closed[where[line]] = False
        return closed

    plan = np.array(
        [
            closed_of(
                p.get("open_lines") if isinstance(p, dict) else None, f"periods[{t}].open_lines"
            )
            for t, p in enumerate(periods)
        ]
    )
    start = data.get("start_open_lines")
    return plan, (closed_of(start, "start_open_lines") if start is not None else None)
