"""The scenario schema: one typed, validated :class:`Scenario` per cap design.

A scenario file (``models/*.toml``) names a dataset folder and describes the cap design::

    name = "baseline"
    inputs = "../inputs/japan"     # dataset folder, relative to this file
    discount_rate = 0.03           # real, per year; costs are discounted to the first model year
    [[periods]]                    # compliance periods, contiguous and in order
    name = "P1"
    first_year = 2026
    last_year = 2030
    [markets.regional]             # one table per market; entities name their market
    banking = true                 # unused allowances carry to the next period
    borrowing = false              # true: a period may draw on later allocations (bank < 0)
    compliance_factor = { P1 = { general = 0.08, dhc = 0.06 } }

Every key is typed; an unknown key is an error (a typo must never be silently ignored). Reading a
file and applying ``--set`` overrides is :mod:`nationcap.config.loading`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ..errors import Problems
from .messages import did_you_mean

#: largest plausible price or cost in a scenario (price band, imports, the administrator's
#: shortfall price) and in a dataset (MAC steps, offsets), JPY/t, either sign
MAX_PRICE_JPY_PER_T = 1e7

#: HiGHS options used unless the scenario overrides them. HiGHS presolve stalls on this model's
#: shape (few rows, ~10^6 bounded columns); IPX with crossover gives vertex duals (prices).
DEFAULT_HIGHS_OPTIONS: dict[str, Any] = {
    "presolve": "off",
    "solver": "ipx",
    "run_crossover": "on",
    "threads": 1,
}


def year_period_map(periods: Iterable[Period | Mapping[str, Any]]) -> dict[int, str]:
    """Fiscal year -> period name, from :class:`Period` objects or their dicts (as stored in the
    ``config`` attribute of a results file). The one place this map is made."""
    out: dict[int, str] = {}
    for p in periods:
        name, first, last = (
            (p.name, p.first_year, p.last_year)
            if isinstance(p, Period)
            else (p["name"], p["first_year"], p["last_year"])
        )
        out.update({y: name for y in range(int(first), int(last) + 1)})
    return out


class _Strict(BaseModel):
    """Unknown keys are errors, and values are not converted: a number in quotes (``"0.08"``) is
    refused, as is ``1`` for a boolean; an integer where a number belongs is taken (``factor = 1``).
    Tuple fields are not strict, because TOML gives a list (``markets = ["national", "regional"]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Period(_Strict):
    """A compliance period: fiscal years ``first_year..last_year`` inclusive."""

    name: str = Field(description="period name used as a key, e.g. P1")
    first_year: int = Field(description="first fiscal year of the period")
    last_year: int = Field(description="last fiscal year of the period (inclusive)")

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def n_years(self) -> int:
        return self.last_year - self.first_year + 1


class OffsetLimit(_Strict):
    """Per-entity purchase limit of one offset type (Tokyo: outside-area credits <= 1/3 of the
    required reduction)."""

    limit_fraction: float = Field(1.0 / 3.0, description="share of the basis an entity may cover with this type")
    limit_basis: Literal["required_reduction", "base_emissions", "emissions"] = Field(
        "required_reduction",
        description="required_reduction = base x factor x years; base_emissions = base x years; "
        "emissions = the entity's own emissions in the period (endogenous: abating lowers the limit)",
    )


class PricePath(_Strict):
    """A price path per fiscal year: ``start_jpy_per_t * (1 + growth_rate) ** (year - start_year)``,
    with ``by_year`` entries (``{ 2028 = 2000.0 }``) replacing single years."""

    start_year: int = 2026
    start_jpy_per_t: float
    growth_rate: float = 0.03
    by_year: dict[str, float] = Field(default_factory=dict)

    def value(self, year: int) -> float:
        if str(year) in self.by_year:
            return float(self.by_year[str(year)])
        try:
            return self.start_jpy_per_t * (1.0 + self.growth_rate) ** (year - self.start_year)
        except OverflowError:  # refused by the scenario check
            return math.copysign(math.inf, self.start_jpy_per_t)


class PriceFloor(PricePath):
    """GX-ETS adjustment reference price: JPY 1,700/t in FY2026, +3 %/yr.

    Source: METI's GX-ETS price band, as summarised at https://shulman-advisory.com/?p=5614
    (source ``gx-ets`` of ``inputs/japan/dataset.toml``; see ``inputs/japan/README.md``).
    """

    start_jpy_per_t: float = 1700.0


class PriceCeiling(PricePath):
    """GX-ETS upper reference price: JPY 4,300/t in FY2026, +3 %/yr.

    Source: METI's GX-ETS price band, as summarised at https://shulman-advisory.com/?p=5614
    (source ``gx-ets`` of ``inputs/japan/dataset.toml``; see ``inputs/japan/README.md``).
    """

    start_jpy_per_t: float = 4300.0


class ReserveTranche(_Strict):
    """One tranche of an allowance reserve: ``volume_t`` allowances per year, released when the
    price reaches the trigger (a cost containment reserve) or withheld when the price is at or
    below it (an emissions containment reserve). The trigger is in each year's money:
    ``trigger_jpy_per_t * (1 + growth_rate) ** (year - first model year)``."""

    trigger_jpy_per_t: float = Field(description="trigger price in the first model year, JPY/t")
    volume_t: float = Field(description="allowances per year, t")
    growth_rate: float = Field(0.03, description="yearly growth of the trigger (default: the GX band's 3 %)")

    def trigger(self, year: int, first_year: int) -> float:
        """The trigger in ``year``'s money, JPY/t."""
        try:
            return self.trigger_jpy_per_t * (1.0 + self.growth_rate) ** (year - first_year)
        except OverflowError:  # refused by the scenario check
            return math.copysign(math.inf, self.trigger_jpy_per_t)


class ReserveConfig(_Strict):
    """Allowance reserves of a market (RGGI's cost and emissions containment reserves): tranches
    released at a trigger price (``release``) and withheld at or below one (``withhold``)."""

    release: list[ReserveTranche] = Field(
        default_factory=list, description="cost containment reserve: tranches released at their trigger"
    )
    withhold: list[ReserveTranche] = Field(
        default_factory=list, description="emissions containment reserve: tranches withheld at or below their trigger"
    )


class ExternalLink(_Strict):
    """Imports of foreign allowances at an exogenous price, limited to a share of the cap per period."""

    price: PricePath = Field(description="price of foreign allowances, JPY/t in each year's money")
    limit_share: float = Field(0.1, description="imports per period at most this share of the market's cap")


class BaseYearRule(_Strict):
    """How base-year emissions are set: from entities.csv, or from history.csv (Tokyo: the
    highest average of 3 consecutive fiscal years within a window)."""

    rule: Literal["file", "max_3yr_average"] = "file"
    first: int | None = Field(None, description="first fiscal year of the window")
    last: int | None = Field(None, description="last fiscal year of the window")


class BaseYears(_Strict):
    """Fiscal years ``first..last`` (inclusive) whose mean activity is a benchmark allocation's base."""

    first: int = Field(description="first fiscal year")
    last: int = Field(description="last fiscal year (inclusive)")


class AllocationRule(_Strict):
    """How a market's free allocation is computed (``nationcap/derive/allocation.py``).

    ``grandfathering`` (default): base-year emissions x (1 - compliance factor) x years.
    ``benchmark``: an entity with a benchmark group gets ``t_per_activity[group, y] x A[i, y]`` per
    year, ``A`` its mean activity over ``base_years``, replaced by the year's activity when that
    differs from the mean by at least ``rebase_threshold`` (a share); an entity without a group
    gets ``base x (1 - fallback_decline) ** (y - base_years.last)`` per year."""

    rule: Literal["grandfathering", "benchmark"] = "grandfathering"
    base_years: BaseYears | None = Field(None, description="benchmark: the base years of activity")
    rebase_threshold: float = Field(0.075, description="benchmark: relative change of activity that re-bases")
    fallback_decline: float = Field(0.017, description="benchmark: yearly decline of an entity without a group")


#: entity attributes a market can select on (columns of entities.csv)
SELECT_LABEL_KEYS: tuple[str, ...] = ("market", "sector", "prefecture", "administrator", "category")
#: entity attributes a market table can be split by (one market per value)
SplitBy = Literal["administrator", "prefecture"]
#: separates a split market table's name from the group: ``regional/Tokyo``
SPLIT_SEP = "/"


def is_split(market: str) -> bool:
    """Whether ``market`` is one of the markets ``split_by`` made of a table (``regional/Tokyo``)."""
    return SPLIT_SEP in market


def market_table(market: str) -> str:
    """The scenario table a market comes from: ``regional`` for ``regional/Tokyo`` and for ``regional``."""
    return market.split(SPLIT_SEP, 1)[0]


def market_group(market: str) -> str | None:
    """The group of a split market (``Tokyo`` for ``regional/Tokyo``); None for a market not split."""
    return market.split(SPLIT_SEP, 1)[1] if is_split(market) else None


def markets_by_table(markets: Iterable[Any]) -> dict[str, list[str]]:
    """Scenario table -> its markets, in order (``regional`` -> ``regional/Tokyo``, ... when split)."""
    out: dict[str, list[str]] = {}
    for m in (str(x) for x in markets):
        out.setdefault(market_table(m), []).append(m)
    return out


class MarketSelect(_Strict):
    """Which entities a market covers (every key optional; all given keys must match).

    Label keys are lists of entities.csv values, matching any of them: ``market`` (the dataset's
    market label), ``sector``, ``prefecture``, ``administrator``, ``category``. ``min_base_t`` /
    ``max_base_t`` bound the entity's base-year emissions used for the allocation (t/yr, under the
    market's ``base_year`` rule), inclusive. Resolved against the dataset by
    ``nationcap/derive/scope.py``."""

    market: tuple[str, ...] | None = Field(None, strict=False, description="dataset market labels (entities.csv)")
    sector: tuple[str, ...] | None = Field(None, strict=False, description="sector labels")
    prefecture: tuple[str, ...] | None = Field(None, strict=False, description="prefectures (English names)")
    administrator: tuple[str, ...] | None = Field(None, strict=False, description="administrators")
    category: tuple[str, ...] | None = Field(None, strict=False, description="categories (e.g. general, dhc)")
    min_base_t: float | None = Field(None, description="smallest base-year emissions covered, t/yr (inclusive)")
    max_base_t: float | None = Field(None, description="largest base-year emissions covered, t/yr (inclusive)")

    def labels(self) -> dict[str, tuple[str, ...]]:
        """The label keys that are given: column -> accepted values."""
        return {k: v for k in SELECT_LABEL_KEYS if (v := getattr(self, k)) is not None}


class MarketConfig(_Strict):
    """Rules of one allowance market. Every program rule is off unless its key is given; inside a
    rule's table, unspecified values default to the 2009 proposal's / Tokyo's values."""

    select: MarketSelect | None = Field(
        None,
        description="which entities the market covers (see MarketSelect); none: those whose entities.csv "
        "market label is the market's name",
    )
    split_by: SplitBy | None = Field(
        None,
        description="one market per administrator (or prefecture) of the selected entities, named "
        "'<market>/<group>', each with this table's rules and its own cap, bank and price",
    )
    banking: bool = Field(True, description="unused allowances carry over to the next period")
    borrowing: bool = Field(False, description="a period may use allowances of later periods (bank below zero)")
    compliance_factor: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="period -> category -> reduction factor in [0, 1); "
        "a category missing from a period falls back to 'general'",
    )
    top_level_multiplier: dict[str, float] = Field(
        default_factory=dict,
        description="top_level status -> multiplier of the factor, e.g. { top = 0.5, near_top = 0.75 }",
    )
    base_year: BaseYearRule = Field(default_factory=BaseYearRule)
    allocation: AllocationRule = Field(default_factory=AllocationRule)
    emissions_basis: Literal["as_reported", "direct"] = Field(
        "as_reported",
        description="direct: BAU, base emissions and abatement of the market's entities x (1 - electricity_share)",
    )
    use_offsets: bool = Field(False, description="entities may use the market's offsets.csv supply")
    offsets: dict[str, OffsetLimit] = Field(
        default_factory=dict, description="offset type -> per-entity purchase limit (no table: no limit)"
    )
    penalty_multiplier: float | None = Field(
        None, description="a shortfall is added x this to the next period's obligation (Tokyo: 1.3)"
    )
    fine_jpy: float = Field(500_000.0, description="fine per non-compliant entity and period (reported)")
    final_shortfall_price_jpy_per_t: float | None = Field(
        None,
        description="last period: the administrator buys allowances for an entity's shortfall at "
        "this price (in the last year's money); None = no shortfall allowed in the last period",
    )
    trading_from_year: int = Field(
        1, description="allowances can be traded from this year of each period on (Tokyo: 2)"
    )
    price_floor: PriceFloor | None = None
    price_ceiling: PriceCeiling | None = None
    floor_volume_limit_t: float | None = Field(
        None, description="most allowances withdrawn at the price floor per year, t (None: no limit)"
    )
    ceiling_volume_limit_t: float | None = Field(
        None, description="most allowances sold at the price ceiling per year, t (None: no limit)"
    )
    reserve: ReserveConfig | None = Field(
        None, description="allowance reserves: tranches released or withheld at trigger prices"
    )
    external: ExternalLink | None = None
    auction_share: dict[str, float | dict[str, float]] = Field(
        default_factory=dict,
        description="period -> share of the cap auctioned instead of given free; or sector (or benchmark "
        "group) -> { fiscal year = share } (each share holds from its year until the next listed one)",
    )


