"""Switch reconfiguration of distribution grids: a pure optimizer (no mosaik).

Find, per period, the radial configuration of the switchable lines that
minimizes a weighted sum of energy losses (AC power flows), limit violations,
switching operations and expected interruption cost (RELRAD), and assess any
given configuration plan the same way. The search's budget is a count of
evaluations, so the same seed gives the same plan on any machine; a
wall-clock cap (``time_limit_s``) is an optional safety stop, reported as
status ``time_limit`` when it binds. A :class:`SearchMemory` passed from one
search to the next on the same grid (``memory=``) is a warm start: power flows
and periods searched before are not computed again.

Example
-------
>>> import pandapower.networks as pn
>>> from gridtwin.controllers.reconfig import Problem, Weights, optimize
>>> problem = Problem.from_net(pn.case33bw(), all_lines_switchable=True)
>>> solution = optimize(problem, weights=Weights.for_objective("losses"), max_evaluations=20000)
>>> str(solution.status)  # ended by itself; "budget" if the evaluation count had ended it
'local'
>>> round(solution.assessment.losses_mwh * 1e3, 2)  # kWh in one hour = kW
139.55
>>> solution.open_lines()
[6, 8, 13, 31, 36]
"""

from gridtwin.controllers.reconfig.assess import Assessment, PeriodAssessment, assess
from gridtwin.controllers.reconfig.graph import is_radial, radial_reasons, repair
from gridtwin.controllers.reconfig.memory import SearchMemory
from gridtwin.controllers.reconfig.objective import Objective, Weights
from gridtwin.controllers.reconfig.problem import (
    DEFAULT_COST_PER_KWH,
    CustomerCategory,
    Periods,
    Problem,
    ReliabilityData,
    ReliabilityParams,
)
from gridtwin.controllers.reconfig.reliability import BusReliability, bus_reliability
from gridtwin.controllers.reconfig.search import (
    DEFAULT_MAX_EVALUATIONS,
    Solution,
    Status,
    optimize,
)

__all__ = [
    "DEFAULT_COST_PER_KWH",
    "DEFAULT_MAX_EVALUATIONS",
    "Assessment",
    "BusReliability",
    "CustomerCategory",
    "Objective",
    "PeriodAssessment",
    "Periods",
    "Problem",
    "ReliabilityData",
    "ReliabilityParams",
    "SearchMemory",
    "Solution",
    "Status",
    "Weights",
    "assess",
    "bus_reliability",
    "is_radial",
    "optimize",
    "radial_reasons",
    "repair",
]
