"""The HiGHS driver of the Pyomo engine: solve a built model, read values and duals by concept.

HiGHS is driven through Pyomo's ``contrib.solver`` interface. Options are always set explicitly
(see :data:`nationcap.config.DEFAULT_HIGHS_OPTIONS`): HiGHS presolve stalls on this model's shape
(a few thousand rows, ~10^6 bounded columns), and the interior point method (IPX) with crossover
gives a vertex solution whose row duals are the allowance prices. A non-optimal outcome, or duals
HiGHS does not mark as valid, is an error: nationcap never reports zeros for a failed solve.

Values and duals are taken from the components the model registered under a concept name
(``concept_names`` of the built model), converted from LP units to t. A solver made by
:func:`persistent_solver` keeps the model between solves, so that a re-solve passes on changed
right-hand sides only and HiGHS starts from its last basis (:mod:`.pyomo_highs`, ``hold``).
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
from ..model.core.objective import fixed_cost_jpy
from ..model.data import ModelData
from ..model.registry import ABATEMENT, COMPACT, ENTITY_COMPLIANCE, MARKET_BALANCE, NET_PURCHASE, Registry
from ..model.rules import RULES
from .base import SolveResult, Status
from .feasibility import check_feasible
from .intervals import market_intervals

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
    (:func:`persistent_solver`)."""
    opts = md.scenario.solver.highs_options()
    if log_file:
        opts = {**opts, "log_file": str(log_file)}
    opts.update(extra_options or {})
    if opt is None:
        opt = new_solver()
    if not opt.available():
        raise ModelError("HiGHS is not available: install highspy (pip install highspy)")
    t0 = time.perf_counter()
    res = opt.solve(m, solver_options=opts, load_solutions=False, raise_exception_on_nonoptimal_result=False, tee=False)
    elapsed = time.perf_counter() - t0
    tc = res.termination_condition
    if tc != TerminationCondition.convergenceCriteriaSatisfied or res.solution_status != SolutionStatus.optimal:
        status = _STATUS.get(tc)
        if status == Status.INFEASIBLE:
            check_feasible(md)  # raises with the market and period when it can tell
            hint = (
                "The pre-solve check, which counts the most every source of supply could deliver, "
                "finds no market or linked pair short on its own: the caps fail through the combined "
                "limits (per-entity offset limits, link or import limits in particular periods). "
                "Loosen a compliance factor or a limit."
            )
            if tc == TerminationCondition.infeasibleOrUnbounded:
                hint += " (HiGHS could not tell infeasible from unbounded: check the price bands and links too.)"
        elif status == Status.UNBOUNDED:
            hint = (
                "Somewhere allowances can be had for less than they earn without limit: check the price "
                "floors against the ceilings, imports and linked markets' bands."
            )
        else:
            hint = "Check the scenario (caps, banking) or raise solver.time_limit_s."
        raise ModelError(
            f"HiGHS did not find an optimal solution for scenario {md.scenario.name!r}: "
            f"termination {tc.name}, solution status {res.solution_status.name}. {hint}"
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
    reg: Registry = m.registry
    objective = float(res.incumbent_objective) * scale
    if reg.columns is not None:  # held columns only: the others are fixed at a bound
        assert reg.fixed_t is not None  # set together with the columns (Registry.hold)
        abate = reg.fixed_t.copy()
        abate[reg.columns] = values[ABATEMENT]
        values[ABATEMENT] = abate
        objective += fixed_cost_jpy(md, reg.fixed_t)
    if reg.formulation == COMPACT:
        values[NET_PURCHASE], duals[ENTITY_COMPLIANCE] = _entity_positions(md, values, duals)
    return SolveResult(
        status=Status.OPTIMAL,
        detail=tc.name,
        objective_jpy=objective,
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


def _entity_positions(
    md: ModelData, values: dict[str, np.ndarray], duals: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Net purchases (E*P,) in t and the entity compliance duals of a compact model.

    From the eliminated entity rows (:mod:`nationcap.model.core.market`): ``NetPurchase[i, p] =
    need[i, p] - abatement[i, p] - (the rules' entity terms)``, after each rule has split what it
    solved per market among the entities (its ``expand`` hook); the dual of every entity row is
    its market's price.
    """
    n_p = len(md.periods)
    net = md.need_t().ravel()
    np.add.at(net, md.col_entity * n_p + md.col_period, -values[ABATEMENT])
    for rule in RULES:
        if hasattr(rule, "expand"):
            rule.expand(md, values)
        if hasattr(rule, "entity_terms"):
            net -= rule.entity_terms(md, values)
    price = duals[MARKET_BALANCE].reshape(len(md.markets), n_p)
    return net, price[md.entity_market].ravel()


def new_solver() -> Any:
    """A HiGHS solver that builds its own copy of each model it solves."""
    return SolverFactory("highs")


def persistent_solver() -> Any:
    """A persistent HiGHS whose re-solves pass on parameter changes only (no rescans of
    constraints, variables or the objective: only right-hand sides change)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    opt = Highs()
    au = opt.config.auto_updates
    for flag in (
        "check_for_new_or_removed_constraints",
        "check_for_new_or_removed_vars",
        "check_for_new_or_removed_params",
        "check_for_new_objective",
        "update_constraints",
        "update_vars",
        "update_named_expressions",
        "update_objective",
    ):
        setattr(au, flag, False)
    au.update_parameters = True
    return opt


def add_intervals(m: pyo.ConcreteModel, md: ModelData, opt: Any, sr: SolveResult) -> None:
    """The price intervals of a model that holds every column (compact or full formulation):
    ``sr.dual_low`` / ``sr.dual_high`` of the market rows (:mod:`.intervals`)."""
    t = time.perf_counter()
    iv = market_intervals(m, opt, sr.duals[MARKET_BALANCE])
    sr.dual_low[MARKET_BALANCE], sr.dual_high[MARKET_BALANCE] = iv.low, iv.high
    sr.info["interval_rows_perturbed"] = iv.perturbed // 2
    sr.info["interval_s"] = time.perf_counter() - t