class LinkConfig(_Strict):
    """Allowance trade between two markets (the 2009 proposal: none)."""

    mode: Literal["none", "full", "limited"] = Field("none", description="none (the proposal), full or limited")
    ratio: float = Field(1.0, description="regional allowances per national allowance (exchange rate)")
    limit_share: float = Field(0.1, description="limited: per period at most this share of the receiving market's cap")
    direction: Literal["both", "national_to_regional", "regional_to_national"] = "both"
    markets: tuple[str, str] = Field(
        ("national", "regional"), strict=False, description="the (national, regional) pair of markets linked"
    )


class OverlapConfig(_Strict):
    """How purchased electricity, counted in both programs, couples the markets."""

    electricity: Literal["fixed", "coupled"] = Field(
        "fixed",
        description="fixed: grid factor fixed, no interaction (Tokyo practice); coupled: "
        "regional electricity savings lower power suppliers' emissions",
    )
    marginal_grid_factor: float = Field(
        1.0, description="t avoided at power plants per t of electricity emissions saved by users"
    )
    markets: tuple[str, str] = Field(
        ("national", "regional"), strict=False, description="the (power supplier, electricity user) markets"
    )
    power_sector_prefix: str = Field(
        "power", description="entities of the supplier market whose sector starts with this are power suppliers"
    )


