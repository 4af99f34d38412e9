"""Deterministic synthetic input datasets (``inputs/japan`` and ``inputs/tiny``).

:func:`generate` returns the text of every file of a dataset folder; :func:`write_dataset` puts
them on disk atomically. The same ``(kind, seed, scale)`` always gives byte-identical texts:
every random draw comes from ``numpy.random.default_rng(seed)`` (split into independent child
streams, one per table family), counts are apportioned deterministically, and numbers are rounded
before they are written (tonnes to whole tonnes or 0.1 t, shares to 4 decimals, costs to whole
JPY/t).

The ``japan`` dataset is grounded in public statistics: ``inputs/japan/README.md`` gives every
number with its source, and the sources are listed in ``_JAPAN_SOURCES`` below (written into the
dataset's ``dataset.toml``). Comments name a source by its id in that list (``[shk-pref]``) or a
section of the README; ``[E]`` marks an estimate or modelling choice, ``[D]`` a derived number
and ``[U]`` a recalled, unverified value, as in the README. Its parameters are all module
constants so that the README can quote them.

Construction in brief
---------------------
* **National tier** (~500 sites, direct emissions): thermal power sites sized from power-plant
  capacity quantiles, integrated steel works from the list of top emitters, cement, refineries,
  chemicals and other large industrial sites from size profiles; each sector is scaled to an
  FY2024-level emissions budget and placed in plausible prefectures.
* **Regional tier** (~14,000 installations, scope 1+2): truncated lognormal sizes; Tokyo and
  Saitama counts pinned to their programmes' sizes, the other prefectures share the rest by
  population (buildings) and by a blend of SHK emissions and population (factories); a share of
  the installations in each prefecture with designated cities is administered by those cities.
* **History** FY2019-2025 and **BAU** FY2026-2035 follow one entity-specific trend (sector trend
  plus noise) around the FY2024 level, with a COVID dip in FY2020-21 and small yearly noise.
  ``base_emissions_t`` is the mean of the written FY2023-2025 history, rounded to 0.1 t.
* **MAC** steps follow the tranche table of the README (section 5) with per-entity draws.
* **Offsets**: J-Credit-like supply steps priced from J-Credit prices [jpx-jcredit] and the
  GX-ETS band [gx-ets] (README section 6).

``scale`` multiplies the entity counts (0.1x..4x for benchmarks). Entity sizes keep their
distribution, so market totals, offset quantities and the national CO2 path are multiplied by
``scale`` as well, which keeps shares and market tightness comparable across scales.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..atomic import DATASET, atomic_folder
from ..inputs.geo import DESIGNATED_CITIES, NATIONAL_ADMINISTRATOR, PREFECTURES

__all__ = ["generate", "write_dataset", "SHIPPED_SEED", "KINDS", "MODEL_YEARS", "HISTORY_YEARS", "BASE_YEARS"]

#: seed of the shipped ``inputs/japan`` folder
SHIPPED_SEED = 2026

KINDS = ("japan", "tiny")
MODEL_YEARS = tuple(range(2026, 2036))
HISTORY_YEARS = tuple(range(2019, 2026))
#: base_emissions_t is the mean of the history over these fiscal years
BASE_YEARS = (2023, 2024, 2025)
#: year of the "centre" level around which trends are applied (middle of BASE_YEARS)
_CENTRE_YEAR = 2024

# --------------------------------------------------------------------------------------------
# Reference data (sources in inputs/japan/README.md and _JAPAN_SOURCES)
# --------------------------------------------------------------------------------------------

#: SHK specified-establishment emissions by prefecture, FY2017, t CO2e (indirect basis) [shk-pref].
#: Ranks 44-47 (Kagoshima, Tottori, Yamanashi, Nara) are estimates [E] in the source table.
SHK_FY2017_T: dict[str, float] = {
    "Chiba": 46_080_324,
    "Aichi": 40_709_183,
    "Hiroshima": 40_206_737,
    "Hyogo": 35_381_734,
    "Yamaguchi": 33_817_444,
    "Okayama": 33_618_658,
    "Oita": 30_109_901,
    "Ibaraki": 29_710_705,
    "Fukuoka": 29_338_499,
    "Kanagawa": 27_102_520,
    "Hokkaido": 22_567_772,
    "Osaka": 15_809_385,
    "Mie": 15_507_781,
    "Tokyo": 12_976_736,
    "Ehime": 11_449_712,
    "Shizuoka": 10_748_303,
    "Saitama": 10_712_929,
    "Wakayama": 10_522_232,
    "Niigata": 8_891_040,
    "Fukushima": 8_633_136,
    "Miyagi": 6_359_941,
    "Tochigi": 6_028_621,
    "Aomori": 5_839_621,
    "Gifu": 5_755_698,
    "Toyama": 5_144_486,
    "Shiga": 5_010_068,
    "Gunma": 4_677_227,
    "Fukui": 4_168_870,
    "Iwate": 4_143_295,
    "Kochi": 3_979_691,
    "Kyoto": 3_924_965,
    "Kumamoto": 3_503_542,
    "Tokushima": 3_166_650,
    "Akita": 3_034_976,
    "Kagawa": 2_762_577,
    "Ishikawa": 2_605_851,
    "Miyazaki": 2_602_808,
    "Nagano": 2_571_672,
    "Nagasaki": 2_460_398,
    "Shimane": 2_286_338,
    "Yamagata": 2_149_008,
    "Okinawa": 2_127_352,
    "Saga": 1_814_000,
    "Kagoshima": 1_500_000,
    "Tottori": 1_000_000,
    "Yamanashi": 950_000,
    "Nara": 880_000,
}

#: population by prefecture, 2020 Census [census2020]
POPULATION_2020: dict[str, int] = {
    "Hokkaido": 5_224_614,
    "Aomori": 1_237_984,
    "Iwate": 1_210_534,
    "Miyagi": 2_301_996,
    "Akita": 959_502,
    "Yamagata": 1_068_027,
    "Fukushima": 1_833_152,
    "Ibaraki": 2_867_009,
    "Tochigi": 1_933_146,
    "Gunma": 1_939_110,
    "Saitama": 7_344_765,
    "Chiba": 6_284_480,
    "Tokyo": 14_047_594,
    "Kanagawa": 9_237_337,
    "Niigata": 2_201_272,
    "Toyama": 1_034_814,
    "Ishikawa": 1_132_526,
    "Fukui": 766_863,
    "Yamanashi": 809_974,
    "Nagano": 2_048_011,
    "Gifu": 1_978_742,
    "Shizuoka": 3_633_202,
    "Aichi": 7_542_415,
    "Mie": 1_770_254,
    "Shiga": 1_413_610,
    "Kyoto": 2_578_087,
    "Osaka": 8_837_685,
    "Hyogo": 5_465_002,
    "Nara": 1_324_473,
    "Wakayama": 922_584,
    "Tottori": 553_407,
    "Shimane": 671_126,
    "Okayama": 1_888_432,
    "Hiroshima": 2_799_702,
    "Yamaguchi": 1_342_059,
    "Tokushima": 719_559,
    "Kagawa": 950_244,
    "Ehime": 1_334_841,
    "Kochi": 691_527,
    "Fukuoka": 5_135_214,
    "Saga": 811_442,
    "Nagasaki": 1_312_317,
    "Kumamoto": 1_738_301,
    "Oita": 1_123_852,
    "Miyazaki": 1_069_576,
    "Kagoshima": 1_588_256,
    "Okinawa": 1_467_480,
}

#: 2020 Census populations of the designated cities, rounded to thousands. Not from a listed
#: source: recalled values [U], used only to size each city's share of its prefecture's installations.
CITY_POPULATION_2020: dict[str, int] = {
    "Sapporo": 1_973_000,
    "Sendai": 1_097_000,
    "Saitama City": 1_324_000,
    "Chiba City": 975_000,
    "Kawasaki": 1_538_000,
    "Yokohama": 3_777_000,
    "Sagamihara": 719_000,
    "Niigata City": 789_000,
    "Shizuoka City": 693_000,
    "Hamamatsu": 791_000,
    "Nagoya": 2_332_000,
    "Kyoto City": 1_464_000,
    "Osaka City": 2_752_000,
    "Sakai": 826_000,
    "Kobe": 1_525_000,
    "Okayama City": 725_000,
    "Hiroshima City": 1_201_000,
    "Kitakyushu": 939_000,
    "Fukuoka City": 1_612_000,
    "Kumamoto City": 739_000,
}
#: a designated city's share of its prefecture's buildings / factories = these multipliers x its
#: population share (commercial floor space concentrates in the big cities, factories less so) [E]
CITY_SHARE_MULTIPLIER = {"building": 1.2, "factory": 0.8}

#: CRT total CO2 excl. LULUCF, Mt: FY2013 and FY2024 [crt2026]
CRT_CO2_2013_MT = 1310.0
CRT_CO2_2024_MT = 969.6
#: the national_co2_t path continues the FY2013-2024 average rate of change [D]
NATIONAL_CO2_RATE = (CRT_CO2_2024_MT / CRT_CO2_2013_MT) ** (1.0 / 11.0) - 1.0

# --------------------------------------------------------------------------------------------
# National tier (inputs/japan/README.md, section 2)
# --------------------------------------------------------------------------------------------

#: Plant-size quantiles (MW) for thermal power. Coal from the GPPD Japan list [gppd] with two
#: added upper points (p97, and p0) [E]; LNG and oil adapted from GPPD to include the smaller
#: sites that a ~65 / ~35 site population holds [E].
_COAL_MW = (
    (0.0, 40.0),
    (0.10, 73.0),
    (0.25, 133.0),
    (0.50, 300.0),
    (0.75, 1200.0),
    (0.90, 1800.0),
    (0.97, 2600.0),
    (1.0, 4100.0),
)
_LNG_MW = ((0.0, 100.0), (0.10, 150.0), (0.25, 400.0), (0.50, 1000.0), (0.75, 2000.0), (0.90, 3500.0), (1.0, 5040.0))
_OIL_MW = ((0.0, 50.0), (0.10, 200.0), (0.25, 500.0), (0.50, 1000.0), (0.75, 1500.0), (0.90, 2500.0), (1.0, 4400.0))

#: Integrated steel works, FY2024-level Mt, largest first, with prefectures. Anchored on the
#: FY2017 top-emitter list ([kiko-top]: Fukuyama 21.58, Kurashiki 18.29, Kimitsu 15.81, Oita
#: 15.07, Nagoya 14.21, Kakogawa 13.79, Kashima 12.51) reduced ~15% to FY2024 levels, Kashima
#: lower after its No. 3 furnace closed (README section 2); the smaller works are estimates [E].
_STEEL_WORKS = (
    (18.5, "Hiroshima"),
    (15.0, "Okayama"),
    (13.5, "Chiba"),
    (12.8, "Oita"),
    (12.1, "Aichi"),
    (11.7, "Hyogo"),
    (8.0, "Ibaraki"),
    (6.5, "Chiba"),
    (5.5, "Wakayama"),
    (5.0, "Fukuoka"),
    (3.0, "Hokkaido"),
    (2.0, "Kanagawa"),
    (1.5, "Hyogo"),
    (1.0, "Yamaguchi"),
)

#: Plausible prefectures for site types whose locations are clustered (general knowledge of
#: where such plants sit [U]; cement clusters from [jca]: Kyushu 6, Yamaguchi 4, Kanto 6).
_CEMENT_PREFS = (
    "Fukuoka",
    "Fukuoka",
    "Oita",
    "Oita",
    "Kumamoto",
    "Kagoshima",
    "Yamaguchi",
    "Yamaguchi",
    "Yamaguchi",
    "Yamaguchi",
    "Saitama",
    "Saitama",
    "Tochigi",
    "Tochigi",
    "Gunma",
    "Ibaraki",
    "Hokkaido",
    "Aomori",
    "Iwate",
    "Iwate",
    "Fukushima",
    "Niigata",
    "Mie",
    "Kochi",
    "Kochi",
    "Tokushima",
    "Okayama",
    "Ehime",
    "Okinawa",
)
_REFINERY_PREFS = (
    "Chiba",
    "Chiba",
    "Chiba",
    "Chiba",
    "Kanagawa",
    "Kanagawa",
    "Kanagawa",
    "Aichi",
    "Mie",
    "Mie",
    "Osaka",
    "Okayama",
    "Okayama",
    "Ehime",
    "Oita",
    "Hokkaido",
    "Ibaraki",
    "Miyagi",
    "Yamaguchi",
    "Wakayama",
)
_COAL_PREFS = {
    "Fukushima": 6,
    "Ibaraki": 5,
    "Aichi": 4,
    "Hokkaido": 5,
    "Kanagawa": 3,
    "Chiba": 3,
    "Hiroshima": 3,
    "Yamaguchi": 4,
    "Shimane": 2,
    "Okayama": 3,
    "Hyogo": 3,
    "Kyoto": 1,
    "Fukui": 1,
    "Ishikawa": 1,
    "Toyama": 2,
    "Ehime": 3,
    "Tokushima": 2,
    "Kochi": 1,
    "Nagasaki": 3,
    "Fukuoka": 4,
    "Kumamoto": 1,
    "Miyagi": 3,
    "Akita": 2,
    "Okinawa": 2,
    "Niigata": 2,
    "Oita": 2,
    "Osaka": 1,
    "Iwate": 1,
    "Aomori": 1,
    "Kagoshima": 1,
    "Mie": 1,
}
#: landlocked prefectures (no LNG / oil-fired sites)
_LANDLOCKED = ("Tochigi", "Gunma", "Saitama", "Yamanashi", "Nagano", "Gifu", "Shiga", "Nara")
_COASTAL = tuple(p for p in PREFECTURES if p not in _LANDLOCKED)


@dataclass(frozen=True)
class _NationalSector:
    key: str  # sector label written to entities.csv
    label: str  # name prefix
    count: int  # sites at scale 1
    budget_mt: float  # FY2024-level sector total at scale 1, Mt
    trend: float  # BAU trend, fraction per year
    mac: str  # MAC family


#: Counts ([gppd], [jca], [eia-japan] and estimates [E]; README section 2), FY2024-level budgets
#: (Mt) [E], trends [E] (power about -2%/yr overall, emissions-weighted; industry -1%/yr). The
#: budgets are set so that the tier is ~52-53% of the national CO2 path in FY2026 (the dataset's
#: design target [E]; estimates range over 50-58%). Power is below CRT 1.A.1 (404.8 Mt in FY2024
#: [crt2026]), which also holds refining, coke ovens, autoproducers and sites below the tier.
NATIONAL_SECTORS: tuple[_NationalSector, ...] = (
    _NationalSector("power_coal", "Coal power station", 85, 183.0, -0.022, "coal"),
    _NationalSector("power_lng", "LNG power station", 65, 76.0, -0.015, "lng"),
    _NationalSector("power_oil", "Oil power station", 35, 11.0, -0.030, "oil"),
    _NationalSector("steel", "Integrated steel works", 14, 116.1, -0.010, "steel"),
    _NationalSector("cement", "Cement plant", 29, 30.0, -0.010, "cement"),
    _NationalSector("refinery", "Oil refinery", 20, 22.0, -0.012, "process"),
    _NationalSector("chemicals", "Chemical complex", 70, 38.0, -0.010, "process"),
    _NationalSector("other_industry", "Large industrial site", 182, 28.5, -0.010, "process"),
)
#: smallest FY2024-level site size in the national tier, Mt (threshold 0.1 Mt plus a margin)
NATIONAL_MIN_MT = 0.105
#: sub-sectors of the "other large sites" and their weights [E], led by the SHK manufacturing
#: split (README section 2)
_OTHER_SUBSECTORS = (
    ("paper", 0.35),
    ("glass_ceramics", 0.15),
    ("nonferrous", 0.15),
    ("automotive", 0.15),
    ("other_industry", 0.20),
)

# --------------------------------------------------------------------------------------------
# Regional tier (inputs/japan/README.md, section 3)
# --------------------------------------------------------------------------------------------

REGIONAL_COUNT = 14_000
REGIONAL_FACTORY_SHARE = 0.57  # 55-60% factories [E]
#: pinned prefecture totals and office shares (Saitama ~600, ~30% offices [saitama-ets]; Tokyo
#: ~1,200-1,300 [tmg-ct], ~85% offices [E])
PINNED = {"Tokyo": (1250, 0.85), "Saitama": (600, 0.30)}
#: factories' prefecture key = this weight x SHK share + rest x population share [E]
FACTORY_SHK_WEIGHT = 0.5
#: truncated lognormal sizes, t CO2/yr: the floor is the 1,500 kL COE threshold in CO2
#: [coe-conv], the median and spread are estimates [E] (README section 3)
SIZE_LO_T, SIZE_HI_T, SIZE_SIGMA = 3_000.0, 100_000.0, 1.0
SIZE_MEDIAN_T = {"building": 5_800.0, "factory": 7_500.0}
#: electricity share ranges (uniform) [E]
ELEC_SHARE = {"building": (0.60, 0.85), "factory": (0.30, 0.60)}
DHC_SHARE = {"Tokyo": 0.10, "other": 0.04}  # share of buildings supplied by DHC [E]
TOP_SHARE, NEAR_TOP_SHARE = 0.03, 0.05  # of buildings [E]
_BUILDING_SECTORS = {
    "Tokyo": (("office", 0.65), ("commercial", 0.20), ("public", 0.15)),
    "other": (("office", 0.35), ("commercial", 0.35), ("public", 0.30)),
}
_FACTORY_SECTORS = (
    ("factory_food", 0.15),
    ("factory_chemicals", 0.14),
    ("factory_metals", 0.12),
    ("factory_machinery", 0.12),
    ("factory_electronics", 0.12),
    ("factory_transport", 0.12),
    ("factory_ceramics", 0.06),
    ("factory_paper", 0.05),
    ("factory_other", 0.12),
)
#: BAU trends per year [E]: buildings -1%; factories -0.8% (the Energy Conservation Act's 1%/yr
#: intensity improvement, README section 4, net of slight output growth)
REGIONAL_TREND = {"building": -0.010, "factory": -0.008}

#: trend noise (sd of the entity's annual rate) and yearly noise (sd, multiplicative)
TREND_SD = 0.005
HISTORY_NOISE_SD = 0.02
BAU_NOISE_SD = 0.01
#: FY2020/FY2021 COVID effects (multiplicative) [E], cf. CRT total CO2 -5.8% in FY2020 [crt2026]
COVID = {"power": (-0.03, -0.015), "industry": (-0.07, -0.03), "building": (-0.06, -0.03), "factory": (-0.07, -0.03)}

# --------------------------------------------------------------------------------------------
# MAC tranches [E] (inputs/japan/README.md, section 5, gives their anchors)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tranche:
    share: tuple[float, float]  # uniform range of the abatement share
    cost: tuple[float, float]  # uniform range of the cost, JPY/t (clip range if normal; unused with step_up)
    keep: float = 1.0  # probability that the entity has this step
    normal: tuple[float, float] | None = None  # (mean, sd) of a clipped normal cost
    step_up: tuple[float, float] | None = None  # cost = previous step's cost + uniform(step_up)


MAC_FAMILIES: dict[str, tuple[_Tranche, ...]] = {
    # efficiency / biomass co-firing; coal->LNG dispatch switch centred on 4,370 (METI median);
    # ammonia co-firing; CCS on some plants (priced above the previous step)
    "coal": (
        _Tranche((0.02, 0.05), (200, 2_000)),
        _Tranche((0.20, 0.40), (3_000, 6_000), normal=(4_370, 500)),
        _Tranche((0.15, 0.20), (15_000, 30_000)),
        _Tranche((0.15, 0.25), (0, 0), keep=0.5, step_up=(2_000, 12_000)),
    ),
    "lng": (
        _Tranche((0.02, 0.05), (200, 3_000)),
        _Tranche((0.10, 0.20), (5_000, 15_000)),
        _Tranche((0.05, 0.10), (30_000, 50_000)),
    ),
    "oil": (
        _Tranche((0.02, 0.05), (200, 2_500)),
        _Tranche((0.20, 0.40), (3_000, 8_000)),
        _Tranche((0.10, 0.20), (15_000, 30_000)),
    ),
    # efficiency; COURSE50-type measures; H2 injection / scrap-EAF shift; H2-DRI on some works
    "steel": (
        _Tranche((0.03, 0.05), (500, 5_000)),
        _Tranche((0.05, 0.10), (5_000, 15_000)),
        _Tranche((0.10, 0.30), (15_000, 45_000)),
        _Tranche((0.20, 0.30), (0, 0), keep=0.6, step_up=(5_000, 20_000)),
    ),
    "cement": (
        _Tranche((0.03, 0.05), (200, 3_000)),
        _Tranche((0.05, 0.10), (3_000, 10_000)),
        _Tranche((0.20, 0.40), (15_000, 30_000)),
    ),
    "process": (
        _Tranche((0.04, 0.06), (200, 3_000)),
        _Tranche((0.08, 0.12), (3_000, 10_000)),
        _Tranche((0.08, 0.12), (10_000, 25_000)),
    ),
    # regional buildings: the 10-15% first tranche at -3,000..+1,000 split into two steps
    "building": (
        _Tranche((0.03, 0.06), (-3_000, -1_000)),
        _Tranche((0.05, 0.07), (-1_000, 1_000)),
        _Tranche((0.08, 0.12), (1_000, 5_000)),
        _Tranche((0.08, 0.12), (5_000, 15_000)),
        _Tranche((0.15, 0.25), (0, 0), keep=0.5, step_up=(2_000, 12_000)),
    ),
    "factory": (
        _Tranche((0.05, 0.07), (0, 2_000)),
        _Tranche((0.08, 0.12), (2_000, 6_000)),
        _Tranche((0.08, 0.12), (6_000, 20_000)),
        _Tranche((0.15, 0.30), (30_000, 50_000), keep=0.6),
    ),
}

# --------------------------------------------------------------------------------------------
# Offsets (inputs/japan/README.md, section 6), per year at FY2026; quantities in t, prices JPY/t
# --------------------------------------------------------------------------------------------

#: (offset_type, market) -> steps of (quantity_t in FY2026, price JPY/t in FY2026)
OFFSET_STEPS: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {
    # in-area small and mid-size facility credits: energy-saving J-Credit prices 1,620 / 2,850
    ("small_mid", "regional"): ((250_000, 1_620), (200_000, 2_850)),
    # renewable credits: renewable J-Credits 3,060-3,169 (2023), peak ~6,600 (2025, [U])
    ("renewable", "regional"): ((300_000, 3_100), (200_000, 5_000)),
    # outside-area credits: floor-like energy-saving price, TSE range, Tokyo implied ~7,500
    ("outside", "regional"): ((400_000, 1_800), (300_000, 3_000), (200_000, 7_500)),
    # national: J-Credit / JCM supply (GX-ETS allows up to 10% of emissions [eccj-offsets])
    ("outside", "national"): ((3_000_000, 1_700), (2_000_000, 3_100), (1_000_000, 8_000)),
}
OFFSET_QUANTITY_GROWTH = 0.04  # per year [E]
OFFSET_PRICE_GROWTH = 0.02  # per year [E]
OFFSET_NOISE_SD = 0.05


# ============================================================================================
# Public API
# ============================================================================================


def generate(kind: str = "japan", seed: int = 2026, scale: float = 1.0) -> dict[str, str]:
    """Return ``{file name: file text}`` for a dataset folder.

    ``kind`` is ``"japan"`` (the grounded ~14,500-entity dataset) or ``"tiny"`` (8 hand-set
    entities with round numbers; ``seed`` and ``scale`` do not change it). ``scale`` multiplies
    the entity counts of ``japan`` (0.1x..4x for benchmarks); 1.0 is the shipped default.
    Deterministic: the same arguments give byte-identical texts.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; allowed kinds are {', '.join(KINDS)}")
    scale = float(scale)
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive number (got {scale!r})")
    files = _tiny(seed) if kind == "tiny" else _japan(int(seed), scale)
    files["README.md"] = dataset_readme(kind, int(seed), scale)
    return dict(sorted(files.items()))


