"""Sifting: the exact optimum of the compact LP by column generation over the abatement columns.

Almost every abatement column sits at a bound at the optimum, so the Pyomo model holds only the
columns near a price estimate; one vectorised reduced-cost pass over every column certifies each
solution (:func:`uncertified`), and columns that price out are added until none does. The result
is the optimum of the full LP, with its price intervals (:func:`sifting_intervals`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import ModelError
from ..model import build_model
from ..model.data import ModelData
from ..model.registry import COMPACT, MARKET_BALANCE, Registry
from ..model.rules import RULES
from .base import SolveResult
from .highs import new_solver, solve_model
from .intervals import market_intervals


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
        opt = (opt_factory or new_solver)()
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