#: engines a scenario can name in ``[solver] engine`` (see :mod:`nationcap.engines`)
EngineName = Literal["pyomo", "fast"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)


class SolverConfig(_Strict):
    """Solver settings. ``highs`` entries are passed to HiGHS as options."""

    engine: EngineName = Field(
        "pyomo",
        description="pyomo: the LP in Pyomo solved by HiGHS (every rule; the reference); "
        "fast: the exact merit-order engine (caps, banking, borrowing, full links)",
    )
    name: str = Field("highs", description="only 'highs' is supported")
    formulation: Literal["sifting", "compact", "full"] = Field(
        "sifting",
        description="Pyomo engine: sifting = the compact LP over the abatement columns that can be marginal, "
        "certified against every column (the default); compact = the compact LP over every column; "
        "full = one compliance row per entity and period (the reference)",
    )
    sifting_band: float = Field(
        0.05, description="sifting: hold the columns whose PV cost is within this share of the estimated price"
    )
    highs: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="HiGHS options, merged over the nationcap defaults"
    )
    time_limit_s: float | None = Field(None, description="wall-clock limit for one solve")

    def highs_options(self) -> dict[str, Any]:
        opts = dict(DEFAULT_HIGHS_OPTIONS)
        opts.update(self.highs)
        if self.time_limit_s is not None:
            opts["time_limit"] = float(self.time_limit_s)
        return opts


