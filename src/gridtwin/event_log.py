"""Reading event logs (``events_file:``): CSV or JSON, the same event types as ``events``.

A log is a table of events with the columns (CSV header, or keys of each JSON
object in a list) ``at`` (an ISO 8601 instant with offset, as a SCADA export
has it, or an offset from the start such as ``6h``; ``time`` and
``timestamp`` are accepted as names too), ``type``, ``target``, optionally
``duration`` and the type's parameters (e.g. ``permanent``,
``dead_time_s``). Empty CSV cells are absent values. Every problem is one
:class:`~gridtwin.errors.InputError` line naming the file and the event
(1-based, in file order).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gridtwin.errors import InputError, expected_message

SpecT = TypeVar("SpecT", bound=BaseModel)

__all__ = ["read_event_log"]

_TIME_NAMES = ("at", "time", "timestamp")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"duplicate key {key!r} in one event; expected each key once")
    return dict(pairs)


def _rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise InputError(
                str(path), f"line {exc.lineno}", f"not valid JSON ({exc.msg})"
            ) from None
        except ValueError as exc:  # a duplicate key
            raise InputError(str(path), "", str(exc)) from None
        if isinstance(data, dict) and isinstance(data.get("events"), list):
            data = data["events"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(str(path), "", "expected a JSON list of event objects")
        return data
    if path.suffix.lower() != ".csv":
        raise InputError(
            str(path), "", f"got a {path.suffix or 'nameless'} file; expected .csv or .json"
        )
    reader = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [
        {k.strip(): v.strip() for k, v in row.items() if k and v not in (None, "")}
        for row in reader
    ]


def read_event_log(path: str | Path, spec: type[SpecT]) -> list[SpecT]:
    """The events of a log as ``spec`` objects, in file order.

    Parameters
    ----------
    path : str or Path
        The CSV or JSON log.
    spec : type
        The pydantic model of one event (the scenario's ``EventSpec``).

    Raises
    ------
    InputError
        On a missing or unreadable file, a row without time, type or target, an
        unknown type or parameter.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "", "no such file; expected a CSV or JSON event log")
    try:
        rows = _rows(path)
    except UnicodeDecodeError:
        raise InputError(str(path), "", "not a text file; expected UTF-8 CSV or JSON") from None
    out: list[SpecT] = []
    for n, row in enumerate(rows, start=1):
        row = dict(row)
        for name in _TIME_NAMES[1:]:
            if name in row and "at" not in row:
                row["at"] = row.pop(name)
        for name in ("at", "type", "target"):
            if name not in row:
                raise InputError(str(path), f"event {n}.{name}", "missing; every event needs it")
        try:
            out.append(spec.model_validate(row))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(x) for x in err.get("loc", ()) if x)
            msg = expected_message(err["msg"])
            head, sep, rest = msg.partition(": ")
            if sep and " " not in head:
                loc, msg = head, rest
            raise InputError(str(path), f"event {n}" + (f".{loc}" if loc else ""), msg) from None
    return out
