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
from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import NoDualsError

from ..errors import ModelError
from ..model import build_model
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


def reduced_costs(md: ModelData, reg: Registry, duals: dict[str, np.ndarray]) -> np.ndarray:
    """(J,) reduced cost of every abatement column, JPY/t present value, from the row duals:
    its PV cost minus the duals of the rows it enters times its coefficients there."""
    rc = md.discount[md.col_year] * md.col_cost
    for concept, row, coef in reg.column_rows:
        rc = rc - coef * duals[concept][row]
    return rc


#: sifting: at most this many rounds of freeing columns before every column is held
MAX_ROUNDS = 20
#: sifting: columns within this many JPY/t of the price estimate are always held
BAND_ABS_JPY_PER_T = 1.0


def price_estimate(md: ModelData) -> np.ndarray | None:
    """(M, P) present-value prices to choose the held columns by: the merit-order engine's exact
    prices where it supports ``md``, else its prices for the core of ``md`` (every rule off, the
    auctioned allowances back in the market), moved into the range where a rule with a
    ``price_range(md) -> (lo, hi)`` hook expects the price (the band; a reserve's triggers); None
    when even the core cannot be solved. Only the speed depends on it: sifting certifies the
    solution against every column whatever the estimate."""
    from .merit_order import MeritOrderEngine, core_view

    engine = MeritOrderEngine()
    view = md if not engine.supports(md) else core_view(md)
    try:
        sr = engine.solve(view)
    except ModelError:
        return None
    est = sr.duals[MARKET_BALANCE].reshape(len(md.markets), len(md.periods))
    for rule in RULES:  # a rule that holds the price in a range (a price band, reserve triggers)
        if view is not md and hasattr(rule, "price_range") and rule.active(md.scenario):
            lo, hi = rule.price_range(md)
            est = np.minimum(np.maximum(est, lo), hi)
    return est


def solve_sifting(
    md: ModelData, log_file: str | None = None, band: float = 0.05, on_phase: Callable[[str], None] | None = None
) -> SolveResult:
    """The exact optimum of the compact LP by column generation (:func:`sift`)."""
    return sift(md, log_file, band, on_phase)[0]


def uncertified(md: ModelData, reg: Registry, duals: dict[str, np.ndarray]) -> np.ndarray:
    """(J,) True for every column held outside the model that prices out at ``duals``: fixed at
    zero but cheaper than what it earns, or fixed at its upper bound but dearer."""
    w = md.discount[md.col_year] * md.col_cost
    rc = reduced_costs(md, reg, duals)
    tol = 1e-7 * np.maximum(1.0, np.abs(w))
    assert reg.in_model is not None and reg.fixed_t is not None
    outside = ~reg.in_model
    at_zero = outside & (reg.fixed_t == 0.0)
    return (at_zero & (rc < -tol)) | (outside & ~at_zero & (rc > tol))


def sift(
    md: ModelData,
    log_file: str | None = None,
    band: float = 0.05,
    on_phase: Callable[[str], None] | None = None,
    opt_factory: Callable[[], Any] | None = None,
) -> tuple[SolveResult, Any, Any]:
    """The exact optimum of the compact LP by column generation over the abatement columns, with
    the price intervals of the full LP (:func:`sifting_intervals`); returns the result, the last
    model solved and its solver (from ``opt_factory``, e.g. a persistent HiGHS that keeps the
    model for re-solves; None: a new solver per solve).

    Almost every column sits at a bound at the optimum: one whose PV cost is well below its
    row's price is used fully, one well above it not at all. The Pyomo model holds only the
    columns whose cost lies within ``band`` (a share) of a price estimate (:func:`price_estimate`);
    every other column is fixed at the bound the estimate implies. After each solve, one
    vectorised reduced-cost check over *every* column (:func:`reduced_costs`) certifies the
    solution: a column fixed at zero must not be cheaper than what it would earn at the duals, one
    fixed at its upper bound not dearer. Columns that price out are added to the model and it is
    solved again, until none does; the result is then the optimum of the full LP (not an
    approximation), with the duals of the last solve as prices.
    """
    t0 = time.perf_counter()
    w = md.discount[md.col_year] * md.col_cost
    q = md.col_qty_t
    est = price_estimate(md)
    if est is None:  # nothing to go by: hold every column
        held = np.ones(len(w), dtype=bool)
        fixed = np.zeros(len(w))
    else:
        lam = est[md.entity_market[md.col_entity], md.col_period]
        held = np.abs(w - lam) <= band * np.abs(lam) + BAND_ABS_JPY_PER_T
        fixed = np.where(held, 0.0, np.where(w < lam, q, 0.0))
    sr, m, opt, stats = _sift_rounds(md, held, fixed, log_file, on_phase, opt_factory)
    t = time.perf_counter()
    sifting_intervals(md, m, opt, sr, log_file)
    interval_s = time.perf_counter() - t
    sr.info.update(
        {
            "formulation": "sifting",
            "columns_held": int(stats["held"]),
            "columns": len(w),
            "rounds": stats["rounds"],
            "columns_freed": stats["freed"],
            "certification_s": stats["cert_s"],
        }
    )
    sr.timings = {
        "build": stats["build_s"],
        "solve": stats["solve_s"] + stats["cert_s"] + interval_s,
        "total": time.perf_counter() - t0,
    }
    return sr, m, opt


def _new_solver() -> Any:
    return SolverFactory("highs")