class Scenario(_Strict):
    """One cap design, fully resolved (see the module docstring for the file format)."""

    name: str
    description: str = ""
    inputs: str = Field(description="dataset folder, relative to the scenario file")
    discount_rate: float = Field(0.03, description="real discount rate per year")
    periods: list[Period]
    markets: dict[str, MarketConfig]
    link: LinkConfig = Field(default_factory=LinkConfig)
    overlap: OverlapConfig = Field(default_factory=OverlapConfig)
    solver: SolverConfig = Field(default_factory=SolverConfig)

    # where the file was read from; not a TOML key
    source: str | None = Field(None, exclude=True)

    # -- derived -------------------------------------------------------------------------
    @property
    def inputs_path(self) -> Path:
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / self.inputs).resolve()

    @property
    def has_selections(self) -> bool:
        """Whether a market selects its entities (``select``): entities.csv market labels then need
        not name a market, and an entity selected by no market is uncovered."""
        return any(mc.select is not None for mc in self.markets.values())

    @property
    def years(self) -> list[int]:
        return [y for p in self.periods for y in p.years]

    @property
    def first_year(self) -> int:
        return self.periods[0].first_year

    def period_of_year(self) -> dict[int, str]:
        return year_period_map(self.periods)

    def discount_factor(self, year: int) -> float:
        """``(1 + r) ** -(year - first model year)``: PV weight of money in ``year``."""
        return (1.0 + self.discount_rate) ** -(year - self.first_year)

    def factor(self, market: str, period: str, category: str) -> float:
        """Compliance factor of ``category`` in ``period``, falling back to ``general`` (and to 0
        in a benchmark market, where factors are optional)."""
        table = self.markets[market].compliance_factor.get(period, {})
        if category in table:
            return table[category]
        if self.markets[market].allocation.rule == "benchmark":
            return table.get("general", 0.0)
        return table["general"]

    def resolved(self) -> dict[str, Any]:
        """The configuration as run: every key with its value, plus the absolute inputs path."""
        d = self.model_dump(mode="json")
        d["inputs_resolved"] = str(self.inputs_path)
        d["solver"]["highs_resolved"] = self.solver.highs_options()
        return d

    def resolved_json(self) -> str:
        return json.dumps(self.resolved(), sort_keys=True, indent=1)


def check_scenario(scn: Scenario, fname: str) -> Problems:
    """Semantic checks that do not need the dataset: periods and factors."""
    problems = Problems(context="scenario")
    if not scn.periods:
        problems.add(fname, "key 'periods'", "", "at least one [[periods]] table is required")
    if not 0.0 <= scn.discount_rate < 1.0:
        problems.add(fname, "key 'discount_rate'", "", f"must be in [0, 1), got {scn.discount_rate}")
    if scn.solver.name != "highs":
        problems.add(fname, "key 'solver.name'", "", f"only 'highs' is supported, got {scn.solver.name!r}")
    names = [p.name for p in scn.periods]
    for i, p in enumerate(scn.periods):
        where = f"key 'periods.{i}' ({p.name})"
        if p.last_year < p.first_year:
            problems.add(fname, where, "", f"last_year {p.last_year} is before first_year {p.first_year}")
        if names.count(p.name) > 1:
            problems.add(fname, where, "", f"period name {p.name!r} is used more than once")
        if i > 0:
            prev = scn.periods[i - 1]
            if p.first_year <= prev.last_year:
                problems.add(
                    fname,
                    where,
                    "",
                    f"overlaps period {prev.name} (which ends in {prev.last_year}); "
                    f"periods must be in order and must not overlap",
                )
            elif p.first_year > prev.last_year + 1:
                problems.add(
                    fname,
                    where,
                    "",
                    f"gap after period {prev.name}: years {prev.last_year + 1}..{p.first_year - 1} "
                    f"are in no period; periods must be contiguous",
                )
    if not scn.markets:
        problems.add(fname, "key 'markets'", "", "define at least one [markets.<name>] table")
    for key, pair, active in (
        ("link", scn.link.markets, scn.link.mode != "none"),
        ("overlap", scn.overlap.markets, scn.overlap.electricity == "coupled"),
    ):
        if active:
            for name in pair:
                if name not in scn.markets:
                    problems.add(
                        fname,
                        f"key '{key}.markets'",
                        "",
                        f"unknown market {name!r}; the scenario defines {list(scn.markets)}"
                        + did_you_mean(name, scn.markets),
                    )
            if pair[0] == pair[1]:
                problems.add(fname, f"key '{key}.markets'", "", "name two different markets")
    if scn.link.ratio <= 0:
        problems.add(fname, "key 'link.ratio'", "", f"must be > 0, got {scn.link.ratio}")
    if scn.link.limit_share < 0:
        problems.add(fname, "key 'link.limit_share'", "", "must be >= 0")
    if scn.overlap.marginal_grid_factor < 0:
        problems.add(fname, "key 'overlap.marginal_grid_factor'", "", "must be >= 0")
    for m, mc in scn.markets.items():
        _check_scope(problems, fname, m, mc, scn)
        for pname, table in mc.compliance_factor.items():
            key = f"key 'markets.{m}.compliance_factor.{pname}'"
            if pname not in names:
                problems.add(fname, key, "", f"unknown period {pname!r}; periods are {names}")
            for cat, f in table.items():
                if not 0.0 <= f < 1.0:
                    problems.add(fname, f"{key[:-1]}.{cat}'", "", f"factor must be in [0, 1), got {f}")
        _check_rules(problems, fname, m, mc, scn)
        for pname in names:
            if mc.allocation.rule == "grandfathering" and "general" not in mc.compliance_factor.get(pname, {}):
                problems.add(
                    fname,
                    f"key 'markets.{m}.compliance_factor.{pname}'",
                    "",
                    "a 'general' factor is required for every period (other categories fall back to it)",
                )
    _check_finite(problems, fname, scn)
    _check_band_arbitrage(problems, fname, scn)
    return problems


