"""The ``events`` section: one scheduled event each, parameters by type."""

from __future__ import annotations

import difflib
import math

from pydantic import ConfigDict, Field, field_validator, model_validator

from gridtwin.scenario.base import PositiveDurationS, Section

__all__ = [
    "EventSpec",
]


class EventSpec(Section):
    """One scheduled event; parameters beyond these depend on ``type``."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    at: str | int = Field(description="offset from start (6h) or ISO 8601 instant")
    type: str
    target: str | int = Field(description="element name or index, or 'all'")
    duration: PositiveDurationS | None = Field(
        default=None, description="undo the event after this (longer than zero)"
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        from gridtwin.events import EVENT_TYPES

        if value not in EVENT_TYPES:
            hint = difflib.get_close_matches(value, list(EVENT_TYPES), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"unknown event type{extra}; expected one of {', '.join(sorted(EVENT_TYPES))}"
            )
        return value

    @model_validator(mode="after")
    def _check_params(self) -> EventSpec:
        from gridtwin.events import EVENT_TYPES

        kind = EVENT_TYPES.get(self.type)
        if kind is None:
            return self
        extra = dict(self.model_extra or {})
        for name in extra:
            if name not in kind.params:
                valid = ["at", "type", "target", "duration", *kind.params]
                hint = difflib.get_close_matches(name, valid, n=1)
                raise ValueError(
                    f"{name}: not a parameter of {self.type}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                    + f"; expected {', '.join(valid)}"
                )
        for name, param in kind.params.items():
            if name not in extra:
                if param.required:
                    raise ValueError(f"{name}: missing; {self.type} needs {param.description}")
                continue
            given = extra[name]
            try:
                value = float(given)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: got {given!r}; expected a number") from None
            if isinstance(given, bool) or not math.isfinite(value):
                raise ValueError(f"{name}: got {given!r}; expected a finite number")
            if not param.low <= value <= param.high:
                raise ValueError(
                    f"{name}: got {value}; expected {param.description} "
                    f"in [{param.low}, {param.high}]"
                )
            setattr(self, name, value)
        if self.duration is not None and kind.inverse is None:
            raise ValueError(f"duration: {self.type} cannot be undone; remove duration")
        return self

    def params(self) -> dict[str, float]:
        """The type-specific parameters with their values."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}
