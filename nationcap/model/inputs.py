"""Validated tables -> the arrays the model is built from (:class:`ModelData`).

Everything index-like is precomputed here with numpy/pandas so that no Pyomo rule ever scans a
set: each abatement column knows its entity, year and period, and the columns of one
(entity, period) pair are contiguous.

Units: quantities in the tables are tonnes; inside the model they are divided by ``scale_t``
(default 10^6, i.e. Mt) so that HiGHS sees numbers of order 10^-4..10^2. Costs stay in JPY/t, so
the objective is in JPY x scale_t (million JPY) and row duals come out directly in JPY/t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..allocation import allocation_t, auction_shares, base_emissions, required_reduction_t
from ..config import Scenario
from ..coverage import bau_matrix
from ..data import Dataset

SCALE_T = 1e6


@dataclass
class ModelData:
    scenario: Scenario
    dataset: Dataset
    entities: np.ndarray  # (E,) entity ids, entities.csv order
    markets: list[str]  # (M,) scenario market keys
    periods: list[str]  # (P,)
    years: list[int]  # (Y,)
    year_period: np.ndarray  # (Y,) period index of each year
    discount: np.ndarray  # (Y,) (1+r)^-(y - y0)
    entity_market: np.ndarray  # (E,) market index
    bau_t: np.ndarray  # (E, Y)
    alloc_t: np.ndarray  # (E, P) free allocation (after any auctioned share)
    # abatement columns, sorted by (entity, period, year, step)
    col_entity: np.ndarray  # (J,)
    col_year: np.ndarray  # (J,) year index
    col_step: np.ndarray  # (J,) step number as in mac.csv
    col_cost: np.ndarray  # (J,) JPY/t
    col_qty_t: np.ndarray  # (J,) upper bound, t
    row_start: np.ndarray  # (E*P + 1,) columns of row k = e*P + p are row_start[k]:row_start[k+1]
    # program rules (all neutral when the scenario turns no rule on)
    alloc_full_t: np.ndarray | None = None  # (E, P) allocation before auction: the cap share
    base_t: np.ndarray | None = None  # (E,) base-year emissions used
    base_first_year: np.ndarray | None = None  # (E,) first FY of the chosen 3-year window, -1 = file
    required_t: np.ndarray | None = None  # (E, P) base x effective factor x years
    offset_types: tuple[str, ...] = ()
    off_market: np.ndarray | None = None  # (S,) offset supply steps usable in the model
    off_type: np.ndarray | None = None  # (S,) index into offset_types
    off_year: np.ndarray | None = None  # (S,) year index
    off_qty_t: np.ndarray | None = None
    off_cost: np.ndarray | None = None  # JPY/t in the step's year money
    off_limit_t: np.ndarray | None = None  # (E, T, P) per-entity limit; inf = none; 0 = not usable
    floor: np.ndarray | None = None  # (M, Y) JPY/t, NaN = no floor
    ceiling: np.ndarray | None = None  # (M, Y)
    import_price: np.ndarray | None = None  # (M, Y) external allowance price, NaN = no link
    import_share: np.ndarray | None = None  # (M,) import limit as share of the cap
    scale_t: float = SCALE_T

    @property
    def n_entities(self) -> int:
        return len(self.entities)

    @property
    def col_period(self) -> np.ndarray:
        return self.year_period[self.col_year]

    def period_years(self, p: int) -> np.ndarray:
        return np.flatnonzero(self.year_period == p)

    def cap_t(self) -> np.ndarray:
        """(M, P) caps: sum of the allocations (before any auction) of each market's entities."""
        caps = np.zeros((len(self.markets), len(self.periods)))
        np.add.at(caps, self.entity_market, self.alloc_full_t if self.alloc_full_t is not None else self.alloc_t)
        return caps

    def auction_t(self) -> np.ndarray:
        """(M, P) allowances auctioned: cap minus free allocation."""
        free = np.zeros((len(self.markets), len(self.periods)))
        np.add.at(free, self.entity_market, self.alloc_t)
        return self.cap_t() - free

    def market_config(self, a: int):
        return self.scenario.markets[self.markets[a]]

    def max_abatement_t(self) -> np.ndarray:
        """(M, P) abatement available if every step were used."""
        out = np.zeros((len(self.markets), len(self.periods)))
        np.add.at(out, (self.entity_market[self.col_entity], self.col_period), self.col_qty_t)
        return out

    def expire_index(self) -> list[tuple[int, int]]:
        """(market, period) pairs that have an Expire variable: markets without banking."""
        return [
            (a, p)
            for a, name in enumerate(self.markets)
            if not self.scenario.markets[name].banking
            for p in range(len(self.periods))
        ]

    def bau_by_market_period_t(self) -> np.ndarray:
        out = np.zeros((len(self.markets), len(self.periods)))
        for p in range(len(self.periods)):
            np.add.at(out[:, p], self.entity_market, self.bau_t[:, self.period_years(p)].sum(axis=1))
        return out


