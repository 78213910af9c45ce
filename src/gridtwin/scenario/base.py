"""Building blocks of every scenario section: the strict base model, durations, instants.

Every section derives from :class:`Section`, which holds the checks that apply
to every numeric field whatever the section: numbers must be finite
(``.inf``/``.nan`` refused) and ``true``/``false`` is not a number
(``seed: true`` refused). A new section gets both by deriving from it.
"""

from __future__ import annotations

import math
import types
import typing
import urllib.parse
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from gridtwin.timeparse import format_duration, parse_duration_s, parse_instant

__all__ = [
    "MAX_DURATION_S",
    "MAX_SEED",
    "MAX_WAIT_S",
    "DurationS",
    "Instant",
    "PositiveDurationS",
    "RunDurationS",
    "Section",
    "Seed",
    "check_finite_tree",
]

MAX_SEED = 2**32 - 1
"""Largest seed: numpy's and scikit-learn's ``random_state`` take [0, 2**32 - 1]."""


MAX_DURATION_S = 106_751 * 86_400
"""Longest duration [s] of any scenario field (106751d, about 292 years): the range of
pandas' and Parquet's nanosecond time deltas, and well inside a C ``long`` [s]."""

MAX_WAIT_S = 86_400.0
"""Longest wall-clock wait or time-out [s] (a day): far inside ``threading.TIMEOUT_MAX``,
the platform's ``time_t`` (``socket.settimeout``) and asyncio's timers."""


def _any_duration(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a duration like 15min, 1h, 1d or 365d, not true/false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite duration like 15min, 1h, 1d or 365d")
    return parse_duration_s(value)


def _duration(value: Any) -> int:
    seconds = _any_duration(value)
    if seconds > MAX_DURATION_S:
        raise ValueError(
            f"got {format_duration(seconds)}; expected at most {format_duration(MAX_DURATION_S)} "
            "(about 292 years, the range of pandas and Parquet time stamps)"
        )
    return seconds


def _positive_duration(value: Any) -> int:
    seconds = _duration(value)
    if seconds <= 0:
        raise ValueError("expected a duration longer than zero, e.g. 15min")
    return seconds


def _instant(value: Any) -> datetime:
    return parse_instant(value)


DurationS = Annotated[int, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""A duration [s] of zero or more, written in scenario files as ``15min``, ``1d``, ..."""

PositiveDurationS = Annotated[
    int, BeforeValidator(_positive_duration), PlainSerializer(format_duration)
]
"""A duration [s] longer than zero: intervals, steps, periods (a library divides by them)."""

RunDurationS = Annotated[int, BeforeValidator(_any_duration), PlainSerializer(format_duration)]
"""The length of a run [s]: bounded by the run's own checks (the last Parquet time stamp, the
run-size limits), which say what it would cost, not by :data:`MAX_DURATION_S`."""

Instant = Annotated[datetime, BeforeValidator(_instant), PlainSerializer(lambda v: v.isoformat())]
"""An ISO 8601 instant with a UTC offset."""

Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
"""A random seed in [0, 2**32 - 1] (the domain of numpy and scikit-learn seeds)."""


def _is_number_type(annotation: Any) -> bool:
    """Whether ``annotation`` takes int or float (and not bool) somewhere inside."""
    found: set[Any] = set()
    stack = [annotation]
    while stack:
        item = stack.pop()
        if item in (int, float, bool):
            found.add(item)
        origin = typing.get_origin(item)
        if origin is dict:
            continue  # mappings are checked by their own models
        if origin is not None or isinstance(item, types.UnionType):
            stack.extend(typing.get_args(item))
    return bool(found & {int, float}) and bool not in found


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, list | tuple) and any(isinstance(v, bool) for v in value)


def check_finite_tree(value: Any, path: str = "") -> str | None:
    """The path of the first non-finite float in nested lists/dicts, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "value"
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        sub = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
        found = check_finite_tree(item, sub)
        if found is not None:
            return found
    return None


class Section(BaseModel):
    """Base of every scenario section: unknown keys, non-finite numbers and booleans
    given for numbers are refused."""

    model_config = ConfigDict(
        extra="forbid", frozen=False, use_enum_values=False, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key in data and _has_bool(data[key]) and _is_number_type(field.annotation):
                raise ValueError(f"{key}: got {data[key]!r}; expected a number, not true/false")
        return data


def check_url(value: str, schemes: tuple[str, ...], example: str) -> urllib.parse.SplitResult:
    """The parts of a server URL, or ValueError if its scheme, host or port is wrong."""
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range
        valid = parts.scheme in schemes and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"expected a URL like {example} ({' or '.join(schemes)})")
    return parts
