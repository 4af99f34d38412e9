"""Solve a built model with HiGHS through Pyomo's ``contrib.solver`` interface.

Options are always set explicitly (see :data:`nationcap.config.DEFAULT_HIGHS_OPTIONS`): HiGHS
presolve stalls on this model's shape (a few thousand rows, ~10^6 bounded columns), and the
interior point method (IPX) with crossover gives a vertex solution whose row duals are the
allowance prices. A non-optimal outcome, or duals HiGHS does not mark as valid, is an error:
nationcap never reports zeros for a failed solve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import NoDualsError

from .errors import ModelError
from .model.inputs import ModelData
from .model.market import check_feasible


@dataclass
class SolveResult:
    """What any engine returns: primal values and row duals by component name.

    ``values[name]`` is the flat array of variable ``name`` in index order, converted from Mt to
    t; ``duals[name]`` the flat array of the duals of constraint ``name`` (JPY/t, present value,
    sign as documented in :mod:`nationcap.prices`). Shapes are interpreted by
    :mod:`nationcap.results`.
    """

    termination: str
    objective_jpy: float
    solve_time_s: float
    values: dict[str, np.ndarray]
    duals: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    engine: str = "pyomo"


def _values(var, n: int) -> np.ndarray:
    return np.fromiter((v.value for v in var.values()), dtype=float, count=n)


def solve(
    m: pyo.ConcreteModel,
    md: ModelData,
    log_file: str | None = None,
    opt=None,
    extra_options: dict[str, Any] | None = None,
) -> SolveResult:
    """Solve ``m``; with ``opt`` (a persistent Pyomo HiGHS solver that already holds ``m``) only
    the changes are passed on and HiGHS starts from its current basis (see persistent.py)."""
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
        if tc in (
            TerminationCondition.provenInfeasible,
            TerminationCondition.infeasibleOrUnbounded,
            TerminationCondition.locallyInfeasible,
        ):
            check_feasible(md)  # raises with the market and period when it can tell
        raise ModelError(
            f"HiGHS did not find an optimal solution for scenario {md.scenario.name!r}: "
            f"termination {tc.name}, solution status {res.solution_status.name}. "
            "Check the scenario (caps, banking) or raise solver.time_limit_s."
        )
    res.solution_loader.load_vars()
    highs = opt._solver_model  # the highspy.Highs instance Pyomo keeps
    info = highs.getInfo()
    try:
        res.solution_loader.get_duals(list(m.MarketClearing.values()))
    except NoDualsError:
        raise ModelError(
            "HiGHS returned no valid duals, so no allowance prices can be reported; keep "
            "run_crossover = 'on' (the default) in [solver.highs]"
        ) from None
    scale = md.scale_t
    values = {v.local_name: _values(v, len(v)) * scale for v in m.component_objects(pyo.Var, active=True)}
    duals = {}
    for c in m.component_objects(pyo.Constraint, active=True):
        got = res.solution_loader.get_duals(list(c.values()))
        duals[c.local_name] = np.fromiter((got[k] for k in c.values()), dtype=float, count=len(c))
    return SolveResult(
        termination=tc.name,
        objective_jpy=float(res.incumbent_objective) * scale,
        solve_time_s=elapsed,
        values=values,
        duals=duals,
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
