"""Deterministic synthetic input datasets (``inputs/japan`` and ``inputs/tiny``).

:func:`generate` returns the text of every file of a dataset folder; :func:`write_dataset` puts
them on disk atomically. The same ``(kind, seed, scale)`` always gives byte-identical texts:
every random draw comes from ``numpy.random.default_rng(seed)`` (split into independent child
streams, one per table family), counts are apportioned deterministically, and numbers are rounded
before they are written (tonnes to whole tonnes or 0.1 t, shares to 4 decimals, costs to whole
JPY/t).

The ``japan`` dataset is grounded in public statistics: ``inputs/japan/README.md`` gives every
number with its source. Its reference tables (prefecture emissions and populations, plant-size
quantiles, site locations, cost tranches, offset steps) and the list of sources (written into the
dataset's ``dataset.toml``) are data, in ``japan_facts.toml`` beside this module (read by
:mod:`.facts`); the sector counts, budgets and trends are constants here. Comments name a source by
its id in that list (``[shk-pref]``) or a section of the README; ``[E]`` marks an estimate or
modelling choice, ``[D]`` a derived number and ``[U]`` a recalled, unverified value, as in the
README. MAC curves and offsets are made by :mod:`.supply`, activity and benchmarks by
:mod:`.activity`, the tiny dataset by :mod:`.tiny`.

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
from ..inputs.contract import TABLES
from ..inputs.geo import DESIGNATED_CITIES, NATIONAL_ADMINISTRATOR, PREFECTURES
from .activity import activity_tables
from .facts import FACTS as _FACTS
from .files import _CENTRE_YEAR, HISTORY_YEARS, MODEL_YEARS, _csv, _toml
from .supply import mac_table, offsets_table
from .tiny import tiny

__all__ = ["generate", "write_dataset", "SHIPPED_SEED", "KINDS", "MODEL_YEARS", "HISTORY_YEARS", "BASE_YEARS"]

#: seed of the shipped ``inputs/japan`` folder
SHIPPED_SEED = 2026

KINDS = ("japan", "tiny")
#: base_emissions_t is the mean of the history over these fiscal years
BASE_YEARS = (2023, 2024, 2025)

# --------------------------------------------------------------------------------------------
# Reference data (japan_facts.toml; sources in inputs/japan/README.md and its [[sources]])
# --------------------------------------------------------------------------------------------

#: the facts of the dataset, each with its source: nationcap/tools/japan_facts.toml
#: SHK specified-establishment emissions by prefecture, FY2017, t CO2e (indirect basis) [shk-pref]
SHK_FY2017_T: dict[str, float] = _FACTS["shk_fy2017_t"]
#: population by prefecture, 2020 Census [census2020]
POPULATION_2020: dict[str, int] = _FACTS["population_2020"]
#: 2020 Census populations of the designated cities, rounded to thousands [U]
CITY_POPULATION_2020: dict[str, int] = _FACTS["city_population_2020"]
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

#: plant-size quantiles (quantile, MW) of thermal power [gppd] [E]
_COAL_MW, _LNG_MW, _OIL_MW = (
    tuple(tuple(x) for x in _FACTS["power_mw_quantiles"][k]) for k in ("power_coal", "power_lng", "power_oil")
)
#: integrated steel works (FY2024-level Mt, prefecture), largest first [kiko-top] [E]
_STEEL_WORKS = tuple(tuple(x) for x in _FACTS["sites"]["steel_works"])
#: plausible prefectures of clustered site types [U] [jca]
_CEMENT_PREFS = tuple(_FACTS["sites"]["cement_prefectures"])
_REFINERY_PREFS = tuple(_FACTS["sites"]["refinery_prefectures"])
_COAL_PREFS: dict[str, int] = _FACTS["sites"]["coal_prefectures"]
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


#: Power sector total, Mt: the electricity companies' FY2023 emissions (311 Mt) over their share
#: of national sales (91.4 %) [elcs-2023] [D]; at the FY2024 level of the other budgets
POWER_TOTAL_MT = 311.0 / 0.914
#: FY2023 generation by fuel, TWh: 987.7 TWh x (coal 28.3 %, gas 32.9 %, oil and other 7.4 %)
#: [mix-2023]; times the fuel's t CO2/MWh (IPCC 2006 default factor / efficiency,
#: nationcap/tools/activity.py) gives the fuel split of POWER_TOTAL_MT [D]
POWER_GENERATION_TWH = {"power_coal": 987.7 * 0.283, "power_lng": 987.7 * 0.329, "power_oil": 987.7 * 0.074}


def _power_budget(key: str) -> float:
    from .activity import SECTOR_INTENSITY

    mt = {k: twh * SECTOR_INTENSITY[k][2] for k, twh in POWER_GENERATION_TWH.items()}
    return round(POWER_TOTAL_MT * mt[key] / sum(mt.values()), 1)


#: Counts ([gppd], [jca], [eia-japan] and estimates [E]; README section 2), FY2024-level budgets
#: (Mt): power from the inventory-consistent total above, split by fuel [D]; industry [E];
#: trends [E] (power about -2%/yr overall, emissions-weighted; industry -1%/yr). The national
#: tier's share of national CO2 is an output of these budgets (README section 7).
NATIONAL_SECTORS: tuple[_NationalSector, ...] = (
    _NationalSector("power_coal", "Coal power station", 85, _power_budget("power_coal"), -0.022, "coal"),
    _NationalSector("power_lng", "LNG power station", 65, _power_budget("power_lng"), -0.015, "lng"),
    _NationalSector("power_oil", "Oil power station", 35, _power_budget("power_oil"), -0.030, "oil"),
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
    files = tiny(seed) if kind == "tiny" else _japan(int(seed), scale)
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


# ============================================================================================
# The japan dataset
# ============================================================================================


def _japan(seed: int, scale: float) -> dict[str, str]:
    root = np.random.default_rng(seed)
    rng_nat, rng_reg, rng_time, rng_mac, rng_off = root.spawn(5)
    (rng_act,) = root.spawn(1)  # a sixth stream: the first five are as before
    nat = _national_entities(rng_nat, scale)
    reg = _regional_entities(rng_reg, scale)
    ent = pd.concat([nat, reg], ignore_index=True)
    history, bau, base = _time_series(rng_time, ent)
    ent["base_emissions_t"] = base
    mac = mac_table(rng_mac, ent)
    offsets = offsets_table(rng_off, scale, MODEL_YEARS)
    national = _national_path(scale)
    ent["benchmark"], activity, benchmarks, units = activity_tables(rng_act, ent, history, bau)

    contract = TABLES["entities"]
    ent = ent[[c.name for c in (*contract.columns, *contract.optional_columns)]]
    files = {
        "entities.csv": _csv(ent),
        "bau.csv": _csv(bau),
        "mac.csv": _csv(mac),
        "offsets.csv": _csv(offsets),
        "history.csv": _csv(history),
        "activity.csv": _csv(activity),
        "benchmarks.csv": _csv(benchmarks),
    }
    files["dataset.toml"] = _toml(
        name="japan",
        description=_japan_description(scale),
        generator=f"nationcap generate --kind japan --seed {seed}"
        + (f" --scale {scale:g}" if scale != 1.0 else "")
        + " --out inputs/japan",
        seed=seed,
        national=national,
        sources=_JAPAN_SOURCES,
        activity_units=units,
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


_JAPAN_SOURCES = tuple((x["id"], x["citation"], x["url"]) for x in _FACTS["sources"])