def _sift_rounds(
    md: ModelData,
    held: np.ndarray,
    fixed: np.ndarray,
    log_file: str | None = None,
    on_phase: Callable[[str], None] | None = None,
    opt_factory: Callable[[], Any] | None = None,
) -> tuple[SolveResult, Any, Any, dict[str, Any]]:
    """Solve the compact LP holding ``held`` (the other columns fixed at ``fixed``, t), free the
    columns that price out and solve again until none does (see :func:`sift`)."""
    held, fixed = held.copy(), fixed.copy()
    build_s = solve_s = cert_s = 0.0
    rounds = 0
    freed = 0
    while True:
        rounds += 1
        t = time.perf_counter()
        m = build_model(md, COMPACT, np.flatnonzero(held), fixed)
        build_s += time.perf_counter() - t
        if on_phase is not None and rounds == 1:
            on_phase("solve")
        t = time.perf_counter()
        opt = (opt_factory or _new_solver)()
        try:
            sr = solve_model(m, md, log_file=log_file, opt=opt)
        except ModelError:
            if held.all():
                raise  # every column held: the scenario itself is infeasible
            # the columns fixed at zero cannot meet a cap (an estimate far too low): hold them all
            solve_s += time.perf_counter() - t
            held[:] = True
            fixed = np.zeros(len(held))
            continue
        solve_s += time.perf_counter() - t
        t = time.perf_counter()
        out = uncertified(md, m.registry, sr.duals)
        cert_s += time.perf_counter() - t
        n_out = int(out.sum())
        if n_out == 0:
            break
        freed += n_out
        if rounds >= MAX_ROUNDS:
            held[:] = True
        else:
            held |= out
        fixed = np.where(held, 0.0, fixed)
    stats = {
        "held": int(held.sum()),
        "rounds": rounds,
        "freed": freed,
        "build_s": build_s,
        "solve_s": solve_s,
        "cert_s": cert_s,
    }
    return sr, m, opt, stats


def add_intervals(m: pyo.ConcreteModel, md: ModelData, opt: Any, sr: SolveResult) -> None:
    """The price intervals of a model that holds every column (compact or full formulation):
    ``sr.dual_low`` / ``sr.dual_high`` of the market rows (:mod:`.intervals`)."""
    t = time.perf_counter()
    iv = market_intervals(m, opt, sr.duals[MARKET_BALANCE])
    sr.dual_low[MARKET_BALANCE], sr.dual_high[MARKET_BALANCE] = iv.low, iv.high
    sr.info["interval_rows_perturbed"] = iv.perturbed // 2
    sr.info["interval_s"] = time.perf_counter() - t


def sifting_intervals(
    md: ModelData, m: pyo.ConcreteModel, opt: Any, sr: SolveResult, log_file: str | None = None
) -> None:
    """The price intervals of the *full* LP from a certified sifting model ``m`` (held by the
    persistent ``opt``): every perturbed solution is certified against every column; a row whose
    perturbed solution is not is solved again on a model that also holds the columns that priced
    out (every column where the held ones could not meet the requirement), until it is
    (:mod:`.intervals`). Fills ``sr.dual_low`` / ``sr.dual_high``; the model and solver held by
    the caller stay as they are."""
    t = time.perf_counter()
    reg: Registry = m.registry

    def certify(duals: dict[str, np.ndarray]) -> np.ndarray:
        return uncertified(md, reg, duals)

    def restricted(r: Registry) -> bool:
        return r.in_model is not None and not r.in_model.all()

    iv = market_intervals(m, opt, sr.duals[MARKET_BALANCE], certify=certify if restricted(reg) else None)
    low, high = iv.low, iv.high
    perturbed, widened = iv.perturbed, 0
    failed = iv.failed
    while failed:
        widened += 1
        assert reg.in_model is not None and reg.fixed_t is not None
        held = reg.in_model.copy()
        for _, _, out in failed:
            held |= True if out is None or widened >= MAX_ROUNDS else out
        fixed = np.where(held, 0.0, reg.fixed_t)
        sr2, m2, opt2, _ = _sift_rounds(md, held, fixed, log_file)
        reg = m2.registry
        rows = np.unique([k for k, _, _ in failed])
        iv = market_intervals(
            m2, opt2, sr2.duals[MARKET_BALANCE], rows=rows, certify=certify if restricted(reg) else None
        )
        low[rows], high[rows] = iv.low[rows], iv.high[rows]
        perturbed += iv.perturbed
        failed = iv.failed
    sr.dual_low[MARKET_BALANCE], sr.dual_high[MARKET_BALANCE] = low, high
    sr.info["interval_rows_perturbed"] = perturbed // 2
    sr.info["interval_models_widened"] = widened
    sr.info["interval_s"] = time.perf_counter() - t


class PyomoHighsEngine:
    """Builds the Pyomo model of every ModelData and solves it with HiGHS (every rule)."""

    name = "pyomo"

    def __init__(self, log_file: str | None = None):
        self.log_file = log_file
        #: called with "solve" when the model is built and HiGHS starts (set by nationcap.pipeline)
        self.on_phase: Callable[[str], None] | None = None

    def supports(self, md: ModelData) -> list[str]:
        return []

    def solve(self, md: ModelData) -> SolveResult:
        check_feasible(md)
        solver = md.scenario.solver
        if solver.formulation == "sifting":
            return solve_sifting(md, log_file=self.log_file, band=solver.sifting_band, on_phase=self.on_phase)
        t = time.perf_counter()
        m = build_model(md, solver.formulation)
        build_s = time.perf_counter() - t
        if self.on_phase is not None:
            self.on_phase("solve")
        t = time.perf_counter()
        opt = _new_solver()
        sr = solve_model(m, md, log_file=self.log_file, opt=opt)
        add_intervals(m, md, opt, sr)
        sr.timings = {"build": build_s, "solve": time.perf_counter() - t}
        sr.info["formulation"] = solver.formulation
        return sr
