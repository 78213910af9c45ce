"""The centralized controller's linear program, kept in one HiGHS model per linearization (pure).

The program's matrix holds the voltage sensitivities; between two
linearizations only its right-hand sides (the estimated voltages, the
set-points in force, the tap position) and the curtailment bounds (the
available power) change. :class:`VoltageLp` builds the HiGHS model once per
linearization and then only changes those, so that every solve starts from
the previous optimal basis (a dual simplex warm start) instead of from
scratch.

Variables ``x = [q+ (n_g), q- (n_g), c (n_g), tap, u, s (n_b)]``: reactive
power up and down [MVAr], curtailment [MW], the tap position and its
movement ``u = |tap - tap_now|`` [steps] (only with a regulated
transformer), and the band violation per banded bus [pu]. Rows: for every
banded bus ``v = const + S_q (q+ - q-) - S_p c + s_t tap`` stays within
``[vm_min - s, vm_max + s]``; ``tap - u <= tap_now``, ``-tap - u <= -tap_now``.

References
----------
.. [1] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex
   method", Mathematical Programming Computation 10, 2018, pp. 119-142 (HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity, vstack

__all__ = ["LpSolution", "VoltageLp"]

_ITERATION_LIMIT = 100_000
"""Budget of one solve [simplex iterations]: a count, so that the same scenario and
seed give the same decisions however busy the machine is (the shipped grids'
programs take a few hundred)."""
_TIME_LIMIT_S = 60.0
"""Wall-clock safety stop of one solve [s], far above the iteration budget's cost."""


@dataclass(frozen=True, slots=True)
class LpSolution:
    """An optimal point of the program: ``x`` (see the module doc) and its objective."""

    x: np.ndarray
    fun: float


