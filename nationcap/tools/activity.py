"""Activity and benchmarks of the synthetic ``inputs/japan`` dataset (README section 9).

Every entity gets an activity series FY2023-2035 in its sector's unit (``dataset.toml``
``[activity_units]``): its emissions (history FY2023-2025, then BAU FY2026-2035) over its own
intensity, where the site's intensity is its sector's times a mean-one lognormal spread (sd
:data:`SITE_SPREAD_SD`, fixed over time), so activity moves with the entity's emissions. Every
entity has a benchmark group (:func:`benchmark_group`): power by fuel, integrated steel and cement
under the names GX-ETS gives them, every other sector its own group (refineries per kL of crude
processed, buildings per m2 of floor area by use, the other industries per kL crude-oil equivalent
of energy use). A scenario chooses which groups a benchmark market allocates by benchmark
(``allocation.groups``); the others are grandfathered.

Physical units (:data:`SECTOR_INTENSITY`, t CO2 per unit of activity):

* power by fuel, t/MWh: the IPCC 2006 default CO2 emission factor of the fuel (t CO2/TJ: coal
  94.6, natural gas 56.1, residual fuel oil 77.4; Volume 2, chapter 2, table 2.2 [ipcc2006])
  x 3.6 GJ/MWh / a net generating efficiency [E]: coal 41 %, gas 52 %, oil 39 %.
* integrated steel, t/t crude steel: the dataset's integrated-steel budget (116.1 Mt) / basic
  oxygen furnace crude steel of FY2023 (63.85 Mt [seaisi-steel]) [D].
* cement, t/t cement: 0.713 t CO2 per t of cement, Japan's average [kensetsu-cement].
* refineries, t/kL of crude processed: the dataset's refinery budget (22.0 Mt) / (3.1 mb/d of
  capacity [eia-japan] x 80 % utilisation [E] x 365 d x 0.159 kL/bbl) [D].

Energy units (:data:`ENERGY_SECTORS`; the factors are in ``japan_facts.toml`` ``[activity]``, each
with its source): an entity with electricity share ``e`` of emissions ``E`` uses primary energy
``E x (e x G_el + (1 - e) x G_fuel)`` GJ, where ``G_el = 8.64 GJ/MWh / 0.421 t/MWh = 20.52 GJ/t``
[elec-primary] [elcs-2023] and ``G_fuel`` is 1 / the fuel's t CO2 per GJ (carbon factor x 44/12
[coe-conv]): city gas 13A 20.05 GJ/t, half city gas and half A heavy oil 16.78 GJ/t [E].

* regional factories and the national sites without a product unit (chemicals, paper,
  glass_ceramics, nonferrous, automotive, other_industry): energy use in kL crude-oil equivalent,
  primary energy x 0.0258 kL/GJ [coe-conv] (the unit of the regional tier's 1,500 kL threshold);
  the fuel is half city gas, half A heavy oil [E]. The national sites are on the direct basis
  (``e = 0``): 2.309 t per kL.
* regional buildings (office, commercial, public): floor area in m2, primary energy / the use's
  energy per m2 (office 1,511, commercial 2,093, public 1,657 MJ/m2 [tmg-intensity] [D]); the
  fuel is city gas. An office with ``e = 0.7`` emits 1.511 / 20.38 = 0.0741 t CO2 per m2.

Benchmarks (``benchmarks.csv``) per group and model year: the median site intensity of the
group, each site weighted by its mean emissions of FY2023-2025, in FY2026, falling linearly to
the 32.5th percentile in FY2030 (GX-ETS sets its FY2030 benchmark at the level of the best
32.5 % [gx-benchmark]) and by 1.7 % a year after (the grandfathering decline [gx-benchmark]; the
benchmark's own path after FY2030 is [E]).

The spreads of the sectors with a physical unit are drawn first, in entity order, and those of
the energy sectors after them, so adding the energy sectors left the power, steel, cement and
refinery activity and the benchmarks exactly as they were. The groups of the other sectors use no
random draw either, so giving them benchmarks changed no activity and no earlier benchmark.

A group's benchmark is on the basis its sites report: the regional sites' intensities include
their purchased electricity (the regional tier counts it), the national sites' do not (their
``electricity_share`` is 0). A market on the direct basis that allocated regional sites by
benchmark would therefore allocate for their electricity too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .facts import FACTS

#: sector -> (benchmark group, activity unit, t CO2 per unit of activity)
SECTOR_INTENSITY: dict[str, tuple[str, str, float]] = {
    "power_coal": ("power_coal", "MWh", 94.6 * 3.6e-3 / 0.41),
    "power_lng": ("power_gas", "MWh", 56.1 * 3.6e-3 / 0.52),
    "power_oil": ("power_oil", "MWh", 77.4 * 3.6e-3 / 0.39),
    "steel": ("steel_integrated", "t crude steel", 116.1 / 63.85),
    "cement": ("cement", "t cement", 0.713),
    "refinery": ("refinery", "kL crude processed", 22.0e6 / (3.1e6 * 0.80 * 365 * 0.159)),
}
#: the sectors with an energy unit: sector -> (kind, unit); kind "building" (floor area, by its
#: use's energy per m2) or "industry" (kL crude-oil equivalent)
ENERGY_SECTORS: dict[str, tuple[str, str]] = {
    **{s: ("building", "m2 floor area") for s in ("office", "commercial", "public")},
    **{
        s: ("industry", "kL crude-oil equivalent")
        for s in (
            "chemicals",
            "paper",
            "glass_ceramics",
            "nonferrous",
            "automotive",
            "other_industry",
            "factory_food",
            "factory_chemicals",
            "factory_metals",
            "factory_machinery",
            "factory_electronics",
            "factory_transport",
            "factory_ceramics",
            "factory_paper",
            "factory_other",
        )
    },
}
_A = FACTS["activity"]
#: primary energy per t CO2 of purchased electricity, GJ/t [elec-primary] [elcs-2023]
ELECTRICITY_GJ_PER_T = _A["electricity_gj_per_mwh"] / _A["electricity_t_per_mwh"]
_FUEL_T_PER_GJ = {"city_gas": _A["city_gas_tc_per_gj"] * 44 / 12, "heavy_oil": _A["heavy_oil_tc_per_gj"] * 44 / 12}
#: primary energy per t CO2 of the fuel that is not electricity, GJ/t, by kind [coe-conv] [E]
FUEL_GJ_PER_T = {
    kind: 1.0 / sum(w * _FUEL_T_PER_GJ[f] for f, w in _A[f"{kind}_fuel"].items()) for kind in ("building", "industry")
}
#: kL crude-oil equivalent per GJ of primary energy [coe-conv]
KL_COE_PER_GJ: float = _A["kl_coe_per_gj"]
#: primary energy per m2 of floor area and year, GJ/m2, by building use [tmg-intensity] [D]
BUILDING_GJ_PER_M2 = {use: mj / 1000.0 for use, mj in _A["building_mj_per_m2"].items()}
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
    site_phys = np.array([SECTOR_INTENSITY[s][2] for s in sector[pos]]) * spread
    # the energy sectors' spreads come after: the physical sectors' draws stay as they were
    pos_e = np.flatnonzero(np.isin(sector, list(ENERGY_SECTORS)))
    spread_e = np.exp(SITE_SPREAD_SD * rng.standard_normal(len(pos_e)) - SITE_SPREAD_SD**2 / 2)
    elec = ent["electricity_share"].to_numpy(dtype=float)[pos_e]
    site_energy = np.array([energy_intensity(s, e) for s, e in zip(sector[pos_e], elec, strict=True)]) * spread_e

    every = np.concatenate([pos, pos_e])
    order = np.argsort(every, kind="stable")
    rows = every[order]
    site = np.concatenate([site_phys, site_energy])[order]
    ids = ent["entity_id"].to_numpy()[rows]
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
    group.iloc[rows] = [benchmark_group(s) for s in sector[rows]]
    base_cols = [ACTIVITY_YEARS.index(y) for y in (2023, 2024, 2025)]
    weight = mat.to_numpy(dtype=float)[:, base_cols].mean(axis=1)
    row_group = group.iloc[rows].to_numpy()
    bench = []
    for g in sorted({v for v in group if v}):
        mine = row_group == g
        first = _weighted_quantile(site[mine], weight[mine], 0.5)
        last = _weighted_quantile(site[mine], weight[mine], BENCHMARK_2030_QUANTILE)
        for y in range(2026, 2036):
            v = (
                first + (last - first) * min(y - 2026, 4) / 4
                if y <= 2030
                else last * (1 - BENCHMARK_DECLINE) ** (y - 2030)
            )
            bench.append({"benchmark": g, "year": y, "t_per_activity": round(v, 4)})
    present = set(sector)
    units = {s: unit for s, (_, unit, _) in SECTOR_INTENSITY.items()}
    units |= {s: unit for s, (_, unit) in ENERGY_SECTORS.items() if s in present}
    return group, activity, pd.DataFrame(bench), units


def benchmark_group(sector: str) -> str:
    """The benchmark group of a sector's sites: power by fuel, integrated steel and cement as
    GX-ETS names them (:data:`SECTOR_INTENSITY`), every other sector its own group."""
    return SECTOR_INTENSITY[sector][0] if sector in SECTOR_INTENSITY else sector


def energy_intensity(sector: str, electricity_share: float) -> float:
    """t CO2 per unit of activity of an entity of an energy sector (:data:`ENERGY_SECTORS`) with
    the given electricity share: per m2 of floor area for a building, per kL crude-oil equivalent
    otherwise (module docstring)."""
    kind, _ = ENERGY_SECTORS[sector]
    e = float(electricity_share)
    gj_per_t = e * ELECTRICITY_GJ_PER_T + (1.0 - e) * FUEL_GJ_PER_T[kind]
    if kind == "building":
        return BUILDING_GJ_PER_M2[sector] / gj_per_t
    return 1.0 / (gj_per_t * KL_COE_PER_GJ)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The value below which a share ``q`` of the weight lies (lower step of the weighted CDF)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, q)])
