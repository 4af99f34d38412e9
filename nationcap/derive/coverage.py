"""Coverage of national CO2 by the programs, with and without double counting.

A market's entities report emissions on that market's basis: national suppliers report direct
emissions, regional installations report energy use including purchased electricity. The
electricity part of a regional installation's emissions (``electricity_share`` x emissions) is
also emitted at a power plant, so it is counted twice when the two programs are added up::

    covered[m, y]        = sum of BAU emissions of market m's entities in year y
    double_counted[y]    = sum over all entities of BAU[i, y] * electricity_share[i]
    combined[y]          = sum_m covered[m, y] - double_counted[y]
    share = value / national_co2_t[y]        (national total from dataset.toml)

An entity of a market with ``emissions_basis = "direct"`` counts only its direct emissions
(BAU x (1 - electricity_share), :func:`nationcap.derive.allocation.direct_factor`): it covers no
purchased electricity, so it adds nothing to ``double_counted``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import Scenario
from ..inputs.tables import Dataset
from .allocation import direct_factor


def coverage_table(scn: Scenario, ds: Dataset, emissions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows: years. Columns: covered_t_<market>, double_counted_t, combined_t and *_share columns.

    ``emissions`` (entity x year, t, on each market's emissions basis) defaults to BAU on that
    basis. Shares are NaN when dataset.toml gives no national total for the year.
    """
    if emissions is None:
        emissions = bau_matrix(ds, scn.years) * direct_factor(scn, ds)[:, None]
    market = ds.entities["market"].reindex(emissions.index).to_numpy()
    elec = counted_electricity_share(scn, ds).reindex(emissions.index).to_numpy()
    total = np.array([ds.national_co2_t.get(y, np.nan) for y in scn.years])
    cols: dict[str, np.ndarray] = {}
    for m in scn.markets:
        cols[f"covered_t_{m}"] = emissions[market == m].sum(axis=0).to_numpy()
        cols[f"share_{m}"] = cols[f"covered_t_{m}"] / total
    double = (emissions.to_numpy() * elec[:, None]).sum(axis=0)
    combined = emissions.sum(axis=0).to_numpy() - double
    cols.update(
        double_counted_t=double,
        combined_t=combined,
        share_double_counted=double / total,
        share_combined=combined / total,
        national_co2_t=total,
    )
    return pd.DataFrame(cols, index=pd.Index(scn.years, name="year"))


def bau_matrix(ds: Dataset, years: list[int]) -> pd.DataFrame:
    """BAU emissions as an entity x year frame (entities in entities.csv order)."""
    b = ds.bau[ds.bau["year"].isin(years)]
    mat = b.pivot(index="entity_id", columns="year", values="bau_emissions_t")
    return mat.reindex(index=ds.entities.index, columns=years)


def counted_electricity_share(scn: Scenario, ds: Dataset) -> pd.Series:
    """Per entity: the share of its counted emissions that is purchased electricity (its
    ``electricity_share``; 0 in a market with ``emissions_basis = "direct"``)."""
    es = ds.entities["electricity_share"].astype(float)
    return es.where(direct_factor(scn, ds) == 1.0, 0.0)