class VoltageLp:
    """The linear program of one linearization, warm-started from solve to solve.

    Parameters
    ----------
    sq, sp : ndarray, shape (n_b, n_g)
        dV/dQ [pu/MVAr] and dV/dP [pu/MW] of every banded bus per sgen.
    s_t : ndarray or None, shape (n_b,)
        dV/dtap [pu/step]; None without a regulated transformer.
    q_max_mvar : ndarray
        Reactive power limit per sgen [MVAr].
    tap_range : tuple of int or None
        ``(tap_min, tap_max)`` of the regulated transformers.
    costs : tuple of float
        Weights of curtailment [per MW], reactive power [per MVAr], tap
        movement [per step] and band violation [per pu].
    previous : VoltageLp, optional
        The program of the previous linearization: its last optimal basis is
        the starting point of this one (the optimum does not depend on it).
    """

    def __init__(
        self,
        sq: np.ndarray,
        sp: np.ndarray,
        s_t: np.ndarray | None,
        q_max_mvar: np.ndarray,
        tap_range: tuple[int, int] | None,
        costs: tuple[float, float, float, float],
        previous: VoltageLp | None = None,
    ) -> None:
        # the plain solver: highspy.Highs adds Python callbacks (and prints a banner)
        from highspy import _Highs  # type: ignore[attr-defined]

        n_b, n_g = sq.shape
        has_tap = s_t is not None
        self.n_g, self.n_b, self.has_tap = n_g, n_b, has_tap
        nt = 2 if has_tap else 0
        self.n_x = 3 * n_g + nt + n_b
        blocks = [csc_matrix(sq), csc_matrix(-sq), csc_matrix(-sp)]
        if has_tap:
            assert s_t is not None
            blocks += [csc_matrix(s_t.reshape(-1, 1)), csc_matrix((n_b, 1))]
        a_v = hstack(blocks)
        eye = identity(n_b, format="csc")
        rows = [hstack([a_v, -eye]), hstack([-a_v, -eye])]
        if has_tap:
            k = 3 * n_g
            tap_rows = np.zeros((2, self.n_x))
            tap_rows[0, k], tap_rows[0, k + 1] = 1.0, -1.0  # tap - u <= tap_now
            tap_rows[1, k], tap_rows[1, k + 1] = -1.0, -1.0  # -tap - u <= -tap_now
            rows.append(csc_matrix(tap_rows))
        a = csr_matrix(vstack(rows))  # HiGHS reads rows in compressed row order
        a.sort_indices()
        w_c, w_q, w_t, w_s = costs
        cost = np.concatenate(
            [
                np.full(2 * n_g, w_q),
                np.full(n_g, w_c),
                [0.0, w_t] if has_tap else [],
                np.full(n_b, w_s),
            ]
        )
        self.lo = np.zeros(self.n_x)
        self.hi = np.concatenate(
            [
                q_max_mvar,
                q_max_mvar,
                np.zeros(n_g),
                [0.0, np.inf] if has_tap else [],
                np.full(n_b, np.inf),
            ]
        )
        if has_tap:
            assert tap_range is not None
            self.lo[3 * n_g], self.hi[3 * n_g] = tap_range
        h = _Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("simplex_iteration_limit", _ITERATION_LIMIT)
        h.setOptionValue("time_limit", _TIME_LIMIT_S)
        self.inf = h.getInfinity()
        self.n_rows = a.shape[0]
        h.addVars(self.n_x, self.lo, np.minimum(self.hi, self.inf))
        h.changeColsCost(self.n_x, np.arange(self.n_x, dtype=np.int32), cost)
        h.addRows(
            self.n_rows,
            np.full(self.n_rows, -self.inf),
            np.zeros(self.n_rows),
            a.nnz,
            a.indptr[:-1].astype(np.int32),
            a.indices.astype(np.int32),
            a.data,
        )
        self._h = h
        if previous is not None and previous.n_x == self.n_x and previous.n_rows == self.n_rows:
            # same structure, new coefficients: start from the last optimal basis
            basis = previous._h.getBasis()
            if basis.valid:
                h.setBasis(basis)
        self._rows_idx = np.arange(self.n_rows, dtype=np.int32)
        self._cols_idx = np.arange(self.n_x, dtype=np.int32)

    def solve(
        self, ub_v: np.ndarray, lb_v: np.ndarray, avail_mw: np.ndarray, tap_now: int | None
    ) -> LpSolution | None:
        """The optimum for the voltage rows' bounds and the available power; None if none.

        ``ub_v = vm_max - const`` and ``lb_v = vm_min - const`` per banded bus
        [pu]. The integer tap: the relaxation, and if its tap is fractional the
        better of its two integer neighbours, each solved with the tap fixed.
        """
        taps = [tap_now, -tap_now] if tap_now is not None and self.has_tap else []
        upper = np.concatenate([ub_v, -lb_v, taps])
        h = self._h
        h.changeRowsBounds(self.n_rows, self._rows_idx, np.full(self.n_rows, -self.inf), upper)
        hi = self.hi.copy()
        hi[2 * self.n_g : 3 * self.n_g] = avail_mw
        best = self._run(self.lo, hi)
        if best is not None and self.has_tap:
            k = 3 * self.n_g
            tap = best.x[k]
            if abs(tap - round(tap)) > 1e-6:
                best = None
                for fixed_tap in sorted({int(np.floor(tap + 1e-9)), int(np.ceil(tap - 1e-9))}):
                    lo_t, hi_t = self.lo.copy(), hi.copy()
                    lo_t[k] = hi_t[k] = fixed_tap
                    fixed = self._run(lo_t, hi_t)
                    if fixed is not None and (best is None or fixed.fun < best.fun):
                        best = fixed
        return best

    def _run(self, lo: np.ndarray, hi: np.ndarray) -> LpSolution | None:
        from highspy import HighsModelStatus

        h = self._h
        h.changeColsBounds(self.n_x, self._cols_idx, lo, np.minimum(hi, self.inf))
        h.run()
        if h.getModelStatus() != HighsModelStatus.kOptimal:
            return None
        x = np.asarray(h.getSolution().col_value, dtype=float)
        return LpSolution(x, float(h.getInfo().objective_function_value))
