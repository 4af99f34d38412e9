"""The reference engine: the LP of :mod:`nationcap.model` in Pyomo, solved by HiGHS.

HiGHS is driven through Pyomo's ``contrib.solver`` interface. Options are always set explicitly
(see :data:`nationcap.config.DEFAULT_HIGHS_OPTIONS`): HiGHS presolve stalls on this model's shape
(a few thousand rows, ~10^6 bounded columns), and the interior point method (IPX) with crossover
gives a vertex solution whose row duals are the allowance prices. A non-optimal outcome, or duals
HiGHS does not mark as valid, is an error: nationcap never reports zeros for a failed solve.

Values and duals are taken from the components the model registered under a concept name
(``concept_names`` of the built model), converted from Mt to t.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import NoDualsError

from ..errors import ModelError
from ..model import build_model
from ..model.data import ModelData
from .base import SolveResult, Status
from .feasibility import check_feasible

_STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: Status.OPTIMAL,
    TerminationCondition.provenInfeasible: Status.INFEASIBLE,
    TerminationCondition.locallyInfeasible: Status.INFEASIBLE,
    TerminationCondition.infeasibleOrUnbounded: Status.INFEASIBLE,
    TerminationCondition.unbounded: Status.UNBOUNDED,
    TerminationCondition.maxTimeLimit: Status.TIME_LIMIT,
}


def _values(var, n: int) -> np.ndarray:
    return np.fromiter((v.value for v in var.values()), dtype=float, count=n)


def solve_model(
    m: pyo.ConcreteModel,
    md: ModelData,
    log_file: str | None = None,
    opt=None,
    extra_options: dict[str, Any] | None = None,
) -> SolveResult:
    """Solve a built model ``m`` of ``md``; with ``opt`` (a persistent Pyomo HiGHS solver that
    already holds ``m``) only the changes are passed on and HiGHS starts from its current basis
    (see :mod:`.persistent`)."""
    opts = md.scenario.solver.highs_options()
    if log_file:
        opts = {**opts, "log_file": str(log_file)}
    opts.update(extra_options or {})
    if opt is None:
        opt = SolverFactory("highs")
    if not opt.available():
        raise ModelError("HiGHS is not available: install highspy (pip install highspy)")
    t0 = time.perf_counter()
    res = opt.solve(m, solver_options=opts, load_solutions=False, raise_exception_on_nonoptimal_result=False, tee=False)
    elapsed = time.perf_counter() - t0
    tc = res.termination_condition
    if tc != TerminationCondition.convergenceCriteriaSatisfied or res.solution_status != SolutionStatus.optimal:
        if _STATUS.get(tc) == Status.INFEASIBLE:
            check_feasible(md)  # raises with the market and period when it can tell
        raise ModelError(
            f"HiGHS did not find an optimal solution for scenario {md.scenario.name!r}: "
            f"termination {tc.name}, solution status {res.solution_status.name}. "
            "Check the scenario (caps, banking) or raise solver.time_limit_s."
        )
    res.solution_loader.load_vars()
    highs = opt._solver_model  # the highspy.Highs instance Pyomo keeps
    info = highs.getInfo()
    names: dict[str, str] = m.concept_names
    clearing = m.component(next(k for k, v in names.items() if v == "market_balance"))
    try:
        res.solution_loader.get_duals(list(clearing.values()))
    except NoDualsError:
        raise ModelError(
            "HiGHS returned no valid duals, so no allowance prices can be reported; keep "
            "run_crossover = 'on' (the default) in [solver.highs]"
        ) from None
    scale = md.scale_t
    values, duals = {}, {}
    for v in m.component_objects(pyo.Var, active=True):
        if v.local_name in names:
            values[names[v.local_name]] = _values(v, len(v)) * scale
    for c in m.component_objects(pyo.Constraint, active=True):
        if c.local_name in names:
            got = res.solution_loader.get_duals(list(c.values()))
            duals[names[c.local_name]] = np.fromiter((got[k] for k in c.values()), dtype=float, count=len(c))
    return SolveResult(
        status=Status.OPTIMAL,
        detail=tc.name,
        objective_jpy=float(res.incumbent_objective) * scale,
        solve_time_s=elapsed,
        values=values,
        duals=duals,
        engine="pyomo",
        info={
            "simplex_iterations": int(info.simplex_iteration_count),
            "ipm_iterations": int(info.ipm_iteration_count),
            "crossover_iterations": int(info.crossover_iteration_count),
            "primal_solution_status": int(info.primal_solution_status),
            "dual_solution_status": int(info.dual_solution_status),
            "max_primal_infeasibility": float(info.max_primal_infeasibility),
            "max_dual_infeasibility": float(info.max_dual_infeasibility),
        },
    )


class PyomoHighsEngine:
    """Builds the Pyomo model of every ModelData and solves it with HiGHS (every rule)."""

    name = "pyomo"

    def __init__(self, log_file: str | None = None):
        self.log_file = log_file

    def supports(self, md: ModelData) -> list[str]:
        return []

    def solve(self, md: ModelData) -> SolveResult:
        t = time.perf_counter()
        check_feasible(md)
        m = build_model(md)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        sr = solve_model(m, md, log_file=self.log_file)
        sr.timings = {"build": build_s, "solve": time.perf_counter() - t}
        return sr