def _check_scope(problems: Problems, fname: str, m: str, mc: MarketConfig, scn: Scenario) -> None:
    """``select`` and ``split_by`` of market ``m`` (what needs no dataset; the rest is checked
    when the selection is resolved, ``nationcap/derive/scope.py``)."""
    key = f"key 'markets.{m}"
    if SPLIT_SEP in m:
        problems.add(
            fname,
            f"{key}'",
            "",
            f"a market name must not contain {SPLIT_SEP!r}: it names the markets a split_by table makes "
            f"('<market>{SPLIT_SEP}<group>'); rename the market",
        )
    sel = mc.select
    if sel is not None:
        for col, values in sel.labels().items():
            if not values:
                problems.add(
                    fname, f"{key}.select.{col}'", "", "an empty list selects nothing; give values or drop the key"
                )
        for bound in ("min_base_t", "max_base_t"):
            v = getattr(sel, bound)
            if v is not None and not v >= 0:
                problems.add(fname, f"{key}.select.{bound}'", "", f"must be >= 0 t/yr, got {v}")
        if sel.min_base_t is not None and sel.max_base_t is not None and sel.min_base_t > sel.max_base_t:
            problems.add(
                fname,
                f"{key}.select'",
                "",
                f"min_base_t ({sel.min_base_t:g}) is above max_base_t ({sel.max_base_t:g}): no entity can match",
            )
    if mc.split_by is not None:
        for what, pair, on in (
            ("link", scn.link.markets, scn.link.mode != "none"),
            ("overlap", scn.overlap.markets, scn.overlap.electricity == "coupled"),
        ):
            if on and m in pair:
                problems.add(
                    fname,
                    f"{key}.split_by'",
                    "",
                    f"market {m!r} is split into one market per {mc.split_by}, but {what}.markets names it: "
                    f"a {what} joins two single markets. Remove split_by, or set "
                    + ("link.mode = 'none'" if what == "link" else "overlap.electricity = 'fixed'"),
                )


def _non_finite(value: Any, key: str) -> list[tuple[str, Any]]:
    """(dotted key, value) of every non-finite float inside a dumped scenario value."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(key, value)]
    if isinstance(value, Mapping):
        return [hit for k, v in value.items() for hit in _non_finite(v, f"{key}.{k}" if key else str(k))]
    if isinstance(value, list | tuple):
        return [hit for i, v in enumerate(value) for hit in _non_finite(v, f"{key}.{i}")]
    return []


def _check_finite(problems: Problems, fname: str, scn: Scenario) -> None:
    """Every number of the scenario is finite (TOML allows ``inf`` and ``nan``), and the prices it
    implies in every model year (a start price grown at ``growth_rate``) are finite and within
    +/- ``MAX_PRICE_JPY_PER_T``. HiGHS options (``solver.highs``) are HiGHS's business."""
    dumped = scn.model_dump(mode="python", exclude={"solver": {"highs"}})
    for key, value in _non_finite(dumped, ""):
        problems.add(fname, f"key '{key}'", "", f"non-finite number ({value}); use a finite number")
    for m, mc in scn.markets.items():
        paths = {
            "price_floor": mc.price_floor,
            "price_ceiling": mc.price_ceiling,
            "external.price": mc.external.price if mc.external else None,
        }
        for path, pp in paths.items():
            if pp is None or not all(math.isfinite(v) for v in (pp.start_jpy_per_t, pp.growth_rate)):
                continue
            for y in scn.years:
                v = pp.value(y)
                if not math.isfinite(v) or abs(v) > MAX_PRICE_JPY_PER_T:
                    problems.add(
                        fname,
                        f"key 'markets.{m}.{path}'",
                        "",
                        f"the price in FY{y} is {v:,.6g} JPY/t, beyond +/-{MAX_PRICE_JPY_PER_T:g} JPY/t "
                        f"(implausible, and beyond what the solver handles accurately); check "
                        f"start_jpy_per_t, growth_rate and by_year",
                    )
                    break
        for side, tranches in (
            ("release", mc.reserve.release if mc.reserve else []),
            ("withhold", mc.reserve.withhold if mc.reserve else []),
        ):
            for k, tr in enumerate(tranches):
                if not all(math.isfinite(v) for v in (tr.trigger_jpy_per_t, tr.growth_rate)) or tr.growth_rate <= -1:
                    continue
                for y in scn.years:
                    v = tr.trigger(y, scn.first_year)
                    if not math.isfinite(v) or abs(v) > MAX_PRICE_JPY_PER_T:
                        problems.add(
                            fname,
                            f"key 'markets.{m}.reserve.{side}.{k}'",
                            "",
                            f"the trigger in FY{y} is {v:,.6g} JPY/t, beyond {MAX_PRICE_JPY_PER_T:g} JPY/t "
                            f"(implausible, and beyond what the solver handles accurately); check "
                            f"trigger_jpy_per_t and growth_rate",
                        )
                        break
        price = mc.final_shortfall_price_jpy_per_t
        if price is not None and math.isfinite(price) and abs(price) > MAX_PRICE_JPY_PER_T:
            problems.add(
                fname,
                f"key 'markets.{m}.final_shortfall_price_jpy_per_t'",
                "",
                f"{price:,.6g} JPY/t is beyond {MAX_PRICE_JPY_PER_T:g} JPY/t (implausible); check the value",
            )


