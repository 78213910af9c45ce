"""The ``functions`` section: a user's automation functions, one entry each.

An entry names a Python class (``use: module:Class``), or an external
function, a mosaik simulator in a process or on a host of its own: ``cmd``
(a command line mosaik starts, with ``%(addr)s`` for the address to connect
to and ``%(python)s`` for this interpreter; run in the scenario file's
folder) or ``connect`` (``HOST:PORT`` of one already running). An external
function names the control-centre ports it ``reads``; it sees them, and
answers with commands, in the JSON wire form of
:mod:`gridtwin.controllers.external.wire`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from gridtwin.components import VIEW_PORTS
from gridtwin.scenario.base import Section, check_finite_tree

__all__ = ["FunctionSpec"]


class FunctionSpec(Section):
    """A user's automation function: a class (``use``) or a mosaik process (``cmd``/``connect``)."""

    use: str | None = Field(
        default=None,
        pattern=r"^[^:]+:[A-Za-z_][A-Za-z0-9_]*$",
        description="module:Class or path/to/file.py:Class (relative to the scenario file)",
    )
    cmd: str | None = Field(
        default=None,
        min_length=1,
        description="command line of an external mosaik simulator, with %(addr)s",
    )
    connect: str | None = Field(
        default=None,
        pattern=r"^[^:\s]+:[0-9]{1,5}$",
        description="HOST:PORT of an external mosaik simulator already listening",
    )
    name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="default: the class name (required for cmd/connect)",
    )
    reads: list[str] = Field(
        default_factory=list, description="control-centre ports an external function reads"
    )
    model: str = Field(
        default="Function",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the external simulator's model to create (one entity)",
    )
    start_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="seconds to wait for an external simulator to connect / answer init",
    )
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _finite_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        where = check_finite_tree(value)
        if where is not None:
            raise ValueError(f"params.{where}: expected a finite number")
        return value

    @field_validator("reads")
    @classmethod
    def _view_ports(cls, value: list[str]) -> list[str]:
        for port in value:
            if port not in VIEW_PORTS:
                raise ValueError(
                    f"got {port!r}; expected control-centre ports: " + ", ".join(VIEW_PORTS)
                )
        if len(set(value)) != len(value):
            raise ValueError("a port is listed twice")
        return value

    @field_validator("cmd")
    @classmethod
    def _command_line(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "%(addr)s" not in value:
            raise ValueError("expected a command line with %(addr)s (mosaik's address)")
        try:
            value % {"addr": "127.0.0.1:1", "python": "python"}
        except (KeyError, ValueError, TypeError):
            raise ValueError(
                "expected %(addr)s and %(python)s as the only %-fields (write %% for %)"
            ) from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> FunctionSpec:
        given = [k for k in ("use", "cmd", "connect") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"got {given or 'none'}; expected exactly one of use, cmd or connect")
        if self.use is None:
            if self.name is None:
                raise ValueError("an external function (cmd/connect) needs a name")
            if not self.reads:
                raise ValueError("an external function (cmd/connect) needs reads: [port, ...]")
        elif self.reads:
            raise ValueError("reads is for cmd/connect; a class declares its own reads")
        return self

    @property
    def external(self) -> bool:
        """Whether this is an external mosaik simulator (``cmd`` or ``connect``)."""
        return self.use is None
