"""Free allocation and caps.

Tokyo's grandfathering rule, applied per entity *i* and compliance period *p*::

    allocation[i, p] = base_emissions_t[i] * (1 - factor[market(i), p, category(i)]) * years(p)

where ``factor`` falls back to the market's ``general`` factor when the entity's category has no
entry for the period. A market's cap for a period is the sum of its entities' allocations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import Scenario
from .data import Dataset


def compliance_factors(scn: Scenario, ds: Dataset) -> pd.DataFrame:
    """Factor applied to each entity (rows, in entities.csv order) in each period (columns)."""
    ent = ds.entities
    out = {}
    for p in scn.periods:
        vals = np.empty(len(ent))
        for k, (m, cat) in enumerate(zip(ent["market"].to_numpy(), ent["category"].to_numpy())):
            vals[k] = scn.factor(m, p.name, cat)
        out[p.name] = vals
    return pd.DataFrame(out, index=ent.index)


def allocation_t(scn: Scenario, ds: Dataset) -> pd.DataFrame:
    """Allocation (t CO2 for the whole period) per entity and period."""
    factors = compliance_factors(scn, ds)
    base = ds.entities["base_emissions_t"].to_numpy()
    out = {p.name: base * (1.0 - factors[p.name].to_numpy()) * p.n_years for p in scn.periods}
    return pd.DataFrame(out, index=ds.entities.index)


def caps_t(scn: Scenario, ds: Dataset, alloc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cap (t CO2 per period) per market (rows, every scenario market) and period (columns)."""
    if alloc is None:
        alloc = allocation_t(scn, ds)
    caps = alloc.groupby(ds.entities["market"].to_numpy()).sum()
    return caps.reindex(list(scn.markets), fill_value=0.0)
