"""Validated tables -> :class:`~nationcap.model.data.ModelData`.

Everything index-like is precomputed here with numpy/pandas so that no Pyomo rule ever scans a
set: each abatement column knows its entity, year and period, and the columns of one
(entity, period) pair are contiguous (sorted by entity, period, year, step).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ..config import Scenario
from ..config.schema import MAX_PRICE_JPY_PER_T
from ..derive.allocation import (
    allocation_t,
    allocation_years_t,
    base_emissions,
    benchmark_basis,
    direct_factor,
    period_sums,
    required_reduction_t,
)
from ..derive.coverage import bau_matrix
from ..derive.scope import Scope
from ..derive.scope import resolve as resolve_scope
from ..errors import Problems
from ..inputs.contract import MAX_ENTITY_T
from ..inputs.tables import Dataset
from .data import SMALLEST_LP_QUANTITY, ModelData, PrecisionWarning, choose_scale_t
from .rules import RULES
from .rules import offsets as offsets_rule


def prepare(scn: Scenario, ds: Dataset, previous: Scope | None = None) -> ModelData:
    """Build :class:`ModelData` from a validated scenario and dataset.

    The scenario's market selections and splits are resolved first
    (:func:`nationcap.derive.scope.resolve`): the model data holds the covered entities only, one
    market per resolved market, and the :class:`~nationcap.derive.scope.Scope` in ``scope``
    (``previous``: a scope to re-use for the same selections on the same tables).

    The core arrays first (allocation, BAU, abatement columns), then each program rule's slice
    (:data:`nationcap.model.rules.RULES`, in order); a rule may adjust the core arrays (the
    auction moves part of the cap out of the free allocation).
    """
    scope = resolve_scope(scn, ds, previous)
    scn, ds = scope.scenario, scope.dataset
    years = scn.years
    periods = [p.name for p in scn.periods]
    pidx = {p: i for i, p in enumerate(periods)}
    period_of = scn.period_of_year()
    year_period = np.array([pidx[period_of[y]] for y in years])
    discount = np.array([scn.discount_factor(y) for y in years])
    markets = list(scn.markets)
    ent = ds.entities
    entity_market = pd.Index(markets).get_indexer(ent["market"])
    # emissions_basis = "direct": BAU, base and (as shares of BAU) abatement x (1 - electricity_share)
    direct = direct_factor(scn, ds)
    bau = bau_matrix(ds, years).to_numpy(dtype=float) * direct[:, None]
    base, base_first = base_emissions(scn, ds)
    base = base * direct
    basis = benchmark_basis(scn, ds, base.to_numpy(dtype=float))
    alloc_df = allocation_t(scn, ds, base, basis)
    alloc_full = alloc_df[periods].to_numpy(dtype=float)
    required = required_reduction_t(scn, ds, base, alloc_df)[periods].to_numpy(dtype=float)

    mac = ds.mac
    e_idx = ent.index.get_indexer(mac["entity_id"])
    share = mac["abatement_share"].to_numpy(dtype=float)
    cost = mac["cost_jpy_per_t"].to_numpy(dtype=float)
    step = mac["step"].to_numpy(dtype=np.int64)
    n_y = len(years)
    if "year" in mac.columns:
        y_idx = pd.Index(years).get_indexer(mac["year"])
        keep = y_idx >= 0  # steps for years outside the model horizon do not apply
        c_e, c_y, c_s, c_c, c_sh = e_idx[keep], y_idx[keep], step[keep], cost[keep], share[keep]
    else:
        c_e = np.repeat(e_idx, n_y)
        c_y = np.tile(np.arange(n_y), len(e_idx))
        c_s, c_c, c_sh = np.repeat(step, n_y), np.repeat(cost, n_y), np.repeat(share, n_y)
    qty = c_sh * bau[c_e, c_y]
    keep = qty > 0
    c_e, c_y, c_s, c_c, qty = c_e[keep], c_y[keep], c_s[keep], c_c[keep], qty[keep]
    n_p = len(periods)
    order = np.lexsort((c_s, c_y, year_period[c_y], c_e))
    c_e, c_y, c_s, c_c, qty = c_e[order], c_y[order], c_s[order], c_c[order], qty[order]
    row = c_e * n_p + year_period[c_y]
    counts = np.bincount(row, minlength=len(ent) * n_p)
    row_start = np.concatenate([[0], np.cumsum(counts)])
    md = ModelData(
        scenario=scn,
        dataset=ds,
        entities=ent.index.to_numpy(),
        markets=markets,
        periods=periods,
        years=years,
        year_period=year_period,
        discount=discount,
        entity_market=entity_market,
        bau_t=bau,
        alloc_t=alloc_full,
        col_entity=c_e,
        col_year=c_y,
        col_step=c_s,
        col_cost=c_c,
        col_qty_t=qty,
        row_start=row_start,
        alloc_full_t=alloc_full,
        base_t=base.to_numpy(dtype=float),
        base_first_year=base_first.to_numpy(),
        required_t=required,
        alloc_year_t=allocation_years_t(scn, alloc_full, basis),
        benchmark=basis,
        scope=scope,
    )
    _check_magnitudes(md)
    md.scale_t = choose_scale_t(md.bau_by_market_period_t())
    for rule in RULES:
        rule.prepare(md)
    _warn_precision(md)
    return md


def reallocate(md: ModelData, scope: Scope) -> ModelData:
    """``md`` for a variant that differs from its scenario only in the allocation keys (compliance
    factors, top-level multipliers: :data:`nationcap.model.variants.ALLOCATION_KEYS`), whose
    selections ``scope`` resolves on the same tables: the allocations and required reductions
    are derived again exactly as :func:`prepare` derives them, and so is the slice of every rule
    whose parameters depend on the allocation (:func:`reprepare_allocation_rules`); BAU, base-year
    emissions, the abatement columns and every other rule's slice are kept (they do not depend on
    those keys). Equals :func:`prepare` of the variant bit for bit; the arrays of ``md`` are not
    changed."""
    scn, ds = scope.scenario, scope.dataset
    assert md.base_t is not None  # set by prepare
    base = pd.Series(md.base_t, index=ds.entities.index)
    alloc_df = allocation_t(scn, ds, base, md.benchmark)
    alloc_full = alloc_df[md.periods].to_numpy(dtype=float)
    out = dataclasses.replace(
        md,
        scenario=scn,
        scope=scope,
        alloc_t=alloc_full,
        alloc_full_t=alloc_full,
        required_t=required_reduction_t(scn, ds, base, alloc_df)[md.periods].to_numpy(dtype=float),
        alloc_year_t=allocation_years_t(scn, alloc_full, md.benchmark),
        rule_data=dict(md.rule_data),
    )
    reprepare_allocation_rules(out)
    _check_magnitudes(out, allocation_only=True)
    return out


def reprepare_allocation_rules(md: ModelData) -> None:
    """Prepare again, in :data:`~nationcap.model.rules.RULES` order, the slice of every active rule
    whose parameters depend on the allocation (its ``allocation_dependence`` names a reason, or it
    declares nothing), after the allocations of ``md`` changed."""
    for rule in RULES:
        if not rule.active(md.scenario):
            continue
        declare = getattr(rule, "allocation_dependence", None)
        if declare is None or declare(md.scenario):
            rule.prepare(md)


def perturb(md: ModelData, bau_mult: np.ndarray, mac_mult: np.ndarray) -> ModelData:
    """``md`` with BAU multiplied by ``bau_mult`` (E, Y) and every MAC step cost by ``mac_mult``
    (E,) of its entity: a Monte Carlo draw (:func:`nationcap.derive.draws.entity_multipliers`)
    applied to the arrays, without re-reading or re-preparing the tables.

    Step quantities are shares of BAU and follow it; grandfathered allocations come from base-year
    emissions and do not. Activity moves with BAU (intensity fixed), so a benchmark market's
    allocations are computed again from its :class:`~nationcap.derive.allocation.BenchmarkBasis`
    with the model years' activity x ``bau_mult`` (re-basing where the drawn activity leaves the
    threshold), and the allocation-dependent arrays with them (the auctioned share). The result
    equals preparing the drawn tables (``derive.draws.apply_draw``) to rounding (a step's quantity
    is ``(share x BAU) x m`` here, ``share x (BAU x m)`` there), so the two paths agree to about
    1e-15 relative; the arrays of ``md`` are not changed.
    """
    bau_mult = np.asarray(bau_mult, dtype=float)
    flat = _cell_index(md.col_entity, md.col_year, bau_mult.shape[1])
    out = dataclasses.replace(
        md,
        bau_t=md.bau_t * bau_mult,
        col_qty_t=md.col_qty_t * bau_mult.ravel().take(flat),  # = bau_mult[col_entity, col_year]
        col_cost=md.col_cost * np.asarray(mac_mult, dtype=float).take(md.col_entity),
        rule_data=dict(md.rule_data),
    )
    basis = md.benchmark
    if basis is not None:
        assert md.alloc_full_t is not None and md.alloc_year_t is not None  # set by prepare
        yearly = basis.yearly_t(bau_mult[basis.entity])
        out.alloc_full_t = md.alloc_full_t.copy()
        out.alloc_full_t[basis.entity] = period_sums(md.scenario, yearly)
        out.alloc_year_t = md.alloc_year_t.copy()
        out.alloc_year_t[basis.entity] = yearly
        out.alloc_t = out.alloc_full_t
        if md.required_t is not None and md.base_t is not None:  # benchmark: base x years - allocation
            n_years = np.array([len(md.period_years(p)) for p in range(len(md.periods))], dtype=float)
            out.required_t = md.required_t.copy()
            gap = md.base_t[basis.entity, None] * n_years[None, :] - out.alloc_full_t[basis.entity]
            out.required_t[basis.entity] = np.maximum(gap, 0.0)
        reprepare_allocation_rules(out)
    _check_magnitudes(out)
    return out


#: (col_entity, col_year, years, flat index) of the last model data a draw was applied to
_CELLS: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []


def _cell_index(col_entity: np.ndarray, col_year: np.ndarray, n_years: int) -> np.ndarray:
    """``col_entity * n_years + col_year``, kept for the arrays of the last call (every draw of
    a Monte Carlo batch perturbs the same model data)."""
    for ent, year, n, flat in _CELLS:
        if ent is col_entity and year is col_year and n == n_years:
            return flat
    flat = col_entity.astype(np.intp) * n_years + col_year
    _CELLS[:] = [(col_entity, col_year, n_years, flat)]
    return flat


def _columns_in_bounds(md: ModelData) -> bool:
    """Whether every step cost is finite and within the bounds, and every step quantity and PV
    cost x quantity finite: the column checks of :func:`_check_magnitudes`, from the extremes
    (rounding is monotone, so ``|discount x cost x quantity|`` is at most the product of the
    largest magnitudes, computed the same way)."""
    cost, qty = md.col_cost, md.col_qty_t
    if not len(cost):
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        c = max(abs(float(cost.max())), abs(float(cost.min())))
        q = max(abs(float(qty.max())), abs(float(qty.min())))
        d = float(np.abs(md.discount).max(initial=0.0))
        return bool(np.isfinite(c) and c <= MAX_PRICE_JPY_PER_T and np.isfinite(q) and np.isfinite(d * c * q))


def _check_magnitudes(md: ModelData, allocation_only: bool = False) -> None:
    """Raise one :class:`~nationcap.errors.InputError` naming every derived value that is not
    finite or beyond the input contract's plausibility bounds.

    The tables are checked when they are read (``nationcap/inputs/tables.py``), but the model's
    arrays are derived from them (BAU x a Monte Carlo draw, base-year averages, allocations, step
    quantities x costs), so they are checked again here, before any solver sees them: a value
    HiGHS would take as infinite (>= 1e20) must never reach it.

    ``allocation_only``: check the base-year emissions and allocations only, for model data whose
    BAU and abatement columns are those of model data already checked (:func:`reallocate`).
    """
    problems = Problems(context=f"model data derived from the dataset {md.dataset.path}")
    path = md.dataset.path
    ids = md.entities

    def flag(bad: np.ndarray, file: str, column: str, what: str) -> None:
        rows = [f"entity_id {ids[e]}" for e in np.flatnonzero(bad)]
        problems.add_rows(str(path / file), rows, column, what)

    with np.errstate(over="ignore", invalid="ignore"):
        if allocation_only:
            bau_bad = np.zeros(md.n_entities, dtype=bool)
        else:
            bau_bad = ~(np.isfinite(md.bau_t) & (np.abs(md.bau_t) <= MAX_ENTITY_T)).all(axis=1)
        flag(
            bau_bad,
            "bau.csv",
            "bau_emissions_t",
            f"BAU after the scenario's changes (e.g. a Monte Carlo draw) is not finite or above "
            f"{MAX_ENTITY_T:g} t/yr; narrow the [montecarlo] bau_growth distribution or fix the data",
        )
        base = md.base_t if md.base_t is not None else np.zeros(md.n_entities)
        alloc = md.alloc_full_t if md.alloc_full_t is not None else md.alloc_t
        base_bad = ~np.isfinite(base) | (np.abs(base) > MAX_ENTITY_T) | ~np.isfinite(alloc).all(axis=1)
        flag(
            base_bad & ~bau_bad,
            "entities.csv",
            "base_emissions_t",
            f"base-year emissions or the allocation derived from them are not finite or above "
            f"{MAX_ENTITY_T:g} t/yr; check base_emissions_t (or history.csv) and the compliance factors",
        )
        if allocation_only or _columns_in_bounds(md):  # the usual case: no column to name
            problems.raise_if_any()
            return
        cost = md.col_cost
        col_total = md.discount[md.col_year] * cost * md.col_qty_t  # PV cost of using a whole step, JPY
        col_bad = ~np.isfinite(cost) | (np.abs(cost) > MAX_PRICE_JPY_PER_T) | ~np.isfinite(col_total)
        col_bad |= ~np.isfinite(md.col_qty_t)
        ent_bad = np.zeros(md.n_entities, dtype=bool)
        ent_bad[md.col_entity[col_bad]] = True
        flag(
            ent_bad & ~bau_bad,
            "mac.csv",
            "cost_jpy_per_t",
            f"a step cost (after the scenario's changes, e.g. a Monte Carlo draw) or cost x quantity is "
            f"not finite or beyond +/-{MAX_PRICE_JPY_PER_T:g} JPY/t; narrow the [montecarlo] mac_cost "
            f"distribution or fix the data",
        )
    problems.raise_if_any()


def _warn_precision(md: ModelData) -> None:
    """Warn when the data span so many orders of magnitude that the smallest positive quantity
    (an abatement step, an entity's BAU in a period, an offset step) is below
    ``SMALLEST_LP_QUANTITY`` LP units: HiGHS's tolerances (1e-7 LP units) are then a sizeable part
    of it and results for it may be off without any other sign."""
    n_p = len(md.periods)
    ep = np.stack([md.bau_t[:, md.period_years(p)].sum(axis=1) for p in range(n_p)], axis=1)
    od = offsets_rule.data(md)
    parts = [("an abatement step (mac.csv)", md.col_qty_t), ("an entity's BAU in a period (bau.csv)", ep.ravel())]
    if od is not None:
        parts.append(("an offset step (offsets.csv)", od.qty_t))
    found = [(float(v[v > 0].min()), what) for what, v in parts if (v > 0).any()]
    if not found:
        return
    smallest, what = min(found)
    if smallest < SMALLEST_LP_QUANTITY * md.scale_t:
        warnings.warn(
            f"the smallest quantity, {what}, is {smallest:.3g} t, below {SMALLEST_LP_QUANTITY:g} of the "
            f"LP's unit ({md.scale_t:g} t, set by the largest market-period BAU): HiGHS's tolerances "
            f"(1e-7 units = {1e-7 * md.scale_t:.3g} t) may distort results for such small quantities. "
            f"Drop or aggregate negligible steps and entities, or model the small ones separately",
            PrecisionWarning,
            stacklevel=3,
        )
