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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import Scenario
from ..errors import Problems
from ..inputs.tables import Dataset


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
    ent = ds.entities
    markets = ent["market"].to_numpy()
    cats = ent["category"].to_numpy()
    tops = ent["top_level"].to_numpy()
    out = {}
    for p in scn.periods:
        vals = np.empty(len(ent))
        for k, (m, cat, top) in enumerate(zip(markets, cats, tops)):
            mult = scn.markets[m].top_level_multiplier.get(top, 1.0) if top != "none" else 1.0
            vals[k] = scn.factor(m, p.name, cat) * mult
        out[p.name] = vals
    return pd.DataFrame(out, index=ent.index)


def allocation_t(scn: Scenario, ds: Dataset, base: pd.Series | None = None) -> pd.DataFrame:
    """Allocation (t CO2 for the whole period, before any auction) per entity and period."""
    factors = compliance_factors(scn, ds)
    if base is None:
        base = base_emissions(scn, ds)[0]
    b = base.to_numpy(dtype=float)
    out = {p.name: b * (1.0 - factors[p.name].to_numpy()) * p.n_years for p in scn.periods}
    return pd.DataFrame(out, index=ds.entities.index)


def required_reduction_t(scn: Scenario, ds: Dataset, base: pd.Series) -> pd.DataFrame:
    """base x effective factor x years per entity and period (Tokyo's offset-limit basis)."""
    factors = compliance_factors(scn, ds)
    b = base.to_numpy(dtype=float)
    return pd.DataFrame(
        {p.name: b * factors[p.name].to_numpy() * p.n_years for p in scn.periods}, index=ds.entities.index
    )


def caps_t(scn: Scenario, ds: Dataset, alloc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cap (t CO2 per period) per market (rows, every scenario market) and period (columns)."""
    if alloc is None:
        alloc = allocation_t(scn, ds)
    caps = alloc.groupby(ds.entities["market"].to_numpy()).sum()
    return caps.reindex(list(scn.markets), fill_value=0.0)
