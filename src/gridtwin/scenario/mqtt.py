"""The ``mqtt`` section: the process bus (``--mqtt URL``).

gridtwin publishes the control-centre view to an MQTT broker each step and
takes commands from it (:mod:`gridtwin.bus`). Credentials come from the
environment only (``GRIDTWIN_MQTT_USERNAME`` / ``GRIDTWIN_MQTT_PASSWORD``); a
URL with a password in it is refused, so none can reach ``scenario.yaml``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from gridtwin.scenario.base import MAX_DURATION_S, Section, check_url

__all__ = ["MqttFormats", "MqttSpec", "PublishSpec", "mqtt_spec"]

Format = Literal["villas", "sogno"]
"""A payload format: VILLASnode JSON or SOGNO JSON."""


class MqttFormats(Section):
    """The payload format of each topic group."""

    measurements: Format = "villas"
    estimates: Format = "villas"
    forecasts: Format = "villas"
    status: Format = "villas"
    commands: Format = Field(default="villas", description="the format commands must come in")


class PublishSpec(Section):
    """What the bridge publishes each step besides the measurement frames."""

    measurements: bool = True
    estimates: bool = Field(default=False, description="the state estimate (bus_vm_pu, ...)")
    forecasts: bool = Field(
        default=False, description="the forecasts in effect for the step (quantiles [MW])"
    )
    status: bool = Field(default=False, description="switch and tap positions as SCADA reports")


class MqttSpec(Section):
    """The MQTT process bus: the control-centre view out, commands in."""

    url: str = Field(description="broker URL, mqtt://host:1883 or mqtts://host:8883 (TLS)")
    topic_prefix: str = Field(
        default="gridtwin/{run_id}",
        description="prefix of every topic; {run_id} and {scenario} are filled in",
    )
    client_id: str | None = Field(default=None, description="default: gridtwin-<run id>")
    qos: Literal[0, 1] = Field(default=0, description="QoS of published measurements")
    formats: MqttFormats = Field(default_factory=MqttFormats)
    publish: PublishSpec = Field(default_factory=PublishSpec)
    clock: Literal["auto", "simulated", "wall"] = Field(
        default="auto",
        description="bus time stamps: simulated time, or wall-clock time "
        "(auto: wall when time.real_time_factor is set)",
    )
    max_lateness_s: float | None = Field(
        default=None,
        ge=0,
        le=MAX_DURATION_S,
        description="a command older than this on the bus clock is rejected as late "
        "[s] (default: one step of the bus clock)",
    )
    max_queued: int = Field(
        default=1000,
        gt=0,
        description="messages paho may queue unsent; beyond, a measurement is dropped",
    )
    max_pending_commands: int = Field(
        default=10_000, gt=0, description="received commands held for the next step"
    )
    connect_wait_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="how long the run waits for the broker before its first step [s]; "
        "without it by then, the run starts and the bridge keeps trying",
    )
    keepalive_s: int = Field(default=10, ge=5, le=600, description="MQTT keep-alive [s]")
    reconnect_min_s: float = Field(default=0.1, gt=0, le=60, description="first back-off [s]")
    reconnect_max_s: float = Field(default=5.0, gt=0, le=600, description="longest back-off [s]")

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        parts = check_url(value, ("mqtt", "mqtts"), "mqtt://localhost:1883")
        if parts.password is not None or parts.username is not None:
            raise ValueError(
                "expected a URL without user or password; give them in "
                "GRIDTWIN_MQTT_USERNAME / GRIDTWIN_MQTT_PASSWORD"
            )
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("expected a URL like mqtt://localhost:1883, without path or query")
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        probe = value.replace("{run_id}", "r").replace("{scenario}", "s")
        if not probe or any(c in probe for c in "#+{}") or probe.startswith("/"):
            raise ValueError(
                "expected topic levels without #, +, braces (other than {run_id}, "
                "{scenario}) or a leading /, e.g. gridtwin/{run_id}"
            )
        return value.rstrip("/")


def mqtt_spec(data: dict[str, Any], source: str) -> MqttSpec:
    """An :class:`MqttSpec` from options (``--mqtt``), or a one-line :class:`InputError`."""
    from gridtwin.scenario.messages import to_input_error

    try:
        return MqttSpec(**data)
    except ValidationError as exc:
        raise to_input_error(exc, source, MqttSpec) from None
