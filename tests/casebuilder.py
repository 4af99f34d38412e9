"""Write tiny, hand-built cases (dataset folder + scenario TOML) into a temporary folder.

Tests describe entities, BAU, MAC steps and market rules in a few lines; this module fills in
the rest of the input contract so every case goes through the same loader as user data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

ENTITY_DEFAULTS = {
    "name": "test entity",
    "sector": "office",
    "prefecture": "Tokyo",
    "administrator": "Tokyo",
    "category": "general",
    "top_level": "none",
    "electricity_share": 0.0,
}


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


def scenario_toml(name: str, periods: list[tuple[str, int, int]], markets: dict[str, dict],
                  discount_rate: float = 0.0, inputs: str = "data") -> str:
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
) -> Path:
    """Write ``root/data/*`` and ``root/<name>.toml``; return the scenario path.

    ``entities``: dicts with at least entity_id, market, base_emissions_t.
    ``bau``: entity_id -> constant t/yr or a list with one value per model year.
    ``mac``: (entity_id, step, abatement_share, cost_jpy_per_t) tuples.
    """
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    years = [y for _, a, b in periods for y in range(a, b + 1)]
    rows = [{**ENTITY_DEFAULTS, **e} for e in entities]
    cols = ["entity_id", "market", "name", "sector", "prefecture", "administrator", "category",
            "top_level", "base_emissions_t", "electricity_share"]
    pd.DataFrame(rows)[cols].to_csv(data / "entities.csv", index=False)
    brows = []
    for eid, v in bau.items():
        vals = v if isinstance(v, list) else [v] * len(years)
        brows += [{"entity_id": eid, "year": y, "bau_emissions_t": x} for y, x in zip(years, vals)]
    pd.DataFrame(brows).to_csv(data / "bau.csv", index=False)
    pd.DataFrame(mac, columns=["entity_id", "step", "abatement_share", "cost_jpy_per_t"]).to_csv(data / "mac.csv", index=False)
    if offsets:
        pd.DataFrame(offsets, columns=["offset_type", "market", "year", "quantity_t", "cost_jpy_per_t"]).to_csv(
            data / "offsets.csv", index=False)
    meta = ['name = "test"', "[national_co2_t]"]
    for y, v in (national_co2_t or {}).items():
        meta.append(f"{y} = {v!r}")
    (data / "dataset.toml").write_text("\n".join(meta) + "\n")
    path = root / f"{name}.toml"
    path.write_text(scenario_toml(name, periods, markets, discount_rate))
    return path
