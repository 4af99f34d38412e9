"""The input contract as data: every file of a dataset folder, its columns, units and bounds.

Documented for users in ``inputs/README.md``; :mod:`.tables` reads and checks a folder against
:data:`TABLES`, and ``nationcap template`` writes its headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..config.schema import MAX_PRICE_JPY_PER_T
from .geo import PLACE_ALIASES, PREFECTURES


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str" | "int" | "float"
    unit: str
    description: str
    lo: float | None = None  # inclusive lower bound
    hi: float | None = None  # inclusive upper bound
    choices: tuple[str, ...] | None = None
    #: why ``lo`` / ``hi`` are what they are, when they are plausibility bounds (not definitions)
    bound_note: str = ""
    #: an empty cell means "none" instead of being an error (text columns only)
    empty_ok: bool = False
    #: other spellings read as one value (a text column): place names in kanji -> English
    aliases: Mapping[str, str] | None = None


#: most CO2 one entity can plausibly emit (or a credit step offer) in a year, t: Japan's total
#: CO2 was 1,310 Mt in FY2013 and 969.6 Mt in FY2024 (inputs/japan/README.md, section 1)
MAX_ENTITY_T = 1e9
#: largest plausible MAC step or credit price, JPY/t (either sign), the same bound as for the
#: scenario's prices
MAX_COST_JPY_PER_T = MAX_PRICE_JPY_PER_T
_EMISSIONS_NOTE = (
    "one entity emitting more than all of Japan (about 1e9 t CO2/yr, inputs/japan/README.md) is "
    "implausible: check the unit (t, not kg) and the value"
)
_COST_NOTE = "a cost beyond 10 million JPY/t is implausible: check the unit (JPY/t) and the value"


@dataclass(frozen=True)
class Table:
    file: str
    required: bool
    columns: tuple[Column, ...]
    description: str
    optional_columns: tuple[Column, ...] = ()


TOP_LEVELS = ("none", "top", "near_top")

TABLES: dict[str, Table] = {
    "entities": Table(
        "entities.csv",
        True,
        (
            Column("entity_id", "str", "", "unique id of the covered entity"),
            Column("market", "str", "", "market the entity belongs to (a [markets.<name>] of the scenario)"),
            Column("name", "str", "", "display name"),
            Column("sector", "str", "", "sector label used in aggregates"),
            Column(
                "prefecture",
                "str",
                "",
                "one of the 47 prefectures (English name, e.g. Tokyo, or in kanji, e.g. 東京都)",
                choices=PREFECTURES,
                aliases=PLACE_ALIASES,
            ),
            Column(
                "administrator",
                "str",
                "",
                "prefecture or designated city that manages it (English or kanji); 'national' for national suppliers",
                aliases=PLACE_ALIASES,
            ),
            Column("category", "str", "", "compliance-factor category: 'general', 'dhc', ..."),
            Column("top_level", "str", "", "top-level installation status", choices=TOP_LEVELS),
            Column(
                "base_emissions_t",
                "float",
                "t CO2/yr",
                "base-year emissions",
                lo=0.0,
                hi=MAX_ENTITY_T,
                bound_note=_EMISSIONS_NOTE,
            ),
            Column("electricity_share", "float", "1", "share of emissions from purchased electricity", lo=0.0, hi=1.0),
        ),
        "one row per covered entity",
        optional_columns=(
            Column(
                "benchmark", "str", "", "benchmark group of the entity (benchmarks.csv); empty = none", empty_ok=True
            ),
        ),
    ),
    "bau": Table(
        "bau.csv",
        True,
        (
            Column("entity_id", "str", "", "entity id (from entities.csv)"),
            Column("year", "int", "fiscal year", "model year"),
            Column(
                "bau_emissions_t",
                "float",
                "t CO2/yr",
                "business-as-usual emissions",
                lo=0.0,
                hi=MAX_ENTITY_T,
                bound_note=_EMISSIONS_NOTE,
            ),
        ),
        "business-as-usual emissions for every entity and model year",
    ),
    "mac": Table(
        "mac.csv",
        True,
        (
            Column("entity_id", "str", "", "entity id (from entities.csv)"),
            Column("step", "int", "", "step number within the entity's curve", lo=0),
            Column(
                "abatement_share", "float", "1", "share of the year's BAU emissions the step can abate", lo=0.0, hi=1.0
            ),
            Column(
                "cost_jpy_per_t",
                "float",
                "JPY/t CO2",
                "cost of the step (negative = no-regret)",
                lo=-MAX_COST_JPY_PER_T,
                hi=MAX_COST_JPY_PER_T,
                bound_note=_COST_NOTE,
            ),
        ),
        "stepwise marginal abatement cost curves",
        optional_columns=(Column("year", "int", "fiscal year", "the step applies only in this year"),),
    ),
    "offsets": Table(
        "offsets.csv",
        False,
        (
            Column("offset_type", "str", "", "offset credit type, e.g. small_mid, renewable, outside"),
            Column("market", "str", "", "market the credits are available to"),
            Column("year", "int", "fiscal year", "year the credits are available"),
            Column(
                "quantity_t",
                "float",
                "t CO2",
                "credits on offer in this step",
                lo=0.0,
                hi=MAX_ENTITY_T,
                bound_note="more credits in one step than Japan emits in a year (about 1e9 t CO2, "
                "inputs/japan/README.md) is implausible: check the unit (t) and the value",
            ),
            Column(
                "cost_jpy_per_t",
                "float",
                "JPY/t CO2",
                "price of the step",
                lo=-MAX_COST_JPY_PER_T,
                hi=MAX_COST_JPY_PER_T,
                bound_note=_COST_NOTE,
            ),
        ),
        "offset credit supply steps (optional)",
    ),
    "history": Table(
        "history.csv",
        False,
        (
            Column("entity_id", "str", "", "entity id (from entities.csv)"),
            Column("fiscal_year", "int", "fiscal year", "historical year"),
            Column(
                "emissions_t",
                "float",
                "t CO2/yr",
                "reported emissions",
                lo=0.0,
                hi=MAX_ENTITY_T,
                bound_note=_EMISSIONS_NOTE,
            ),
        ),
        "historical emissions for base-year rules (optional)",
    ),
    "activity": Table(
        "activity.csv",
        False,
        (
            Column("entity_id", "str", "", "entity id (from entities.csv)"),
            Column("year", "int", "fiscal year", "fiscal year (base years and model years)"),
            Column(
                "activity",
                "float",
                "activity unit of the sector (dataset.toml [activity_units])",
                "output of the entity in the year: MWh, t of product, m2 of floor, ...",
                lo=0.0,
            ),
        ),
        "activity per entity and year, for benchmark allocation (optional)",
    ),
    "benchmarks": Table(
        "benchmarks.csv",
        False,
        (
            Column("benchmark", "str", "", "benchmark group (the entities.csv column benchmark)"),
            Column("year", "int", "fiscal year", "model year"),
            Column(
                "t_per_activity",
                "float",
                "t CO2 per unit of activity",
                "allocation per unit of activity in the year",
                lo=0.0,
            ),
        ),
        "benchmark intensities per group and year, for benchmark allocation (optional)",
    ),
}
