"""The tiny dataset ``inputs/tiny``: eight hand-set entities with round numbers, for tests and
tutorials (``nationcap generate --kind tiny``)."""

from __future__ import annotations

import pandas as pd

from ..inputs.contract import TABLES
from .files import _CENTRE_YEAR, HISTORY_YEARS, MODEL_YEARS, _csv, _toml

_TINY_SOURCES = (
    (
        "illustrative",
        "Hand-set round numbers for tests and tutorials; orders of magnitude follow the japan dataset",
        "inputs/japan/README.md",
    ),
)


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


def tiny(seed: int) -> dict[str, str]:
    """The files of ``inputs/tiny`` (``seed`` is recorded, it changes nothing)."""
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
        columns=[c.name for c in TABLES["entities"].columns],
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
