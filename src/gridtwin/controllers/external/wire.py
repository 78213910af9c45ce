"""The JSON wire form of the control-centre ports and of the commands coming back (pure).

mosaik moves data between processes as JSON, so an external automation
function sees every view port it reads as plain JSON and answers with plain
JSON. One rule covers every port:

- a dataclass (measurement frame, estimate, forecast, telemetry, ...) is an
  object of its fields; a tuple or list is an array; an enum is its value;
- an array follows the order of the element (or measurement) names the
  function got at ``init`` (``context``);
- NaN and infinity are ``null`` (JSON has neither);
- testbed knowledge is left out: a frame's ``corrupted`` flags, a forecast's
  actuals and scores, an inverter's own terminal voltage in the telemetry.

A command is ``{"issued_s": int, "target": str, "elements": [name, ...],
"values": [number or null, ...]}`` (see :func:`decode_commands`).
"""

from __future__ import annotations

import dataclasses
import math
from enum import Enum
from typing import Any

import numpy as np

__all__ = ["HIDDEN_FIELDS", "decode_commands", "to_wire"]

HIDDEN_FIELDS: dict[str, frozenset[str]] = {
    "MeasurementFrame": frozenset({"corrupted"}),
    "ForecastStep": frozenset({"actual_mw", "completed", "train_s"}),
    "Telemetry": frozenset({"sgen_terminal_vm_pu"}),
    "Estimate": frozenset({"compute_ms"}),
    "VoltageCommands": frozenset({"central_ms"}),
}
"""Fields never sent to an external function: testbed knowledge and wall-clock figures."""


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def to_wire(value: Any) -> Any:
    """``value`` (a port's value) in the JSON wire form: plain dicts, lists, numbers, null."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return to_wire(value.value)
    if isinstance(value, float | np.floating):
        return _number(float(value))
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [to_wire(v) for v in value.tolist()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hidden = HIDDEN_FIELDS.get(type(value).__name__, frozenset())
        return {
            f.name: to_wire(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in hidden
        }
    if isinstance(value, dict):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    raise TypeError(f"no wire form for {type(value).__name__}")


@dataclasses.dataclass(frozen=True, slots=True)
class WireCommand:
    """One decoded command: target, element positions and values (not yet range-checked)."""

    issued_s: int
    target: str
    positions: np.ndarray
    values: np.ndarray


def _is_number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


_KEYS = ("issued_s", "target", "elements", "values")


def _decode_one(item: Any, elements: dict[str, dict[str, int]]) -> WireCommand | tuple[str, str]:
    """One command object, or ``(reason, detail)`` why it is rejected."""
    if not isinstance(item, dict) or not set(_KEYS) <= set(item):
        return "malformed", f"expected an object with {', '.join(_KEYS)}"
    issued, target, names, values = (item[k] for k in _KEYS)
    if isinstance(issued, bool) or not isinstance(issued, int) or issued < 0:
        return "bad_time", f"issued_s: got {issued!r}; expected a whole number of seconds >= 0"
    if not isinstance(target, str) or target not in elements:
        return "unknown_target", f"target: got {target!r}; expected one of {', '.join(elements)}"
    shape = _shape_problem(names, values)
    if shape is not None:
        return "malformed", shape
    table = elements[target]
    unknown = [n for n in names if n not in table]
    if unknown:
        return "unknown_element", f"elements: no {target} element {unknown[0]!r}"
    as_float = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return WireCommand(
        issued, target, np.array([table[n] for n in names], dtype=np.int64), as_float
    )


def _shape_problem(names: Any, values: Any) -> str | None:
    """What is wrong with a command's ``elements`` and ``values`` lists, or None."""
    if not isinstance(names, list) or not isinstance(values, list) or len(names) != len(values):
        return "elements, values: expected two lists of the same length"
    if not names:
        return "elements: empty; expected at least one element"
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return "elements: expected distinct element names"
    if not all(_is_number_or_null(v) for v in values):
        return "values: expected numbers or null"
    return None


def decode_commands(
    message: Any, elements: dict[str, dict[str, int]]
) -> tuple[list[WireCommand], list[tuple[Any, str, str]]]:
    """The commands of one ``commands`` output, and the rejected items with their reason.

    Parameters
    ----------
    message : Any
        What the function output on ``commands``: a list of command objects
        (``null`` or a missing output: no commands).
    elements : dict
        Per command target, element name -> position in its pandapower table.

    Returns
    -------
    accepted : list of WireCommand
        Well-formed commands naming known elements. ``null`` values stay NaN
        here; :meth:`gridtwin.grid.command_limits.CommandLimits.check` decides whether
        the target allows them.
    rejected : list of (item, reason, detail)
        reason ``malformed``, ``bad_time``, ``unknown_target`` or ``unknown_element``;
        detail a one-line account naming the field.
    """
    if message is None:
        return [], []
    if not isinstance(message, list):
        return [], [(message, "malformed", "commands: expected a list of command objects")]
    accepted: list[WireCommand] = []
    rejected: list[tuple[Any, str, str]] = []
    for item in message:
        out = _decode_one(item, elements)
        if isinstance(out, tuple):
            rejected.append((item, *out))
        else:
            accepted.append(out)
    return accepted, rejected