def prepare(scn: Scenario, ds: Dataset) -> ModelData:
    """Build :class:`ModelData` from a validated scenario and dataset."""
    years = scn.years
    periods = [p.name for p in scn.periods]
    pidx = {p: i for i, p in enumerate(periods)}
    year_period = np.array([pidx[scn.period_of_year()[y]] for y in years])
    discount = np.array([scn.discount_factor(y) for y in years])
    markets = list(scn.markets)
    ent = ds.entities
    entity_market = pd.Index(markets).get_indexer(ent["market"])
    bau = bau_matrix(ds, years).to_numpy(dtype=float)
    base, base_first = base_emissions(scn, ds)
    alloc_full = allocation_t(scn, ds, base)[periods].to_numpy(dtype=float)
    alloc = alloc_full * (1.0 - auction_shares(scn, ds)[periods].to_numpy(dtype=float))
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
        alloc_t=alloc,
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
    _prepare_offsets(md)
    _prepare_prices(md)
    return md


def _prepare_offsets(md: ModelData) -> None:
    """Offset supply steps of markets with ``use_offsets`` and the per-entity limits.

    A credit counts toward compliance in the period of the year it is offered in. Limit of
    entity i for type t in period p: ``limit_fraction x basis[i, p]`` where the basis is the
    required reduction (base x factor x years) or base-year emissions x years; no limit table
    for a type means no limit.
    """
    scn, off = md.scenario, md.dataset.offsets
    using = [a for a, m in enumerate(md.markets) if scn.markets[m].use_offsets]
    if off is None or not using:
        return
    mi = pd.Index(md.markets).get_indexer(off["market"])
    yi = pd.Index(md.years).get_indexer(off["year"])
    keep = np.isin(mi, using) & (yi >= 0) & (off["quantity_t"].to_numpy() > 0)
    if not keep.any():
        return
    sub = off[keep]
    types = tuple(sorted(sub["offset_type"].unique()))
    md.offset_types = types
    md.off_market = mi[keep]
    md.off_type = pd.Index(types).get_indexer(sub["offset_type"])
    md.off_year = yi[keep]
    md.off_qty_t = sub["quantity_t"].to_numpy(dtype=float)
    md.off_cost = sub["cost_jpy_per_t"].to_numpy(dtype=float)
    n_e, n_t, n_p = md.n_entities, len(types), len(md.periods)
    limit = np.zeros((n_e, n_t, n_p))
    years_p = np.array([len(md.period_years(p)) for p in range(n_p)], dtype=float)
    for a in using:
        cfg = scn.markets[md.markets[a]]
        rows = md.entity_market == a
        offered = set(md.off_type[md.off_market == a])
        for t, tname in enumerate(types):
            if t not in offered:
                continue
            rule = cfg.offsets.get(tname)
            if rule is None:
                limit[rows, t, :] = np.inf
            elif rule.limit_basis == "required_reduction":
                limit[rows, t, :] = rule.limit_fraction * md.required_t[rows, :]
            else:
                limit[rows, t, :] = rule.limit_fraction * md.base_t[rows, None] * years_p[None, :]
    md.off_limit_t = limit


def _prepare_prices(md: ModelData) -> None:
    """Price floor, ceiling and external allowance price per market and year (NaN = none)."""
    n_m, n_y = len(md.markets), len(md.years)
    floor = np.full((n_m, n_y), np.nan)
    ceiling = np.full((n_m, n_y), np.nan)
    imp = np.full((n_m, n_y), np.nan)
    share = np.full(n_m, np.nan)
    for a in range(n_m):
        cfg = md.market_config(a)
        if cfg.price_floor:
            floor[a] = [cfg.price_floor.value(y) for y in md.years]
        if cfg.price_ceiling:
            ceiling[a] = [cfg.price_ceiling.value(y) for y in md.years]
        if cfg.external:
            imp[a] = [cfg.external.price.value(y) for y in md.years]
            share[a] = cfg.external.limit_share
    md.floor, md.ceiling, md.import_price, md.import_share = floor, ceiling, imp, share