def _band_routes(scn: Scenario) -> list[tuple[str, str, float, set[str]]]:
    """Ways an allowance issued at one market's ceiling can reach a market's floor:
    (ceiling market, floor market, floor-market allowances per ceiling-market allowance, the
    markets that can hold it between periods)."""
    link = scn.link
    n, r = link.markets
    full = link.mode == "full" and n != r and n in scn.markets and r in scn.markets and link.ratio > 0
    both = full and link.direction == "both"
    routes = [(m, m, 1.0, {m} | ({n, r} if both and m in (n, r) else set())) for m in scn.markets]
    if full and link.direction in ("both", "national_to_regional"):
        routes.append((n, r, float(link.ratio), {n, r}))
    if full and link.direction in ("both", "regional_to_national"):
        routes.append((r, n, 1.0 / link.ratio, {n, r}))
    return routes


def _supply_paths(scn: Scenario, m: str) -> list[tuple[str, str, Any, bool]]:
    """What the administrator of market ``m`` sells at a price: (description, key, price in a year's
    money as a function of the year, unlimited?) of the ceiling and of every release tranche."""
    mc = scn.markets[m]
    out: list[tuple[str, str, Any, bool]] = []
    if mc.price_ceiling is not None:
        out.append(("the ceiling", "price_ceiling", mc.price_ceiling.value, mc.ceiling_volume_limit_t is None))
    for k, tr in enumerate(mc.reserve.release if mc.reserve else []):
        if tr.volume_t > 0:
            out.append((f"release tranche {k}", f"reserve.release.{k}", _tranche_path(tr, scn.first_year), False))
    return out


def _demand_paths(scn: Scenario, m: str) -> list[tuple[str, str, Any, bool]]:
    """What the administrator of market ``m`` buys back at a price: the floor and every withhold tranche."""
    mc = scn.markets[m]
    out: list[tuple[str, str, Any, bool]] = []
    if mc.price_floor is not None:
        out.append(("the floor", "price_floor", mc.price_floor.value, mc.floor_volume_limit_t is None))
    for k, tr in enumerate(mc.reserve.withhold if mc.reserve else []):
        if tr.volume_t > 0:
            out.append((f"withhold tranche {k}", f"reserve.withhold.{k}", _tranche_path(tr, scn.first_year), False))
    return out


def _tranche_path(tr: ReserveTranche, first_year: int) -> Any:
    return lambda y: tr.trigger(y, first_year)


