"""Write tiny, hand-built cases (dataset folder + scenario TOML) into a temporary folder.

Tests describe entities, BAU, MAC steps and market rules in a few lines; this module fills in
the rest of the input contract so every case goes through the same loader as user data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

#: the repository root (shipped scenarios in models/, datasets in inputs/)
REPO = Path(__file__).resolve().parents[1]

ENTITY_DEFAULTS = {
    "name": "test entity",
    "sector": "office",
    "prefecture": "Tokyo",
    "administrator": "Tokyo",
    "category": "general",
    "top_level": "none",
    "electricity_share": 0.0,
}


def ent(eid: str, market: str = "m", base: float = 100.0, **kw) -> dict:
    """An entity row for :func:`write_case`: id, market and base emissions, plus any column."""
    return dict(entity_id=eid, market=market, base_emissions_t=base, **kw)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


def scenario_toml(
    name: str,
    periods: list[tuple[str, int, int]],
    markets: dict[str, dict],
    discount_rate: float = 0.0,
    inputs: str = "data",
) -> str:
    lines = [f'name = "{name}"', f'inputs = "{inputs}"', f"discount_rate = {discount_rate!r}", ""]
    for pname, first, last in periods:
        lines += ["[[periods]]", f'name = "{pname}"', f"first_year = {first}", f"last_year = {last}", ""]
    for m, cfg in markets.items():
        lines.append(f"[markets.{m}]")
        for k, v in cfg.items():
            lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def write_case(
    root: Path,
    entities: list[dict],
    bau: dict[str, float | list[float]],
    mac: list[tuple],
    periods: list[tuple[str, int, int]],
    markets: dict[str, dict],
    discount_rate: float = 0.0,
    name: str = "case",
    national_co2_t: dict[int, float] | None = None,
    offsets: list[tuple] | None = None,
    activity: dict[str, dict[int, float]] | None = None,
    benchmarks: dict[str, dict[int, float]] | None = None,
) -> Path:
    """Write ``root/data/*`` and ``root/<name>.toml``; return the scenario path.

    ``entities``: dicts with at least entity_id, market, base_emissions_t (and ``benchmark``, a
    group, for some: the column is then written, empty for the others).
    ``bau``: entity_id -> constant t/yr or a list with one value per model year.
    ``mac``: (entity_id, step, abatement_share, cost_jpy_per_t) tuples.
    ``activity``: entity_id -> {fiscal year: activity}; ``benchmarks``: group -> {year: t per activity}.
    """
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    years = [y for _, a, b in periods for y in range(a, b + 1)]
    rows = [{**ENTITY_DEFAULTS, **e} for e in entities]
    cols = [
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
    if any("benchmark" in e for e in entities):
        cols.append("benchmark")
        rows = [{"benchmark": "", **r} for r in rows]
    pd.DataFrame(rows)[cols].to_csv(data / "entities.csv", index=False)
    if activity:
        arows = [{"entity_id": e, "year": y, "activity": v} for e, by in activity.items() for y, v in by.items()]
        pd.DataFrame(arows).to_csv(data / "activity.csv", index=False)
    if benchmarks:
        brow = [{"benchmark": g, "year": y, "t_per_activity": v} for g, by in benchmarks.items() for y, v in by.items()]
        pd.DataFrame(brow).to_csv(data / "benchmarks.csv", index=False)
    brows = []
    for eid, v in bau.items():
        vals = v if isinstance(v, list) else [v] * len(years)
        brows += [{"entity_id": eid, "year": y, "bau_emissions_t": x} for y, x in zip(years, vals)]
    pd.DataFrame(brows).to_csv(data / "bau.csv", index=False)
    pd.DataFrame(mac, columns=["entity_id", "step", "abatement_share", "cost_jpy_per_t"]).to_csv(
        data / "mac.csv", index=False
    )
    if offsets:
        pd.DataFrame(offsets, columns=["offset_type", "market", "year", "quantity_t", "cost_jpy_per_t"]).to_csv(
            data / "offsets.csv", index=False
        )
    meta = ['name = "test"', "[national_co2_t]"]
    for y, v in (national_co2_t or {}).items():
        meta.append(f"{y} = {v!r}")
    (data / "dataset.toml").write_text("\n".join(meta) + "\n")
    path = root / f"{name}.toml"
    path.write_text(scenario_toml(name, periods, markets, discount_rate))
    return path


#: two national suppliers (a power station in Chiba, a steelworks in Aichi) of the small cases
NATIONAL_SUPPLIERS = (
    ent("N1", market="national", base=1000.0, sector="power", prefecture="Chiba", administrator="national"),
    ent("N2", market="national", base=500.0, sector="steel", prefecture="Aichi", administrator="national"),
)


def batch_case(root: Path, extra: str = "", national_p2: float = 0.10) -> Path:
    """The small two-market case of the batch and export tests (5 entities, two 2-year periods);
    ``extra`` is appended to the scenario file (e.g. a [sweep] or [montecarlo] table)."""
    path = write_case(
        root,
        [
            *NATIONAL_SUPPLIERS,
            dict(
                entity_id="R1",
                market="regional",
                base_emissions_t=100.0,
                sector="office",
                prefecture="Tokyo",
                administrator="Tokyo",
            ),
            dict(
                entity_id="R2",
                market="regional",
                base_emissions_t=200.0,
                sector="factory",
                prefecture="Saitama",
                administrator="Saitama",
            ),
            dict(
                entity_id="R3",
                market="regional",
                base_emissions_t=50.0,
                sector="office",
                prefecture="Tokyo",
                administrator="Tokyo",
            ),
        ],
        {"N1": 1000.0, "N2": 500.0, "R1": 100.0, "R2": 200.0, "R3": 50.0},
        [
            (e, s, sh, c + 100 * i)
            for i, e in enumerate(("N1", "N2", "R1", "R2", "R3"))
            for s, sh, c in ((1, 0.1, 1000), (2, 0.2, 3000), (3, 0.3, 8000))
        ],
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": national_p2}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.10}}},
        },
        discount_rate=0.03,
    )
    if extra:
        path.write_text(path.read_text() + "\n" + extra)
    return path


def two_market_case(root: Path, national: dict | None = None, regional: dict | None = None, extra: str = "") -> Path:
    """One entity per market (national N1, regional R1: base and BAU 100 t, one step of 50 t @1,500),
    periods FY2026-28 and FY2029-30, factor 0.1, r = 3 %; ``national`` / ``regional`` add market
    keys and ``extra`` is appended to the scenario file (the price-band and reserve checks)."""
    f = {"general": 0.1}
    path = write_case(
        root,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0),
            dict(entity_id="R1", market="regional", base_emissions_t=100.0),
        ],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.5, 1500.0), ("R1", 1, 0.5, 1500.0)],
        [("P1", 2026, 2028), ("P2", 2029, 2030)],
        {
            "national": {"compliance_factor": {"P1": f, "P2": f}, **(national or {})},
            "regional": {"compliance_factor": {"P1": f, "P2": f}, **(regional or {})},
        },
        discount_rate=0.03,
    )
    path.write_text(path.read_text() + "\n" + extra)
    return path
