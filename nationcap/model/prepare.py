"""Validated tables -> :class:`~nationcap.model.data.ModelData`.

Everything index-like is precomputed here with numpy/pandas so that no Pyomo rule ever scans a
set: each abatement column knows its entity, year and period, and the columns of one
(entity, period) pair are contiguous (sorted by entity, period, year, step).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..config import Scenario
from ..derive.allocation import allocation_t, base_emissions, required_reduction_t
from ..derive.coverage import bau_matrix
from ..inputs.tables import Dataset
from .data import SMALLEST_LP_QUANTITY, ModelData, PrecisionWarning, choose_scale_t
from .rules import RULES
from .rules import offsets as offsets_rule


def prepare(scn: Scenario, ds: Dataset) -> ModelData:
    """Build :class:`ModelData` from a validated scenario and dataset.

    The core arrays first (allocation, BAU, abatement columns), then each program rule's slice
    (:data:`nationcap.model.rules.RULES`, in order); a rule may adjust the core arrays (the
    auction moves part of the cap out of the free allocation).
    """
    years = scn.years
    periods = [p.name for p in scn.periods]
    pidx = {p: i for i, p in enumerate(periods)}
    period_of = scn.period_of_year()
    year_period = np.array([pidx[period_of[y]] for y in years])
    discount = np.array([scn.discount_factor(y) for y in years])
    markets = list(scn.markets)
    ent = ds.entities
    entity_market = pd.Index(markets).get_indexer(ent["market"])
    bau = bau_matrix(ds, years).to_numpy(dtype=float)
    base, base_first = base_emissions(scn, ds)
    alloc_full = allocation_t(scn, ds, base)[periods].to_numpy(dtype=float)
    required = required_reduction_t(scn, ds, base)[periods].to_numpy(dtype=float)

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
    )
    md.scale_t = choose_scale_t(md.bau_by_market_period_t())
    for rule in RULES:
        rule.prepare(md)
    _warn_precision(md)
    return md


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
