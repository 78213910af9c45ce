"""Durations and instants as used in scenario files.

Simulation time inside gridtwin is an integer number of seconds since the
scenario's start (mosaik's convention with ``time_resolution=1``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime

__all__ = ["format_duration", "parse_duration_s", "parse_instant"]

_UNIT_S = {"s": 1, "sec": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|min|sec|s)")


def parse_duration_s(text: str | int | float) -> int:
    """Parse a duration such as ``15min``, ``1d``, ``365d``, ``1h30min`` or ``900``.

    Parameters
    ----------
    text : str or int
        A sequence of ``<number><unit>`` parts with units ``w``, ``d``, ``h``,
        ``min``, ``s``; a bare number means seconds.

    Returns
    -------
    int
        The duration [s]; must be a whole number of seconds.

    Raises
    ------
    ValueError
        If the text is not a duration or not a whole number of seconds.
    """
    if isinstance(text, bool):
        raise ValueError("expected a duration like 15min, 1h, 1d or 365d")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        compact = str(text).strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", compact):
            seconds = float(compact)
        else:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(compact):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _UNIT_S[match.group(2)]
                pos = match.end()
            if pos != len(compact) or not compact:
                raise ValueError("expected a duration like 15min, 1h, 1d or 365d")
    if not math.isfinite(seconds):
        raise ValueError("expected a finite duration like 15min, 1h, 1d or 365d")
    if seconds != int(seconds):
        raise ValueError("expected a whole number of seconds")
    if seconds < 0:
        raise ValueError("expected a duration of zero or more")
    return int(seconds)


def format_duration(seconds: int) -> str:
    """Format a duration [s] in the largest unit that divides it (``900`` -> ``15min``)."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_instant(text: str | datetime) -> datetime:
    """Parse an ISO 8601 date-time that carries a UTC offset.

    Raises
    ------
    ValueError
        If the text is not ISO 8601 or has no time zone.
    """
    if isinstance(text, datetime):
        value = text
    else:
        try:
            value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                "expected an ISO 8601 date-time with UTC offset, e.g. 2016-06-01T00:00:00+01:00"
            ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("expected a time zone: add a UTC offset, e.g. 2016-06-01T00:00:00+01:00")
    return value