#: the README texts of the generated folders, one per kind (``<kind>.md``)
README_TEMPLATES = Path(__file__).parent / "dataset_readmes"


def dataset_readme(kind: str, seed: int, scale: float) -> str:
    """The README.md of a generated folder: ``dataset_readmes/<kind>.md`` as it is for the shipped
    dataset (``tiny``: any seed; ``japan``: :data:`SHIPPED_SEED` at scale 1). The japan README
    quotes counts and totals of the shipped folder, so for another seed or scale a first note
    says which seed and scale this folder has and that those numbers are the shipped ones."""
    text = (README_TEMPLATES / f"{kind}.md").read_text(encoding="utf-8")
    if kind == "japan" and (seed != SHIPPED_SEED or scale != 1.0):
        title, rest = text.split("\n", 1)
        note = (
            f"\n> **This folder:** `nationcap generate --kind japan --seed {seed} --scale {scale:g}`. "
            f"The design, parameters and sources below are those of every seed; the counts, sizes, "
            f"totals and checks it quotes are those of the shipped folder (seed {SHIPPED_SEED}, "
            "scale 1), not of this one.\n"
        )
        text = title + "\n" + note + rest
    return text


def write_dataset(files: dict[str, str], out_dir: Path, force: bool = False) -> None:
    """Write ``files`` (:func:`generate` gives every file, ``README.md`` too) into ``out_dir``
    atomically (:func:`nationcap.atomic.atomic_folder`).

    A non-empty existing ``out_dir`` is only replaced with ``force=True`` (else
    :class:`~nationcap.errors.OutputExistsError`), and only when it is a dataset nationcap
    generated (its dataset.toml's ``generator`` is a ``nationcap generate`` command); any other
    folder is refused (:func:`nationcap.atomic.check_replaceable`). A hand-written ``README.md`` in the old folder
    is kept when ``files`` does not provide one.
    """
    out_dir = Path(out_dir)
    for name in files:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"file names must be plain names without folders (got {name!r})")
    with atomic_folder(out_dir, force, kinds=(DATASET,)) as tmp:
        for name, text in files.items():
            with open(tmp / name, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        old_readme = out_dir / "README.md"
        if "README.md" not in files and old_readme.is_file():
            shutil.copy2(old_readme, tmp / "README.md")


# ============================================================================================
# Helpers
# ============================================================================================


def _apportion(total: int, weights) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainders)."""
    w = np.asarray(weights, dtype=float)
    quotas = total * w / w.sum()
    out = np.floor(quotas).astype(np.int64)
    rest = int(total - out.sum())
    if rest > 0:
        order = np.argsort(-(quotas - out), kind="stable")
        out[order[:rest]] += 1
    return out


def _scaled(n: int, scale: float) -> int:
    return max(1, int(round(n * scale)))


def _quantile_profile(points, n: int) -> np.ndarray:
    """Values at ranks (i + 0.5)/n, log-linear between the (quantile, value) ``points``."""
    q = (np.arange(n) + 0.5) / n
    p = np.array([a for a, _ in points])
    v = np.log(np.array([b for _, b in points]))
    return np.exp(np.interp(q, p, v))


_STD_NORMAL = NormalDist()


def _lognormal_profile(n: int, median: float, sigma: float, hi: float | None = None) -> np.ndarray:
    """Lognormal quantiles at ranks (i + 0.5)/n, optionally capped at ``hi``."""
    z = np.array([_STD_NORMAL.inv_cdf((i + 0.5) / n) for i in range(n)])
    x = median * np.exp(sigma * z)
    return np.minimum(x, hi) if hi is not None else x


def _noise(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """Mean-one lognormal multiplicative noise."""
    return np.exp(sd * rng.standard_normal(n) - 0.5 * sd * sd)


def _choice(rng: np.random.Generator, options, weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(w), size=n, p=w / w.sum())]


def _trunc_lognormal(rng: np.random.Generator, n: int, median: float, sigma: float, lo: float, hi: float) -> np.ndarray:
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        draw = median * np.exp(sigma * rng.standard_normal(2 * (n - have) + 16))
        keep = draw[(draw >= lo) & (draw <= hi)]
        out.append(keep)
        have += keep.size
    return np.concatenate(out)[:n]


def _csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def _fmt_t(x: float) -> str:
    return f"{x:.1f}"


# ============================================================================================
# The japan dataset
# ============================================================================================


def _japan(seed: int, scale: float) -> dict[str, str]:
    root = np.random.default_rng(seed)
    rng_nat, rng_reg, rng_time, rng_mac, rng_off = root.spawn(5)
    nat = _national_entities(rng_nat, scale)
    reg = _regional_entities(rng_reg, scale)
    ent = pd.concat([nat, reg], ignore_index=True)
    history, bau, base = _time_series(rng_time, ent)
    ent["base_emissions_t"] = base
    mac = _mac_table(rng_mac, ent)
    offsets = _offsets(rng_off, scale)
    national = _national_path(scale)

    ent = ent[
        [
            "entity_id",
            "market",
            "name",
            "sector",
            "prefecture",
            "administrator",
            "category",
            "top_level",
            "base_emissions_t",
            "electricity_share",
        ]
    ]
    files = {
        "entities.csv": _csv(ent),
        "bau.csv": _csv(bau),
        "mac.csv": _csv(mac),
        "offsets.csv": _csv(offsets),
        "history.csv": _csv(history),
    }
    files["dataset.toml"] = _toml(
        name="japan",
        description=_japan_description(scale),
        generator=f"nationcap generate --kind japan --seed {seed}"
        + (f" --scale {scale:g}" if scale != 1.0 else "")
        + " --out inputs/japan",
        seed=seed,
        national=national,
    )
    return dict(sorted(files.items()))


def _japan_description(scale: float) -> str:
    text = (
        "Synthetic two-tier Japanese cap-and-trade dataset grounded in public statistics: "
        "~500 national suppliers (direct CO2) and ~14,000 regional installations (scope 1+2), "
        "FY2026-2035 BAU, FY2019-2025 history, stepwise MAC curves and offset supply. "
        "Sites are synthetic, not real facilities; see README.md for sources and checks."
    )
    if scale != 1.0:
        text += f" Entity counts, offsets and national_co2_t scaled by {scale:g} for benchmarking."
    return text


def _national_path(scale: float) -> dict[int, float]:
    """National CO2 (t) by model year: FY2024 CRT value continued at the FY2013-24 rate."""
    return {y: round(CRT_CO2_2024_MT * 1e6 * (1 + NATIONAL_CO2_RATE) ** (y - 2024) * scale, 1) for y in MODEL_YEARS}


def _national_entities(rng: np.random.Generator, scale: float) -> pd.DataFrame:
    shk = np.array([SHK_FY2017_T[p] for p in PREFECTURES], dtype=float)
    frames = []
    for sec in NATIONAL_SECTORS:
        n = _scaled(sec.count, scale)
        sizes, prefs, subsector = _national_sector_sizes(rng, sec, n, shk)
        frames.append(
            pd.DataFrame(
                {
                    "market": "national",
                    "sector": subsector,
                    "prefecture": prefs,
                    "_label": sec.label,
                    "_centre": sizes * 1e6,
                    "_trend": sec.trend,
                    "_group": "power" if sec.key.startswith("power") else "industry",
                    "_mac": sec.mac,
                    "_order": sec.key,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    # ids: sector order, largest first within a sector
    df["_sec_rank"] = df["_order"].map({s.key: i for i, s in enumerate(NATIONAL_SECTORS)})
    df = df.sort_values(["_sec_rank", "_centre"], ascending=[True, False], kind="stable").reset_index(drop=True)
    df["entity_id"] = [f"N{i + 1:04d}" for i in range(len(df))]
    k = df.groupby(["_label", "prefecture"], sort=False).cumcount() + 1
    df["name"] = df["_label"] + " " + df["prefecture"] + " " + k.astype(str)
    df["administrator"] = NATIONAL_ADMINISTRATOR
    df["category"] = "general"
    df["top_level"] = "none"
    df["electricity_share"] = 0.0
    return df.drop(columns=["_label", "_order", "_sec_rank"])


def _national_sector_sizes(rng, sec: _NationalSector, n: int, shk: np.ndarray):
    """Sizes (Mt at FY2024 level), prefectures and sector labels of one national sector.

    Size profiles are evaluated at n rank positions and scaled so that the sector total is
    ``budget_mt x n / count`` (before mean-one noise): totals stay proportional to ``scale``.
    """
    budget = sec.budget_mt * n / sec.count
    subsector = np.full(n, sec.key, dtype=object)
    if sec.key.startswith("power"):
        points = {"power_coal": _COAL_MW, "power_lng": _LNG_MW, "power_oil": _OIL_MW}[sec.key]
        # bigger units run at higher capacity factors: emissions ~ capacity^(1 + b)
        b = {"power_coal": 0.55, "power_lng": 0.10, "power_oil": 0.0}[sec.key]
        prof = _quantile_profile(points, n) ** (1 + b)
        sizes = prof * (budget / prof.sum()) * _noise(rng, n, 0.10)
        if sec.key == "power_coal":
            keys, w = list(_COAL_PREFS), np.array(list(_COAL_PREFS.values()), dtype=float)
        else:
            keys = list(_COASTAL)
            w = np.array([SHK_FY2017_T[p] + 0.5 * POPULATION_2020[p] for p in keys])
        prefs = _choice(rng, keys, w, n)
    elif sec.key == "steel":
        vals = np.array([v for v, _ in _STEEL_WORKS])
        pos = np.minimum((np.arange(n) + 0.5) / n * len(vals), len(vals) - 1e-9).astype(int)
        # rank position -> reference works (largest first)
        sizes = vals[pos] * (budget / vals[pos].sum()) * _noise(rng, n, 0.05)
        prefs = np.array([_STEEL_WORKS[i][1] for i in pos], dtype=object)
    elif sec.key in ("cement", "refinery"):
        plist: tuple[str, ...]
        if sec.key == "cement":
            prof = _lognormal_profile(n, 0.85, 0.6, hi=4.5)
            plist = _CEMENT_PREFS
        else:  # capacities spread evenly over 70-255 kb/d [eia-japan]; emissions ~ capacity
            prof = np.linspace(70, 255, n) if n > 1 else np.array([160.0])
            plist = _REFINERY_PREFS
        sizes = prof * (budget / prof.sum()) * _noise(rng, n, 0.10)
        prefs = np.asarray(plist, dtype=object)[rng.permutation(np.arange(n) % len(plist))]
    elif sec.key == "chemicals":
        prof = _lognormal_profile(n, 0.40, 0.75, hi=3.5)
        sizes = prof * (budget / prof.sum()) * _noise(rng, n, 0.10)
        coastal = list(_COASTAL)
        prefs = _choice(rng, coastal, [SHK_FY2017_T[p] for p in coastal], n)
    else:  # other large sites: Pareto-like tail above the 100 kt GX-ETS-type threshold
        q = (np.arange(n) + 0.5) / n
        prof = np.minimum(0.1 * (1 - q) ** (-1 / 2.8), 1.2)
        sizes = prof * (budget / prof.sum()) * _noise(rng, n, 0.10)
        prefs = _choice(rng, PREFECTURES, shk + 1.0 * np.array([POPULATION_2020[p] for p in PREFECTURES]), n)
        subsector = _choice(rng, [a for a, _ in _OTHER_SUBSECTORS], [b for _, b in _OTHER_SUBSECTORS], n)
    # no national site below the GX-ETS-type threshold of 100 kt direct CO2 (README section 2), with a margin
    # so that the noisy FY2023-25 mean stays above it
    sizes = np.maximum(sizes, NATIONAL_MIN_MT)
    return sizes, prefs, subsector


def _regional_entities(rng: np.random.Generator, scale: float) -> pd.DataFrame:
    total = _scaled(REGIONAL_COUNT, scale)
    n_fac_all = int(round(total * REGIONAL_FACTORY_SHARE))
    n_bld_all = total - n_fac_all
    prefs = list(PREFECTURES)
    bld = np.zeros(len(prefs), dtype=np.int64)
    fac = np.zeros(len(prefs), dtype=np.int64)
    free = [i for i, p in enumerate(prefs) if p not in PINNED]
    for p, (count, office) in PINNED.items():
        i = prefs.index(p)
        c = _scaled(count, scale)
        bld[i] = int(round(c * office))
        fac[i] = c - bld[i]
    pop = np.array([POPULATION_2020[prefs[i]] for i in free], dtype=float)
    shk = np.array([SHK_FY2017_T[prefs[i]] for i in free], dtype=float)
    bld[free] = _apportion(max(n_bld_all - bld.sum(), 0), pop)
    fkey = FACTORY_SHK_WEIGHT * shk / shk.sum() + (1 - FACTORY_SHK_WEIGHT) * pop / pop.sum()
    fac[free] = _apportion(max(n_fac_all - fac.sum(), 0), fkey)

    pref_idx = np.concatenate([np.concatenate([np.full(bld[i], i), np.full(fac[i], i)]) for i in range(len(prefs))])
    kind = np.concatenate([np.concatenate([np.zeros(bld[i], bool), np.ones(fac[i], bool)]) for i in range(len(prefs))])
    n = pref_idx.size
    pref = np.asarray(prefs, dtype=object)[pref_idx]
    is_fac = kind
    is_tokyo = pref == "Tokyo"

    # sizes
    size = np.empty(n)
    nb, nf = int((~is_fac).sum()), int(is_fac.sum())
    size[~is_fac] = _trunc_lognormal(rng, nb, SIZE_MEDIAN_T["building"], SIZE_SIGMA, SIZE_LO_T, SIZE_HI_T)
    size[is_fac] = _trunc_lognormal(rng, nf, SIZE_MEDIAN_T["factory"], SIZE_SIGMA, SIZE_LO_T, SIZE_HI_T)

    # sectors
    sector = np.empty(n, dtype=object)
    tb = ~is_fac & is_tokyo
    ob = ~is_fac & ~is_tokyo
    for mask, table in ((tb, _BUILDING_SECTORS["Tokyo"]), (ob, _BUILDING_SECTORS["other"]), (is_fac, _FACTORY_SECTORS)):
        sector[mask] = _choice(rng, [a for a, _ in table], [b for _, b in table], int(mask.sum()))

    # administrator: prefecture, or a designated city for a share of the installations
    admin = pref.copy()
    u = rng.random(n)
    for p in prefs:
        cities = [c for c, cp in DESIGNATED_CITIES.items() if cp == p]
        if not cities:
            continue
        in_p = pref == p
        for is_f, mult in ((False, CITY_SHARE_MULTIPLIER["building"]), (True, CITY_SHARE_MULTIPLIER["factory"])):
            mask = in_p & (is_fac == is_f)
            shares = np.array([mult * CITY_POPULATION_2020[c] / POPULATION_2020[p] for c in cities])
            shares *= min(1.0, 0.9 / shares.sum())
            edges = np.cumsum(shares)
            which = np.searchsorted(edges, u[mask], side="right")
            cand = np.asarray(cities + [p], dtype=object)
            admin[mask] = cand[which]

    # electricity share, DHC, top level
    lo = np.where(is_fac, ELEC_SHARE["factory"][0], ELEC_SHARE["building"][0])
    hi = np.where(is_fac, ELEC_SHARE["factory"][1], ELEC_SHARE["building"][1])
    elec = np.round(lo + (hi - lo) * rng.random(n), 4)
    dhc_p = np.where(is_tokyo, DHC_SHARE["Tokyo"], DHC_SHARE["other"])
    category = np.where(~is_fac & (rng.random(n) < dhc_p), "dhc", "general").astype(object)
    v = rng.random(n)
    level = np.where(v < TOP_SHARE, "top", np.where(v < TOP_SHARE + NEAR_TOP_SHARE, "near_top", "none"))
    top = np.where(is_fac, "none", level).astype(object)

    df = pd.DataFrame(
        {
            "market": "regional",
            "sector": sector,
            "prefecture": pref,
            "administrator": admin,
            "category": category,
            "top_level": top,
            "electricity_share": elec,
            "_centre": size,
            "_trend": np.where(is_fac, REGIONAL_TREND["factory"], REGIONAL_TREND["building"]),
            "_group": np.where(is_fac, "factory", "building"),
            "_mac": np.where(is_fac, "factory", "building"),
        }
    )
    df["entity_id"] = [f"R{i + 1:05d}" for i in range(n)]
    label = df["sector"].str.replace("factory_", "factory ", regex=False)
    k = df.groupby(["administrator", "sector"], sort=False).cumcount() + 1
    df["name"] = df["administrator"] + " " + label + " " + k.map(lambda x: f"{x:03d}")
    return df


def _time_series(rng: np.random.Generator, ent: pd.DataFrame):
    """History (FY2019-2025), BAU (FY2026-2035) and base_emissions_t for every entity."""
    n = len(ent)
    centre = ent["_centre"].to_numpy(dtype=float)
    trend = ent["_trend"].to_numpy(dtype=float) + TREND_SD * rng.standard_normal(n)
    group = ent["_group"].to_numpy()

    hy = np.array(HISTORY_YEARS)
    covid = np.ones((n, hy.size))
    for g, (d20, d21) in COVID.items():
        m = group == g
        covid[m, list(HISTORY_YEARS).index(2020)] += d20
        covid[m, list(HISTORY_YEARS).index(2021)] += d21
    hist = centre[:, None] * (1 + trend[:, None]) ** (hy[None, :] - _CENTRE_YEAR) * covid
    hist *= np.exp(HISTORY_NOISE_SD * rng.standard_normal(hist.shape))
    hist = np.round(hist).astype(np.int64)
    base_cols = [list(HISTORY_YEARS).index(y) for y in BASE_YEARS]
    base = np.round(hist[:, base_cols].sum(axis=1) / len(BASE_YEARS), 1)

    my = np.array(MODEL_YEARS)
    bau = base[:, None] * (1 + trend[:, None]) ** (my[None, :] - _CENTRE_YEAR)
    bau *= np.exp(BAU_NOISE_SD * rng.standard_normal(bau.shape))
    bau = np.round(bau).astype(np.int64)

    ids = ent["entity_id"].to_numpy()
    history = pd.DataFrame(
        {
            "entity_id": np.repeat(ids, hy.size),
            "fiscal_year": np.tile(hy, n),
            "emissions_t": hist.ravel(),
        }
    )
    bau_df = pd.DataFrame(
        {
            "entity_id": np.repeat(ids, my.size),
            "year": np.tile(my, n),
            "bau_emissions_t": bau.ravel(),
        }
    )
    return history, bau_df, base


def _mac_table(rng: np.random.Generator, ent: pd.DataFrame) -> pd.DataFrame:
    ids = ent["entity_id"].to_numpy()
    fam = ent["_mac"].to_numpy()
    frames = []
    for name, tranches in MAC_FAMILIES.items():
        sel = np.flatnonzero(fam == name)
        if sel.size == 0:
            continue
        m, k = sel.size, len(tranches)
        shares = np.empty((m, k))
        costs = np.empty((m, k))
        keep = np.ones((m, k), dtype=bool)
        for j, tr in enumerate(tranches):
            shares[:, j] = tr.share[0] + (tr.share[1] - tr.share[0]) * rng.random(m)
            if tr.step_up is not None:
                costs[:, j] = costs[:, j - 1] + tr.step_up[0] + (tr.step_up[1] - tr.step_up[0]) * rng.random(m)
            elif tr.normal is not None:
                c = tr.normal[0] + tr.normal[1] * rng.standard_normal(m)
                costs[:, j] = np.clip(c, tr.cost[0], tr.cost[1])
            else:
                costs[:, j] = tr.cost[0] + (tr.cost[1] - tr.cost[0]) * rng.random(m)
            if tr.keep < 1.0:
                keep[:, j] = rng.random(m) < tr.keep
        shares = np.round(shares, 4)
        costs = np.round(costs)
        costs[costs == 0] = 1.0
        for j in range(1, k):  # strictly increasing, a gap of at least 50 JPY/t
            costs[:, j] = np.maximum(costs[:, j], costs[:, j - 1] + 50)
        rows, cols = np.nonzero(keep)  # row-major: entity, then tranche
        step = keep.cumsum(axis=1)[rows, cols]
        frames.append(
            pd.DataFrame(
                {
                    "entity_id": ids[sel][rows],
                    "step": step.astype(np.int64),
                    "abatement_share": shares[rows, cols],
                    "cost_jpy_per_t": costs[rows, cols].astype(np.int64),
                }
            )
        )
    mac = pd.concat(frames, ignore_index=True)
    return mac.sort_values(["entity_id", "step"], kind="stable").reset_index(drop=True)


def _offsets(rng: np.random.Generator, scale: float) -> pd.DataFrame:
    rows = []
    for (otype, market), steps in OFFSET_STEPS.items():
        for y in MODEL_YEARS:
            t = y - MODEL_YEARS[0]
            for q0, p0 in steps:
                q = q0 * (1 + OFFSET_QUANTITY_GROWTH) ** t * scale * math.exp(OFFSET_NOISE_SD * rng.standard_normal())
                p = p0 * (1 + OFFSET_PRICE_GROWTH) ** t * math.exp(0.5 * OFFSET_NOISE_SD * rng.standard_normal())
                rows.append((otype, market, y, round(q, 1), int(round(p))))
    df = pd.DataFrame(rows, columns=["offset_type", "market", "year", "quantity_t", "cost_jpy_per_t"])
    mrank = df["market"].map({"national": 0, "regional": 1})
    trank = df["offset_type"].map({"small_mid": 0, "renewable": 1, "outside": 2})
    df = df.assign(_m=mrank, _t=trank).sort_values(["_m", "year", "_t", "cost_jpy_per_t"], kind="stable")
    # steps of one type and year are increasing in price (noise cannot reorder them, but be safe)
    return df.drop(columns=["_m", "_t"]).reset_index(drop=True)


# ============================================================================================
# dataset.toml
# ============================================================================================

_UNITS = (
    ("base_emissions_t", "t CO2 per year (mean of FY2023-2025 history)"),
    ("electricity_share", "fraction of the entity's emissions from purchased electricity (0..1)"),
    ("year", "fiscal year (April-March)"),
    ("bau_emissions_t", "t CO2 per year"),
    ("step", "rank of the abatement step within the entity's curve (1 = cheapest)"),
    ("abatement_share", "fraction of the year's BAU emissions (0..1)"),
    ("cost_jpy_per_t", "JPY per t CO2"),
    ("quantity_t", "t CO2 of credits on offer in the year"),
    ("fiscal_year", "fiscal year (April-March)"),
    ("emissions_t", "t CO2 per year"),
    ("national_co2_t", "t CO2 per year (national total, excl. LULUCF)"),
)

_JAPAN_SOURCES = (
    (
        "crt2026",
        "Japan UNFCCC inventory (CRT), tidy extraction, submission 2026 (japan_facts §1.1)",
        "https://github.com/lambwf/Tidy-GHG-Inventories",
    ),
    (
        "gppd",
        "WRI Global Power Plant Database v1.3, Japan plant list (japan_facts §2.1)",
        "https://github.com/wri/global-power-plant-database",
    ),
    ("kiko-top", "Kiko Network, top emitting sites FY2017 (japan_facts §2.5)", "https://kikonet.org/kiko-blog/4492"),
    (
        "kiko-conc",
        "Kiko Network, concentration of emissions FY2016-17 (japan_facts §2.5)",
        "https://kikonet.org/content/19933",
    ),
    (
        "jca",
        "Japan Cement Association, plant count and capacity (japan_facts §2.3)",
        "http://www.jcassoc.or.jp/cement/2eng/ea.html",
    ),
    (
        "eia-japan",
        "US EIA Japan country analysis, refineries (japan_facts §2.4)",
        "https://www.eia.gov/international/content/analysis/countries_long/Japan/",
    ),
    (
        "shk-2021",
        "SHK reporting results FY2021: 14,915 specified establishments (japan_facts §2.6)",
        "https://www.kankyo-business.jp/news/b200ca6d-28d1-4003-bb13-6564d60c639e",
    ),
    (
        "shk-pref",
        "SHK specified-establishment emissions by prefecture FY2017 (japan_facts §3.1)",
        "https://energy-shift.com/news/b6560466-0cea-4e95-9be7-10bbdd99460c?page=2",
    ),
    (
        "census2020",
        "Statistics Bureau of Japan, 2020 Population Census (japan_facts §3.2)",
        "https://www.e-stat.go.jp/",
    ),
    (
        "tmg-ct",
        "Tokyo Metropolitan Government cap-and-trade results (japan_facts §4)",
        "https://www.metro.tokyo.lg.jp/english/topics/2016/161116.html",
    ),
    (
        "saitama-ets",
        "ICAP factsheet, Saitama target-setting ETS (japan_facts §3.4)",
        "https://docslib.org/doc/6900344/japan-saitama-target-setting-emissions-trading-system",
    ),
    (
        "gx-ets",
        "METI GX-ETS price band and coal-to-LNG switching cost, summary (japan_facts §5.1-5.2)",
        "https://shulman-advisory.com/?p=5614",
    ),
    (
        "jpx-jcredit",
        "JPX carbon credit market, J-Credit prices 11 Oct 2023 (japan_facts §5.1)",
        "https://www.marketscreener.com/quote/stock/JAPAN-EXCHANGE-GROUP-INC-12249999/news/Japan-Exchange-Oct-11-2023JPXTSEInformation-Trading-Volume-of-Carbon-Credit-Market-on-the-Market-45036625/",
    ),
    (
        "arimura-abe",
        "Arimura & Abe (2019), Tokyo ETS implied permit price (japan_facts §4, §5.1)",
        "https://docslib.org/doc/6990148/",
    ),
    (
        "eccj-offsets",
        "ECCJ policy news: GX-ETS offset limit of 10% (japan_facts §5.2)",
        "https://www.asiaeec-col.eccj.or.jp/policynews-202508-2",
    ),
    (
        "coe-conv",
        "Energy Conservation Act conversion factors, 1,500 kL COE threshold (japan_facts §6)",
        "https://www.komonevalley.com/demand/3379",
    ),
)

_TINY_SOURCES = (
    (
        "illustrative",
        "Hand-set round numbers for tests and tutorials; orders of magnitude follow the japan dataset",
        "inputs/japan/README.md",
    ),
)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml(
    name: str, description: str, generator: str, seed: int, national: dict[int, float], sources=_JAPAN_SOURCES
) -> str:
    lines = [
        f"name = {_toml_str(name)}",
        f"description = {_toml_str(description)}",
        f"generator = {_toml_str(generator)}",
        f"seed = {int(seed)}",
        "",
        "[units]",
    ]
    lines += [f"{k} = {_toml_str(v)}" for k, v in _UNITS]
    for sid, citation, url in sources:
        lines += [
            "",
            "[[sources]]",
            f"id = {_toml_str(sid)}",
            f"citation = {_toml_str(citation)}",
            f"url = {_toml_str(url)}",
        ]
    lines += ["", "[national_co2_t]"]
    lines += [f"{y} = {_fmt_t(v)}" for y, v in sorted(national.items())]
    return "\n".join(lines) + "\n"


# ============================================================================================
# The tiny dataset (hand-set round numbers)
# ============================================================================================

#: (id, market, name, sector, prefecture, administrator, category, top_level, FY2024 level t,
#:  annual change t, electricity_share, MAC steps [(share, cost)])
_TINY_ENTITIES = (
    (
        "N0001",
        "national",
        "Coal power station (tiny)",
        "power_coal",
        "Aichi",
        "national",
        "general",
        "none",
        2_000_000,
        -40_000,
        0.0,
        ((0.03, 1_500), (0.30, 4_400), (0.20, 20_000)),
    ),
    (
        "N0002",
        "national",
        "Integrated steel works (tiny)",
        "steel",
        "Chiba",
        "national",
        "general",
        "none",
        1_500_000,
        -15_000,
        0.0,
        ((0.04, 2_500), (0.08, 9_000), (0.20, 30_000)),
    ),
    (
        "N0003",
        "national",
        "Cement plant (tiny)",
        "cement",
        "Yamaguchi",
        "national",
        "general",
        "none",
        500_000,
        -5_000,
        0.0,
        ((0.04, 1_500), (0.08, 6_000), (0.30, 20_000)),
    ),
    (
        "R00001",
        "regional",
        "Tokyo office (tiny)",
        "office",
        "Tokyo",
        "Tokyo",
        "general",
        "top",
        20_000,
        -200,
        0.8,
        ((0.05, -2_000), (0.10, 3_000), (0.10, 10_000)),
    ),
    (
        "R00002",
        "regional",
        "Tokyo commercial, DHC-supplied (tiny)",
        "commercial",
        "Tokyo",
        "Tokyo",
        "dhc",
        "none",
        15_000,
        -150,
        0.7,
        ((0.10, -1_000), (0.10, 4_000), (0.10, 12_000)),
    ),
    (
        "R00003",
        "regional",
        "Saitama factory (tiny)",
        "factory_chemicals",
        "Saitama",
        "Saitama",
        "general",
        "none",
        30_000,
        -300,
        0.5,
        ((0.06, 1_000), (0.10, 4_000), (0.10, 12_000)),
    ),
    (
        "R00004",
        "regional",
        "Osaka City office (tiny)",
        "office",
        "Osaka",
        "Osaka City",
        "general",
        "none",
        10_000,
        -100,
        0.75,
        ((0.05, -2_000), (0.10, 3_000), (0.10, 10_000)),
    ),
    (
        "R00005",
        "regional",
        "Osaka factory (tiny)",
        "factory_metals",
        "Osaka",
        "Osaka",
        "general",
        "none",
        25_000,
        -250,
        0.4,
        ((0.06, 1_000), (0.10, 4_000), (0.10, 12_000)),
    ),
)

_TINY_OFFSETS = (
    # (type, market, quantity t/yr, price JPY/t)
    ("small_mid", "regional", 500, 2_000),
    ("renewable", "regional", 500, 3_500),
    ("outside", "regional", 1_000, 2_500),
    ("outside", "national", 20_000, 1_800),
    ("outside", "national", 20_000, 3_200),
)


def _tiny(seed: int) -> dict[str, str]:
    ent_rows, bau_rows, hist_rows, mac_rows = [], [], [], []
    for eid, market, name, sector, pref, admin, cat, top, level, slope, elec, steps in _TINY_ENTITIES:
        ent_rows.append((eid, market, name, sector, pref, admin, cat, top, float(level), elec))
        for y in HISTORY_YEARS:
            hist_rows.append((eid, y, level + slope * (y - _CENTRE_YEAR)))
        for y in MODEL_YEARS:
            bau_rows.append((eid, y, level + slope * (y - _CENTRE_YEAR)))
        for k, (share, cost) in enumerate(steps, start=1):
            mac_rows.append((eid, k, share, cost))
    ent = pd.DataFrame(
        ent_rows,
        columns=[
            "entity_id",
            "market",
            "name",
            "sector",
            "prefecture",
            "administrator",
            "category",
            "top_level",
            "base_emissions_t",
            "electricity_share",
        ],
    )
    bau = pd.DataFrame(bau_rows, columns=["entity_id", "year", "bau_emissions_t"])
    hist = pd.DataFrame(hist_rows, columns=["entity_id", "fiscal_year", "emissions_t"])
    mac = pd.DataFrame(mac_rows, columns=["entity_id", "step", "abatement_share", "cost_jpy_per_t"])
    off = pd.DataFrame(
        [(t, m, y, float(q), p) for (t, m, q, p) in _TINY_OFFSETS for y in MODEL_YEARS],
        columns=["offset_type", "market", "year", "quantity_t", "cost_jpy_per_t"],
    )
    off = off.assign(
        _m=off["market"].map({"national": 0, "regional": 1}),
        _t=off["offset_type"].map({"small_mid": 0, "renewable": 1, "outside": 2}),
    )
    off = off.sort_values(["_m", "year", "_t", "cost_jpy_per_t"], kind="stable").drop(columns=["_m", "_t"])
    national = {y: 910_000_000.0 - 20_000_000.0 * (y - 2026) for y in MODEL_YEARS}
    files = {
        "entities.csv": _csv(ent),
        "bau.csv": _csv(bau),
        "mac.csv": _csv(mac),
        "offsets.csv": _csv(off),
        "history.csv": _csv(hist),
        "dataset.toml": _toml(
            name="tiny",
            description=(
                "Eight hand-set entities with round numbers (3 national, 5 regional) for tests "
                "and tutorials; straight-line trends, base = FY2024 level = mean of FY2023-2025. "
                "The seed is recorded but does not change this dataset."
            ),
            generator=f"nationcap generate --kind tiny --seed {seed} --out inputs/tiny",
            seed=seed,
            national=national,
            sources=_TINY_SOURCES,
        ),
    }
    return dict(sorted(files.items()))