def _check_band_arbitrage(problems: Problems, fname: str, scn: Scenario) -> None:
    """A price band or reserve design under which the administrator sells an allowance and buys it
    back for more (in present value) than it sold it for.

    With ``d[y]`` = :meth:`Scenario.discount_factor`, issuing one allowance at the ceiling (or
    releasing it from a reserve tranche) in year a costs ``d[a] x price[a]`` and withdrawing it at
    the floor (or withholding it in a tranche) in year b earns ``d[b] x price[b]``
    (``nationcap/model/rules/price_band.py``, ``nationcap/model/rules/reserve.py``); the pool rows
    allow it when a and b are in the same period (one pool row), when b's period is later and the
    allowance can be banked, or earlier and it can be borrowed. Over a full link
    (``nationcap/model/rules/link.py``) one national allowance becomes ``ratio`` regional ones, so a
    national ceiling meets a regional floor x ratio (and a regional ceiling a national floor /
    ratio), and either linked market can hold the allowance between periods. The most profitable
    pair of years is reported per route and pair of price paths.

    An unlimited ceiling against an unlimited floor makes the LP unbounded. Where either side is
    finite (a reserve tranche, a volume limit) the LP is bounded, but its optimum sells and buys
    back the same allowances at once, a payment to itself the objective counts as a gain: the
    volumes and payments it reports mean nothing and the price can sit anywhere between the two
    prices. Both are refused: a design must not buy back above a PV price it sells at and can be
    reached from.
    """
    period_of = {y: i for i, p in enumerate(scn.periods) for y in p.years}
    years = list(period_of)
    link = scn.link
    for src, dst, factor, carriers in _band_routes(scn):
        bank = any(scn.markets[c].banking for c in carriers)
        borrow = any(scn.markets[c].borrowing for c in carriers)
        for sell_what, sell_key, sell, sell_unlimited in _supply_paths(scn, src):
            for buy_what, buy_key, buy, buy_unlimited in _demand_paths(scn, dst):
                pumps = []
                for a in years:
                    cost_pv = scn.discount_factor(a) * sell(a)
                    for b in years:
                        pa, pb = period_of[a], period_of[b]
                        if not (pa == pb or (pb > pa and bank) or (pb < pa and borrow)):
                            continue
                        gain_pv = factor * scn.discount_factor(b) * buy(b)
                        if gain_pv > cost_pv * (1.0 + 1e-9) + 1e-9:
                            pumps.append((gain_pv - cost_pv, a, b))
                if not pumps:
                    continue
                _, a, b = max(pumps)
                pa, pb = period_of[a], period_of[b]
                carry = (
                    f"within period {scn.periods[pa].name}"
                    if pa == pb
                    else ("carried forward by banking" if pb > pa else "used earlier by borrowing")
                )
                if len(carriers) > 1 and pa != pb:
                    carry += " (in either linked market)"
                sell_at = f"{sell_what}{'' if src == dst else f' of {src!r}'} in FY{a}"
                buy_at = f"{buy_what}{'' if src == dst else f' of {dst!r}'} in FY{b}"
                over = ""
                if src != dst:
                    gain_pv = factor * scn.discount_factor(b) * buy(b)
                    over = (
                        f", moved over the full link at {link.ratio:g} regional allowances per national one "
                        f"({factor:g} x the {'floor' if buy_key == 'price_floor' else 'trigger'}: "
                        f"PV {gain_pv:,.2f} per allowance issued)"
                    )
                off = "" if pa == pb else (" (or turn banking off)" if pb > pa else " (or turn borrowing off)")
                more = f"; {len(pumps) - 1} more pairs of years do the same" if len(pumps) > 1 else ""
                key = f"markets.{src}.{sell_key}" if src == dst else "link"
                prices = (
                    f"({sell(a):,.2f} JPY/t, PV {scn.discount_factor(a) * sell(a):,.2f}) and "
                    f"{'withdrawn at' if buy_key == 'price_floor' else 'withheld by'} {buy_at} "
                    f"({buy(b):,.2f} JPY/t, PV {scn.discount_factor(b) * buy(b):,.2f}), {carry}{over}"
                )
                if sell_unlimited and buy_unlimited:
                    problems.add(
                        fname,
                        f"key '{key}'",
                        "",
                        f"the price band is unbounded: an allowance issued at {sell_at} {prices}, "
                        f"earns more than it costs, without limit; raise the ceiling in FY{a} or lower the floor in "
                        f"FY{b}{off}{more}. A PV floor must not exceed a PV ceiling it can be reached from",
                    )
                    continue
                problems.add(
                    fname,
                    f"key '{key}'",
                    "",
                    f"the administrator would buy back its own allowances: an allowance "
                    f"{'issued at' if sell_key == 'price_ceiling' else 'released by'} {sell_at} {prices}, "
                    f"earns more than it costs; the volumes are finite, so the model is bounded, but it would "
                    f"sell and buy back the same allowances at once (a payment to itself it counts as a gain) and "
                    f"the price would not be determined; raise the price of {sell_what} in FY{a} or lower that of "
                    f"{buy_what} in FY{b}{off}{more}. A PV buy-back price (floor, withhold trigger) must not exceed "
                    f"a PV selling price (ceiling, release trigger) it can be reached from",
                )


def _check_allocation(problems: Problems, fname: str, key: str, mc: MarketConfig) -> None:
    """The ``allocation`` table of market ``key`` (benchmark: base years, threshold, decline)."""
    al = mc.allocation
    where = f"key '{key}.allocation"
    if al.rule == "grandfathering":  # the benchmark keys may stay (switching rule by --set): unused
        return
    if al.base_years is None:
        problems.add(fname, f"{where}.base_years'", "", "rule = 'benchmark' needs base_years = { first, last }")
    elif al.base_years.last < al.base_years.first:
        problems.add(fname, f"{where}.base_years'", "", "last is before first")
    if not al.rebase_threshold >= 0.0:
        problems.add(fname, f"{where}.rebase_threshold'", "", f"must be >= 0, got {al.rebase_threshold}")
    if not 0.0 <= al.fallback_decline < 1.0:
        problems.add(fname, f"{where}.fallback_decline'", "", f"must be in [0, 1), got {al.fallback_decline}")


