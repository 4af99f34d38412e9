"""``nationcap template --out DIR``: an empty dataset folder to fill with one's own facility data.

The folder holds every file of the input contract (:data:`nationcap.inputs.contract.TABLES`,
documented in ``inputs/README.md``) with its header line and no rows (CSV has no comments, so
the example rows are in the folder's README.md), a ``dataset.toml`` with commented examples, a
scenario ``scenario.toml`` that points at the folder (``inputs = "."``) and a README.md saying
what each column means and where such data usually come from. Everything is made from the
contract in code, so the template follows it when the contract changes.
"""

from __future__ import annotations

from pathlib import Path

from ..inputs.contract import TABLES, Column, Table

#: one example row per table, as a user would type it (ids match across the tables)
EXAMPLES: dict[str, dict[str, str]] = {
    "entities": {
        "entity_id": "R001",
        "market": "regional",
        "name": "Head office, Shinjuku",
        "sector": "office",
        "prefecture": "東京都",
        "administrator": "Tokyo",
        "category": "general",
        "top_level": "none",
        "base_emissions_t": "12000",
        "electricity_share": "0.8",
    },
    "bau": {"entity_id": "R001", "year": "2026", "bau_emissions_t": "11800"},
    "mac": {"entity_id": "R001", "step": "1", "abatement_share": "0.05", "cost_jpy_per_t": "-2000", "year": ""},
    "offsets": {
        "offset_type": "small_mid",
        "market": "regional",
        "year": "2026",
        "quantity_t": "5000",
        "cost_jpy_per_t": "1500",
    },
    "history": {"entity_id": "R001", "fiscal_year": "2023", "emissions_t": "12300"},
    "activity": {"entity_id": "N001", "year": "2023", "activity": "5200000"},
    "benchmarks": {"benchmark": "power_gas", "year": "2026", "t_per_activity": "0.389"},
}

#: where the values of each table usually come from
WHERE_FROM = {
    "entities": "the facility list of the mandatory GHG accounting and reporting system (specified "
    "emitters, https://ghg-santeikohyo.env.go.jp/) and the energy-use periodic reports under the Act on "
    "the Rational Use of Energy (https://www.enecho.meti.go.jp/category/saving_and_new/saving/); a "
    "prefecture's or city's own reporting programme for its installations",
    "bau": "a projection of each facility's emissions without the cap: its reported emissions of recent "
    "years (the same reporting systems) carried forward with a sector trend",
    "mac": "engineering studies of abatement measures and their costs per tonne (energy audits, the "
    "measures listed in the energy-use reports), grouped into steps from cheapest to dearest",
    "offsets": "the supply of credits the programme recognises (e.g. J-Credits) by year, with their expected prices",
    "history": "the reported emissions of past fiscal years (the mandatory reporting system's data)",
    "activity": "each site's output per year (generation in MWh, t of product, floor area), for benchmark "
    "allocation: plant statistics or the energy-use periodic reports",
    "benchmarks": "the allocation per unit of activity the programme sets for each benchmark group and year "
    "(e.g. GX-ETS's power benchmarks by fuel)",
}

DATASET_TOML = """\
# dataset.toml: what this dataset is. Only [national_co2_t] is read by the model (for the share
# of national CO2 the markets cover); everything else is kept with the results as metadata.
name = "my_data"
description = "Facility data of ... (fill in: which facilities, which years, how BAU was projected)"

# [units]                              # optional: the unit of each column, for readers
# base_emissions_t = "t CO2 per year (mean of FY2023-2025)"

# [[sources]]                          # optional, repeatable: where the data come from
# id = "shk2024"
# citation = "Mandatory GHG accounting and reporting system, facility data FY2024"
# url = "https://ghg-santeikohyo.env.go.jp/"

# [national_co2_t]                     # optional: national CO2 per fiscal year, t
# 2026 = 910000000.0
"""

SCENARIO_TOML = """\
# A scenario for the data in this folder: two markets with the baseline rules. Change the
# periods to the years you have BAU for, and the factors to the programme you study
# (the README of nationcap lists every key).
name = "my_case"
description = "My facility data with the baseline rules"
inputs = "."                 # this folder (the path is relative to this file)
discount_rate = 0.03         # real, per year

[[periods]]
name = "P1"
first_year = 2026
last_year = 2030

[[periods]]
name = "P2"
first_year = 2031
last_year = 2035

# entities.csv rows with market = national comply here
[markets.national]
banking = true
borrowing = false
compliance_factor = { P1 = { general = 0.08 }, P2 = { general = 0.17 } }

# entities.csv rows with market = regional comply here
[markets.regional]
banking = true
borrowing = false
compliance_factor = { P1 = { general = 0.08 }, P2 = { general = 0.17 } }
# with district-heating-and-cooling entities (category = dhc in entities.csv), give them their own factor:
# compliance_factor = { P1 = { general = 0.08, dhc = 0.06 }, P2 = { general = 0.17, dhc = 0.15 } }
"""


def _columns(table: Table) -> tuple[Column, ...]:
    return table.columns + table.optional_columns


def _header(table: Table) -> str:
    return ",".join(c.name for c in table.columns) + "\n"


def readme() -> str:
    """The folder's README.md: the files, each column (type, unit, meaning), an example row and
    where such data usually come from, then the steps to a run."""
    lines = [
        "# My dataset (made by `nationcap template`)",
        "",
        "Fill in the CSV files (one header line is there; add one row per entity, year or step), edit",
        "`dataset.toml` and `scenario.toml`, then check and solve:",
        "",
        "```",
        "nationcap validate scenario.toml     # lists every problem at once; repeat until it prints OK",
        "nationcap run scenario.toml",
        "```",
        "",
        "Text is UTF-8, comma separated; numbers are plain decimals (no thousands separators, shares as",
        "fractions). Prefectures may be written in English (`Tokyo`) or in kanji (`東京都`). The full",
        "contract is nationcap's `inputs/README.md`.",
        "",
    ]
    for key, table in TABLES.items():
        need = "required" if table.required else "optional (delete the file if you do not use it)"
        lines += [f"## `{table.file}`: {table.description} ({need})", ""]
        lines += ["| column | type | unit | meaning |", "|---|---|---|---|"]
        for c in _columns(table):
            extra = " (optional column)" if c in table.optional_columns else ""
            lines.append(f"| `{c.name}` | {c.kind} | {c.unit} | {c.description}{extra} |")
        example = EXAMPLES[key]
        names = [c.name for c in table.columns]
        lines += ["", "Example row:", "", "```", ",".join(names), ",".join(example[n] for n in names), "```", ""]
        lines += [f"Where such data usually come from: {WHERE_FROM[key]}.", ""]
    return "\n".join(lines)


def write_template(folder: Path) -> list[str]:
    """Write the template's files into ``folder`` (an empty folder made by the caller); return
    their names."""
    folder = Path(folder)
    names = []
    for table in TABLES.values():
        (folder / table.file).write_text(_header(table), encoding="utf-8")
        names.append(table.file)
    (folder / "dataset.toml").write_text(DATASET_TOML, encoding="utf-8")
    (folder / "scenario.toml").write_text(SCENARIO_TOML, encoding="utf-8")
    (folder / "README.md").write_text(readme(), encoding="utf-8")
    return [*names, "dataset.toml", "scenario.toml", "README.md"]
