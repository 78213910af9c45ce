"""The ``functions`` section: a user's automation functions, one entry each."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from gridtwin.scenario.base import Section, check_finite_tree

__all__ = ["FunctionSpec"]


class FunctionSpec(Section):
    """A user's automation function: ``use`` names its class; ``params`` its parameters."""

    use: str = Field(
        pattern=r"^[^:]+:[A-Za-z_][A-Za-z0-9_]*$",
        description="module:Class or path/to/file.py:Class (relative to the scenario file)",
    )
    name: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+$", description="default: the class name"
    )
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _finite_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        where = check_finite_tree(value)
        if where is not None:
            raise ValueError(f"params.{where}: expected a finite number")
        return value
