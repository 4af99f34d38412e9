"""The text of dataset files common to the generated datasets: the years they span, CSV
formatting and ``dataset.toml``."""

from __future__ import annotations

import pandas as pd

MODEL_YEARS = tuple(range(2026, 2036))
HISTORY_YEARS = tuple(range(2019, 2026))
#: year of the "centre" level around which trends are applied (the middle of the base years)
_CENTRE_YEAR = 2024


def _csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def _fmt_t(x: float) -> str:
    return f"{x:.1f}"


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


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml(
    name: str,
    description: str,
    generator: str,
    seed: int,
    national: dict[int, float],
    sources=(),
    activity_units: dict[str, str] | None = None,
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
    if activity_units:
        lines += ["", "[activity_units]"] + [f"{k} = {_toml_str(v)}" for k, v in activity_units.items()]
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
