"""Building blocks of every scenario section: the strict base model, durations, instants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from gridtwin.timeparse import format_duration, parse_duration_s, parse_instant

__all__ = ["DurationS", "Instant", "Section"]


def _duration(value: Any) -> int:
    return parse_duration_s(value)


def _instant(value: Any) -> datetime:
    return parse_instant(value)


DurationS = Annotated[int, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""A duration [s], written in scenario files as ``15min``, ``1d``, ..."""

Instant = Annotated[datetime, BeforeValidator(_instant), PlainSerializer(lambda v: v.isoformat())]


DurationS = Annotated[int, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""A duration [s], written in scenario files as ``15min``, ``1d``, ..."""

Instant = Annotated[datetime, BeforeValidator(_instant), PlainSerializer(lambda v: v.isoformat())]
"""An ISO 8601 instant with a UTC offset."""


class Section(BaseModel):
    """Base of every scenario section: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)
