"""Activity and benchmarks of the synthetic ``inputs/japan`` dataset (README section 9).

Each national site of a sector with a public emissions intensity gets an activity series in a
physical unit: emissions / its own intensity, where the site's intensity is the sector's
intensity times a mean-one lognormal spread (sd :data:`SITE_SPREAD_SD`, fixed over time), so that
activity moves with the site's emissions (history FY2023-2025 and BAU FY2026-2035). Power,
steel and cement sites get a benchmark group (GX-ETS allocates those by benchmark); refineries
get activity only. Sectors without a public intensity in the project's sources (chemicals, the
other large sites, the regional installations) get neither, and are grandfathered by a
benchmark market's fallback.

Sector intensities (t CO2 per unit of activity):

* power by fuel, t/MWh: the IPCC 2006 default CO2 emission factor of the fuel (t CO2/TJ: coal
  94.6, natural gas 56.1, residual fuel oil 77.4; Volume 2, chapter 2, table 2.2 [ipcc2006])
  x 3.6 GJ/MWh / a net generating efficiency [E]: coal 41 %, gas 52 %, oil 39 %.
* integrated steel, t/t crude steel: the dataset's integrated-steel budget (116.1 Mt) / basic
  oxygen furnace crude steel of FY2023 (63.85 Mt [seaisi-steel]) [D].
* cement, t/t cement: 0.713 t CO2 per t of cement, Japan's average [kensetsu-cement].
* refineries, t/kL of crude processed: the dataset's refinery budget (22.0 Mt) / (3.1 mb/d of
  capacity [eia-japan] x 80 % utilisation [E] x 365 d x 0.159 kL/bbl) [D].

Benchmarks (``benchmarks.csv``) per group and model year: the emissions-weighted median site
intensity in FY2026, falling linearly to the 32.5th percentile in FY2030 (GX-ETS sets its
FY2030 benchmark at the level of the best 32.5 % [gx-benchmark]) and by 1.7 % a year after
(the grandfathering decline [gx-benchmark]; the benchmark's own path after FY2030 is [E]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: sector -> (benchmark group or "" for none, activity unit, t CO2 per unit of activity)
SECTOR_INTENSITY: dict[str, tuple[str, str, float]] = {
    "power_coal": ("power_coal", "MWh", 94.6 * 3.6e-3 / 0.41),
    "power_lng": ("power_gas", "MWh", 56.1 * 3.6e-3 / 0.52),
    "power_oil": ("power_oil", "MWh", 77.4 * 3.6e-3 / 0.39),
    "steel": ("steel_integrated", "t crude steel", 116.1 / 63.85),
    "cement": ("cement", "t cement", 0.713),
    "refinery": ("", "kL crude processed", 22.0e6 / (3.1e6 * 0.80 * 365 * 0.159)),
}
#: sd of the lognormal spread of site intensities around the sector's [E]
SITE_SPREAD_SD = 0.08
#: years written to activity.csv: the base years and the model years
ACTIVITY_YEARS = tuple(range(2023, 2036))
#: GX-ETS: the FY2030 benchmark is met by the best 32.5 % [gx-benchmark]
BENCHMARK_2030_QUANTILE = 0.325
#: yearly decline of a benchmark after FY2030 [E], the GX-ETS grandfathering decline
BENCHMARK_DECLINE = 0.017


def activity_tables(
    rng: np.random.Generator, ent: pd.DataFrame, history: pd.DataFrame, bau: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """(benchmark column of entities.csv, activity.csv, benchmarks.csv, [activity_units])."""
    sector = ent["sector"].to_numpy()
    has = np.isin(sector, list(SECTOR_INTENSITY))
    pos = np.flatnonzero(has)
    spread = np.exp(SITE_SPREAD_SD * rng.standard_normal(len(pos)) - SITE_SPREAD_SD**2 / 2)
    site = np.array([SECTOR_INTENSITY[s][2] for s in sector[pos]]) * spread
    ids = ent["entity_id"].to_numpy()[pos]
    emis = pd.concat(
        [
            history.rename(columns={"fiscal_year": "year", "emissions_t": "t"}),
            bau.rename(columns={"bau_emissions_t": "t"}),
        ]
    )
    mat = emis.pivot(index="entity_id", columns="year", values="t").reindex(index=ids, columns=list(ACTIVITY_YEARS))
    act = np.round(mat.to_numpy(dtype=float) / site[:, None])
    activity = pd.DataFrame(
        {
            "entity_id": np.repeat(ids, len(ACTIVITY_YEARS)),
            "year": np.tile(ACTIVITY_YEARS, len(ids)),
            "activity": act.ravel().astype(np.int64),
        }
    )
    group = pd.Series("", index=ent.index, dtype=object)
    group.iloc[pos] = [SECTOR_INTENSITY[s][0] for s in sector[pos]]
    base_cols = [ACTIVITY_YEARS.index(y) for y in (2023, 2024, 2025)]
    weight = mat.to_numpy(dtype=float)[:, base_cols].mean(axis=1)
    rows = []
    for g in sorted({v for v in group if v}):
        mine = group.iloc[pos].to_numpy() == g
        first = _weighted_quantile(site[mine], weight[mine], 0.5)
        last = _weighted_quantile(site[mine], weight[mine], BENCHMARK_2030_QUANTILE)
        for y in range(2026, 2036):
            v = (
                first + (last - first) * min(y - 2026, 4) / 4
                if y <= 2030
                else last * (1 - BENCHMARK_DECLINE) ** (y - 2030)
            )
            rows.append({"benchmark": g, "year": y, "t_per_activity": round(v, 4)})
    units = {s: unit for s, (_, unit, _) in SECTOR_INTENSITY.items()}
    return group, activity, pd.DataFrame(rows), units


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The value below which a share ``q`` of the weight lies (lower step of the weighted CDF)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, q)])
