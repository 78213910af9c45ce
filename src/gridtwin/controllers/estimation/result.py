"""What a state estimate is, whichever engine produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

__all__ = ["Estimate", "Status"]


class Status(IntEnum):
    """Outcome of one estimation."""

    ESTIMATED = 0
    NOT_ESTIMATED = 1  # unobservable or diverged; values are the last estimate held


@dataclass(slots=True)
class Estimate:
    """One state estimate; arrays are ordered as the pandapower tables.

    Attributes
    ----------
    status : Status
        ``ESTIMATED`` or ``NOT_ESTIMATED`` (then the arrays hold the last
        estimate, or a flat start before the first one; never NaN).
    bus_vm_pu, bus_va_degree : ndarray
        Estimated voltage magnitude [pu] and angle [degree].
    line_p_from_mw, line_q_from_mvar, line_loading_percent : ndarray
        Estimated line flows at the from end [MW], [MVAr] and loading [%].
    objective : float
        Weighted sum of squared residuals J of the final estimate [-].
    chi2_limit : float
        The chi-square limit J was tested against [-].
    dof : int
        Degrees of freedom of the test: measurements (with zero-injection
        constraints) minus state variables [-].
    bad_data_detected : bool
        The first estimate of this step failed the chi-square test.
    removed : list of str
        Measurements removed as bad data (largest normalized residual), in order.
    bad_data_not_identifiable : bool
        Bad data detected, but the largest normalized residual could not be
        identified (critical measurement or critical pair); nothing more removed.
    compute_ms : float
        Wall time of the estimation, bad-data handling included [ms].
    """

    status: Status
    bus_vm_pu: np.ndarray
    bus_va_degree: np.ndarray
    line_p_from_mw: np.ndarray
    line_q_from_mvar: np.ndarray
    line_loading_percent: np.ndarray
    objective: float = float("nan")
    chi2_limit: float = float("nan")
    dof: int = 0
    bad_data_detected: bool = False
    removed: list[str] = field(default_factory=list)
    compute_ms: float = 0.0
    bad_data_not_identifiable: bool = False

    @property
    def chi2_ok(self) -> bool:
        """The final estimate passes the chi-square test."""
        return bool(self.objective <= self.chi2_limit)

    def held(self, compute_ms: float) -> Estimate:
        """This estimate's values, marked not estimated (for an unobservable step)."""
        return Estimate(
            Status.NOT_ESTIMATED,
            self.bus_vm_pu,
            self.bus_va_degree,
            self.line_p_from_mw,
            self.line_q_from_mvar,
            self.line_loading_percent,
            compute_ms=compute_ms,
        )

    @classmethod
    def flat(cls, n_bus: int, n_line: int) -> Estimate:
        """A flat start (1 pu, 0 degree, no flow), marked not estimated."""
        return cls(
            Status.NOT_ESTIMATED,
            np.ones(n_bus),
            np.zeros(n_bus),
            np.zeros(n_line),
            np.zeros(n_line),
            np.zeros(n_line),
        )