def _check_rules(problems: Problems, fname: str, m: str, mc: MarketConfig, scn: Scenario) -> None:
    key = f"markets.{m}"
    names = [p.name for p in scn.periods]
    for status, mult in mc.top_level_multiplier.items():
        if status not in ("top", "near_top"):
            problems.add(
                fname, f"key '{key}.top_level_multiplier.{status}'", "", "unknown status; use 'top' or 'near_top'"
            )
        if not 0.0 <= mult <= 1.0:
            problems.add(
                fname, f"key '{key}.top_level_multiplier.{status}'", "", f"multiplier must be in [0, 1], got {mult}"
            )
    for otype, lim in mc.offsets.items():
        if lim.limit_fraction < 0:
            problems.add(fname, f"key '{key}.offsets.{otype}.limit_fraction'", "", "must be >= 0")
    if mc.offsets and not mc.use_offsets:
        problems.add(
            fname, f"key '{key}.offsets'", "", "offset limits are set but use_offsets is false; set use_offsets = true"
        )
    if mc.penalty_multiplier is not None and mc.penalty_multiplier < 1.0:
        problems.add(
            fname, f"key '{key}.penalty_multiplier'", "", f"must be >= 1 (Tokyo: 1.3), got {mc.penalty_multiplier}"
        )
    if mc.penalty_multiplier is None and mc.final_shortfall_price_jpy_per_t is not None:
        problems.add(
            fname,
            f"key '{key}.final_shortfall_price_jpy_per_t'",
            "",
            "needs penalty_multiplier (no shortfall is allowed without it)",
        )
    if mc.fine_jpy < 0:
        problems.add(fname, f"key '{key}.fine_jpy'", "", "must be >= 0")
    shortest = min((p.n_years for p in scn.periods), default=1)
    if not 1 <= mc.trading_from_year <= shortest:
        problems.add(
            fname,
            f"key '{key}.trading_from_year'",
            "",
            f"must be between 1 and the shortest period's length ({shortest} years)",
        )
    for pname, share in mc.auction_share.items():
        if isinstance(share, dict):  # a sector or benchmark group: checked against the dataset
            for y, s in share.items():
                where = f"key '{key}.auction_share.{pname}.{y}'"
                if not y.isdigit():
                    problems.add(fname, where, "", "keys must be fiscal years, e.g. 2033 = 1.0")
                if not 0.0 <= s <= 1.0:
                    problems.add(fname, where, "", f"share must be in [0, 1], got {s}")
            continue
        if pname not in names:
            problems.add(
                fname,
                f"key '{key}.auction_share.{pname}'",
                "",
                f"unknown period {pname!r}; periods are {names} (a sector or benchmark group takes a "
                f"table of fiscal year = share)",
            )
        if not 0.0 <= share <= 1.0:
            problems.add(fname, f"key '{key}.auction_share.{pname}'", "", f"share must be in [0, 1], got {share}")
    _check_allocation(problems, fname, key, mc)
    if mc.price_floor and mc.price_ceiling:
        bad = [y for y in scn.years if mc.price_floor.value(y) > mc.price_ceiling.value(y)]
        if bad:
            problems.add(fname, f"key '{key}.price_floor'", "", f"floor above the ceiling in FY{bad[:5]}")
    for path, pp in (
        ("price_floor", mc.price_floor),
        ("price_ceiling", mc.price_ceiling),
        ("external.price", mc.external.price if mc.external else None),
    ):
        if pp is None:
            continue
        for y in pp.by_year:
            if not y.isdigit():
                problems.add(
                    fname, f"key '{key}.{path}.by_year.{y}'", "", "keys must be fiscal years, e.g. 2028 = 2000.0"
                )
        if pp.start_jpy_per_t < 0:
            problems.add(fname, f"key '{key}.{path}.start_jpy_per_t'", "", "must be >= 0")
    for which, limit, band in (
        ("floor", mc.floor_volume_limit_t, mc.price_floor),
        ("ceiling", mc.ceiling_volume_limit_t, mc.price_ceiling),
    ):
        if limit is None:
            continue
        if not limit >= 0.0:
            problems.add(fname, f"key '{key}.{which}_volume_limit_t'", "", f"must be >= 0 (t per year), got {limit}")
        if band is None:
            problems.add(
                fname,
                f"key '{key}.{which}_volume_limit_t'",
                "",
                f"limits the price {which}, but the market has no price_{which}; set price_{which} or remove the limit",
            )
    for side, tranches in (
        ("release", mc.reserve.release if mc.reserve else []),
        ("withhold", mc.reserve.withhold if mc.reserve else []),
    ):
        for k, tr in enumerate(tranches):
            where = f"key '{key}.reserve.{side}.{k}"
            if not tr.volume_t >= 0.0:
                problems.add(fname, f"{where}.volume_t'", "", f"must be >= 0 (t per year), got {tr.volume_t}")
            if not tr.trigger_jpy_per_t >= 0.0:
                problems.add(fname, f"{where}.trigger_jpy_per_t'", "", f"must be >= 0, got {tr.trigger_jpy_per_t}")
            if not tr.growth_rate > -1.0:
                problems.add(fname, f"{where}.growth_rate'", "", f"must be > -1, got {tr.growth_rate}")
    if mc.external and not mc.external.limit_share >= 0.0:
        problems.add(fname, f"key '{key}.external.limit_share'", "", "must be >= 0")
    by = mc.base_year
    if by.rule == "max_3yr_average" and (by.first is None or by.last is None or by.last - by.first < 2):
        problems.add(
            fname,
            f"key '{key}.base_year'",
            "",
            "max_3yr_average needs first and last spanning at least 3 fiscal years",
        )
