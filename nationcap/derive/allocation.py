"""Base-year emissions, compliance factors, allocation and caps.

Tokyo's grandfathering rule, applied per entity *i* and compliance period *p*::

    factor_eff[i, p]  = factor[market(i), p, category(i)] * top_level_multiplier[top_level(i)]
    allocation[i, p]  = base[i] * (1 - factor_eff[i, p]) * years(p)          (the cap share)
    free[i, p]        = allocation[i, p] * (1 - auction_share[market(i), p])
    cap[m, p]         = sum of allocation[i, p] over the market's entities

``factor`` falls back to the market's ``general`` factor when the entity's category has no entry
for the period; the multiplier is 1 for ``top_level = none`` or when the scenario gives none.
An auctioned share leaves the cap unchanged: that part of it is sold in the market instead of
given away (:mod:`nationcap.model.rules.auction`). ``base[i]`` is ``base_emissions_t`` from entities.csv, or with
``base_year = { rule = "max_3yr_average", first, last }`` the highest average of 3 consecutive
fiscal years of history.csv within ``first..last`` (Tokyo's rule).

Benchmark allocation (``[markets.<m>] allocation = { rule = "benchmark", base_years = { first,
last }, rebase_threshold, fallback_decline }``), per entity *i* of such a market and model year *y*::

    A_base[i]      = mean of activity[i, y'] over the base years (activity.csv)
    A[i, y]        = activity[i, y] if |activity[i, y] - A_base[i]| >= rebase_threshold * A_base[i]
                     else A_base[i]                                (re-basing: 0 = every year's activity)
    alloc[i, y]    = t_per_activity[group(i), y] * A[i, y]          (benchmarks.csv; group = entities.csv
                                                                      column ``benchmark``)
    alloc[i, y]    = base[i] * (1 - fallback_decline) ** (y - base_years.last)     (no group, or a
                                                                      group not in ``groups``)
    allocation[i, p] = sum of alloc[i, y] over the years of p

Compliance factors are optional in a benchmark market (0 where missing). With
``emissions_basis = "direct"``, ``base[i]`` (and BAU, see :func:`direct_factor`) is multiplied by
``1 - electricity_share[i]`` before any of this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Scenario
from ..config.messages import did_you_mean
from ..errors import Problems
from ..inputs.tables import Dataset


def direct_factor(scn: Scenario, ds: Dataset) -> np.ndarray:
    """(E,) ``1 - electricity_share`` for entities of markets with ``emissions_basis = "direct"``
    (only their direct emissions count), 1 for every other entity."""
    ent = ds.entities
    direct = ent["market"].isin([m for m, c in scn.markets.items() if c.emissions_basis == "direct"]).to_numpy(bool)
    return np.where(direct, 1.0 - ent["electricity_share"].to_numpy(dtype=float), 1.0)


@dataclass(frozen=True)
class BenchmarkBasis:
    """What a benchmark allocation is computed from, for the B entities of benchmark markets
    (Y = model years); :meth:`yearly_t` applies the rule (module docstring)."""

    entity: np.ndarray  # (B,) position of each entity in entities.csv order
    grouped: np.ndarray  # (B,) True where the entity has a benchmark group
    intensity: np.ndarray  # (B, Y) t_per_activity of its group (0 without a group)
    base_activity: np.ndarray  # (B,) mean activity over the base years (0 without a group)
    activity: np.ndarray  # (B, Y) activity of the model years (0 without a group)
    threshold: np.ndarray  # (B,) rebase_threshold of its market
    fallback_t: np.ndarray  # (B, Y) allocation of an entity without a group (0 with one)

    def yearly_t(self, activity_multiplier: np.ndarray | None = None) -> np.ndarray:
        """(B, Y) allocation per year; ``activity_multiplier`` (B, Y) scales the model years'
        activity (a Monte Carlo draw moves activity with BAU)."""
        act = self.activity if activity_multiplier is None else self.activity * activity_multiplier
        base = self.base_activity[:, None]
        rebased = np.abs(act - base) >= self.threshold[:, None] * base
        used = np.where(rebased, act, base)
        return np.where(self.grouped[:, None], self.intensity * used, self.fallback_t)


def benchmark_basis(scn: Scenario, ds: Dataset, base: np.ndarray) -> BenchmarkBasis | None:
    """The :class:`BenchmarkBasis` of the scenario's benchmark markets (None when there are none).

    ``base`` (E,) is the base-year emissions used (on the market's emissions basis). Raises one
    :class:`~nationcap.errors.InputError` listing every entity without activity for a base or model
    year and every group without an intensity for a model year."""
    ent = ds.entities
    bench = [m for m, c in scn.markets.items() if c.allocation.rule == "benchmark"]
    pos = np.flatnonzero(ent["market"].isin(bench).to_numpy())
    if not len(pos):
        return None
    years = scn.years
    n_b, n_y = len(pos), len(years)
    groups = (ent["benchmark"] if "benchmark" in ent.columns else pd.Series("", index=ent.index)).to_numpy()[pos]
    grouped = groups != ""
    problems = Problems(context=f"dataset {ds.path}")
    known = set(groups[grouped]) | (set(ds.benchmarks["benchmark"]) if ds.benchmarks is not None else set())
    act = ds.activity if ds.activity is not None else pd.DataFrame(columns=["entity_id", "year", "activity"])
    bm = ds.benchmarks if ds.benchmarks is not None else pd.DataFrame(columns=["benchmark", "year", "t_per_activity"])
    act_mat = act.pivot(index="entity_id", columns="year", values="activity")
    bm_mat = bm.pivot(index="benchmark", columns="year", values="t_per_activity")
    intensity = np.zeros((n_b, n_y))
    base_act = np.zeros(n_b)
    activity = np.zeros((n_b, n_y))
    threshold = np.zeros(n_b)
    fallback = np.zeros((n_b, n_y))
    ids = ent.index.to_numpy()[pos]
    markets = ent["market"].to_numpy()[pos]
    for m in bench:
        rule = scn.markets[m].allocation
        assert rule.base_years is not None  # check_scenario requires it for a benchmark market
        first, last = rule.base_years.first, rule.base_years.last
        rows = np.flatnonzero(markets == m)
        threshold[rows] = rule.rebase_threshold
        if rule.groups is not None:
            for g in [g for g in rule.groups if g not in known]:
                problems.add(
                    str(scn.source or "scenario"),
                    f"key 'markets.{m}.allocation.groups'",
                    "",
                    f"unknown benchmark group {g!r}"
                    + did_you_mean(
                        g, sorted(known), f"the dataset's groups are {sorted(known)} (entities.csv, benchmarks.csv)"
                    ),
                )
            grouped[rows] &= np.isin(groups[rows], list(rule.groups))
        decay = (1.0 - rule.fallback_decline) ** (np.array(years, dtype=float) - last)
        free = rows[~grouped[rows]]
        fallback[free] = base[pos[free], None] * decay[None, :]
        mine = rows[grouped[rows]]
        if not len(mine):
            continue
        base_years = list(range(first, last + 1))
        need = act_mat.reindex(index=ids[mine], columns=base_years + [y for y in years if y not in base_years])
        gaps = need.isna().any(axis=1).to_numpy()
        for k in np.flatnonzero(gaps):
            miss = [int(y) for y in need.columns[need.iloc[k].isna().to_numpy()]]
            problems.add(
                str(ds.path / "activity.csv"),
                f"entity_id {ids[mine][k]}",
                "activity",
                f"no activity for FY{miss[:10]}; markets.{m} allocates by benchmark, which needs the base years "
                f"FY{first}-{last} and every model year",
            )
        base_act[mine] = need[base_years].mean(axis=1).to_numpy(dtype=float)
        activity[mine] = need[years].to_numpy(dtype=float)
        inten = bm_mat.reindex(index=groups[mine], columns=years)
        intensity[mine] = inten.to_numpy(dtype=float)
        for g in sorted(set(groups[mine])):
            miss = [int(y) for y in years if not np.isfinite(bm_mat.get(y, pd.Series(dtype=float)).get(g, np.nan))]
            if miss:
                problems.add(
                    str(ds.path / "benchmarks.csv"),
                    f"benchmark {g}",
                    "t_per_activity",
                    f"no intensity for model year(s) FY{miss[:10]} (needed by markets.{m})",
                )
    problems.raise_if_any()
    return BenchmarkBasis(pos, grouped, intensity, base_act, activity, threshold, fallback)


def period_sums(scn: Scenario, yearly: np.ndarray) -> np.ndarray:
    """(rows, P) sums over each period's years of a (rows, Y) array of model years."""
    years = scn.years
    return np.stack([yearly[:, [years.index(y) for y in p.years]].sum(axis=1) for p in scn.periods], axis=1)


def base_emissions(scn: Scenario, ds: Dataset) -> tuple[pd.Series, pd.Series]:
    """Base-year emissions (t/yr) and the first fiscal year of the chosen 3-year window
    (-1 where the value comes from entities.csv), per entity in entities.csv order."""
    ent = ds.entities
    base = ent["base_emissions_t"].astype(float).copy()
    first = pd.Series(-1, index=ent.index, dtype=np.int64)
    problems = Problems(context=f"dataset {ds.path}")
    for m, cfg in scn.markets.items():
        rule = cfg.base_year
        if rule.rule == "file":
            continue
        ids = ent.index[ent["market"] == m]
        if len(ids) == 0:
            continue
        if ds.history is None:
            problems.add(
                str(ds.path / "history.csv"),
                "",
                "",
                f"markets.{m}.base_year uses {rule.rule!r}, which needs history.csv",
            )
            continue
        assert rule.first is not None and rule.last is not None  # check_scenario requires both
        years = list(range(rule.first, rule.last + 1))
        h = ds.history[ds.history["entity_id"].isin(ids) & ds.history["fiscal_year"].isin(years)]
        mat = h.pivot(index="entity_id", columns="fiscal_year", values="emissions_t").reindex(index=ids, columns=years)
        vals = mat.to_numpy(dtype=float)
        avg = (vals[:, :-2] + vals[:, 1:-1] + vals[:, 2:]) / 3.0  # NaN where a year is missing
        ok = ~np.isnan(avg).all(axis=1)
        for eid in ids[~ok]:
            problems.add(
                str(ds.path / "history.csv"),
                f"entity_id {eid}",
                "emissions_t",
                f"no 3 consecutive fiscal years of history within FY{rule.first}-{rule.last} "
                f"(needed by markets.{m}.base_year)",
            )
        best = np.argmax(np.where(np.isnan(avg), -np.inf, avg), axis=1)
        base.loc[ids[ok]] = avg[ok, best[ok]]
        first.loc[ids[ok]] = np.array(years)[best[ok]]
    problems.raise_if_any()
    return base, first


def compliance_factors(scn: Scenario, ds: Dataset) -> pd.DataFrame:
    """Effective factor (with the top-level multiplier) per entity (rows) and period (columns)."""
    return pd.DataFrame(_factor_arrays(scn, ds), index=ds.entities.index)


def _factor_arrays(scn: Scenario, ds: Dataset) -> dict[str, np.ndarray]:
    """Period name -> (E,) effective factor of each entity (:func:`compliance_factors`).

    A factor depends on the entity's (market, category, top_level) only, so it is computed once
    per distinct triple (a few dozen) and spread to the entities by each one's triple: the same
    products as computing it entity by entity, in a small fraction of the time (a held session
    re-derives the allocations on every design change)."""
    codes, triples = ds.memo(("entity allocation triples",), lambda: _allocation_triples(ds))
    out = {}
    for p in scn.periods:
        vals = np.empty(len(triples))
        for k, (m, cat, top) in enumerate(triples):
            mult = scn.markets[m].top_level_multiplier.get(top, 1.0) if top != "none" else 1.0
            vals[k] = scn.factor(m, p.name, cat) * mult
        out[p.name] = vals[codes]
    return out


def _allocation_triples(ds: Dataset) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """(each entity's position among the distinct triples, the distinct (market, category,
    top_level) triples of entities.csv, in order of first appearance)."""
    ent = ds.entities
    found: dict[tuple[str, str, str], int] = {}
    codes = np.array(
        [
            found.setdefault(t, len(found))
            for t in zip(ent["market"].to_numpy(), ent["category"].to_numpy(), ent["top_level"].to_numpy())
        ],
        dtype=np.int64,
    )
    return codes, list(found)


def allocation_t(
    scn: Scenario, ds: Dataset, base: pd.Series | None = None, basis: BenchmarkBasis | None = None
) -> pd.DataFrame:
    """Allocation (t CO2 for the whole period, before any auction) per entity and period.

    ``base`` defaults to :func:`base_emissions` times :func:`direct_factor`; ``basis`` to
    :func:`benchmark_basis` of that base (the rows of benchmark markets)."""
    factors = _factor_arrays(scn, ds)
    if base is None:
        base = base_emissions(scn, ds)[0] * direct_factor(scn, ds)
    b = base.to_numpy(dtype=float)
    out = pd.DataFrame({p.name: b * (1.0 - factors[p.name]) * p.n_years for p in scn.periods}, index=ds.entities.index)
    if basis is None:
        basis = benchmark_basis(scn, ds, b)
    if basis is not None:
        out.iloc[basis.entity, :] = period_sums(scn, basis.yearly_t())
    return out


def allocation_years_t(scn: Scenario, alloc: np.ndarray, basis: BenchmarkBasis | None) -> np.ndarray:
    """(E, Y) allocation per model year: a period's allocation spread evenly over its years, or
    a benchmark market's yearly allocation (what a yearly auction share applies to)."""
    of = scn.period_of_year()
    names = [p.name for p in scn.periods]
    n = {p.name: p.n_years for p in scn.periods}
    cols = [names.index(of[y]) for y in scn.years]
    out = alloc[:, cols] / np.array([n[of[y]] for y in scn.years], dtype=float)[None, :]
    if basis is not None:
        out[basis.entity] = basis.yearly_t()
    return out


def required_reduction_t(
    scn: Scenario, ds: Dataset, base: pd.Series, alloc: pd.DataFrame | None = None
) -> pd.DataFrame:
    """base x effective factor x years per entity and period (Tokyo's offset-limit basis); in a
    benchmark market (with ``alloc``) base x years - allocation, at least 0."""
    factors = _factor_arrays(scn, ds)
    b = base.to_numpy(dtype=float)
    out = pd.DataFrame({p.name: b * factors[p.name] * p.n_years for p in scn.periods}, index=ds.entities.index)
    benchmark_markets = [m for m, c in scn.markets.items() if c.allocation.rule == "benchmark"]
    bench = ds.entities["market"].isin(benchmark_markets).to_numpy(dtype=bool)
    if alloc is not None and bench.any():
        years = np.array([p.n_years for p in scn.periods], dtype=float)
        gap = np.maximum(b[:, None] * years[None, :] - alloc[[p.name for p in scn.periods]].to_numpy(), 0.0)
        out.iloc[np.flatnonzero(bench), :] = gap[bench]
    return out


def caps_t(scn: Scenario, ds: Dataset, alloc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cap (t CO2 per period) per market (rows, every scenario market) and period (columns)."""
    if alloc is None:
        alloc = allocation_t(scn, ds)
    caps = alloc.groupby(ds.entities["market"].to_numpy()).sum()
    return caps.reindex(list(scn.markets), fill_value=0.0)
