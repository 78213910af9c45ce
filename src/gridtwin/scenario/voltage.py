"""The ``voltage_control`` section: band, OLTC, local DER curves, central control."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridtwin.scenario.base import MAX_DURATION_S, DurationS, PositiveDurationS, Section

__all__ = [
    "CentralSpec",
    "CurveSpec",
    "LocalCurvesSpec",
    "OltcSpec",
    "VoltageControlSpec",
]


class CurveSpec(Section):
    """A piecewise-linear DER curve: voltages [pu], values [pu of the unit's rating]."""

    v_pu: list[float] = Field(min_length=2, description="strictly increasing voltages [pu]")
    y_pu: list[float] = Field(min_length=2, description="non-increasing values [pu of rating]")

    @model_validator(mode="after")
    def _valid_curve(self) -> CurveSpec:
        from gridtwin.controllers.voltage.curves import Curve

        try:
            Curve(tuple(self.v_pu), tuple(self.y_pu))
        except ValueError as exc:
            field = "v_pu" if str(exc).startswith("voltages") else "y_pu"
            raise ValueError(f"{field}: {exc}") from None
        return self


class OltcSpec(Section):
    """On-load tap changer control at the substation transformers."""

    set_point_pu: float = Field(default=1.0, gt=0.8, lt=1.2, description="busbar voltage [pu]")
    dead_band_pu: float = Field(default=0.01, gt=0, lt=0.1, description="half width [pu]")
    delay: DurationS = Field(default=0, description="time outside the band before a step")
    ldc_r_pu: float = Field(default=0.0, ge=0, description="line-drop compensation R [pu]")
    ldc_x_pu: float = Field(default=0.0, ge=0, description="line-drop compensation X [pu]")


class LocalCurvesSpec(Section):
    """Q(U) and P(U) at every DER unit, on its own terminal voltage."""

    preset: Literal["ieee1547_b", "vde4110", "vde4105"] = "ieee1547_b"
    q_u: CurveSpec | None = Field(default=None, description="overrides the preset's Q(U)")
    p_u: CurveSpec | None = Field(default=None, description="overrides the preset's P(U)")
    q_u_enabled: bool = True
    p_u_enabled: bool = True
    response_time_s: float = Field(
        default=10.0, ge=0, le=MAX_DURATION_S, description="first-order time constant [s]"
    )


class CentralSpec(Section):
    """Centralized optimal voltage control on the state estimate."""

    interval: PositiveDurationS = Field(
        default=900, description="control interval, a multiple of step"
    )
    margin_pu: float = Field(default=0.005, ge=0, lt=0.05, description="kept from the band [pu]")
    q_limit_pu: float = Field(default=0.44, ge=0, le=1, description="DER Q limit [pu of rating]")
    cost_curtailment_per_mw: float = Field(default=100.0, ge=0)
    cost_q_per_mvar: float = Field(default=1.0, ge=0)
    cost_tap_per_step: float = Field(default=5.0, ge=0)


class VoltageControlSpec(Section):
    """Voltage band and the voltage controllers (each optional; none = no control)."""

    band_mv_pu: tuple[float, float] = Field(default=(0.95, 1.05), description="1-35 kV buses")
    band_lv_pu: tuple[float, float] = Field(default=(0.90, 1.10), description="below 1 kV")
    oltc: OltcSpec | None = None
    local: LocalCurvesSpec | None = None
    central: CentralSpec | None = None

    @model_validator(mode="after")
    def _bands_ordered(self) -> VoltageControlSpec:
        for name in ("band_mv_pu", "band_lv_pu"):
            lower, upper = getattr(self, name)
            if not lower < upper:
                raise ValueError(f"{name}: lower limit {lower} is not below upper limit {upper}")
        return self
