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

Every key is typed, and a number's simple bounds (a factor in [0, 1), a volume >= 0) are part of
its type; an unknown key is an error (a typo must never be silently ignored). What relates keys to
each other is checked by :mod:`nationcap.config.checks`; reading a file and applying ``--set``
overrides is :mod:`nationcap.config.loading`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from ..vocab import year_period_map

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


#: a number >= 0 (a volume, a price, a share that may exceed 1)
NonNegative = Annotated[float, Field(ge=0.0)]
#: a share or multiplier in [0, 1]; the title names it in messages ("share must be in [0, 1], ...")
Share = Annotated[float, Field(ge=0.0, le=1.0, title="share")]
#: a multiplier of the compliance factor, in [0, 1]
Multiplier = Annotated[float, Field(ge=0.0, le=1.0, title="multiplier")]
#: a compliance factor: the share of base emissions to reduce, in [0, 1)
Factor = Annotated[float, Field(ge=0.0, lt=1.0, title="factor")]
#: a yearly growth rate above -100 % (so that the grown value stays positive)
GrowthRate = Annotated[float, Field(gt=-1.0)]


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

    limit_fraction: NonNegative = Field(1.0 / 3.0, description="share of the basis an entity may cover with this type")
    limit_basis: Literal["required_reduction", "base_emissions", "emissions"] = Field(
        "required_reduction",
        description="required_reduction = base x factor x years; base_emissions = base x years; "
        "emissions = the entity's own emissions in the period (endogenous: abating lowers the limit)",
    )


class PricePath(_Strict):
    """A price path per fiscal year: ``start_jpy_per_t * (1 + growth_rate) ** (year - start_year)``,
    with ``by_year`` entries (``{ 2028 = 2000.0 }``) replacing single years."""

    start_year: int = 2026
    start_jpy_per_t: NonNegative
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

    start_jpy_per_t: NonNegative = 1700.0


class PriceCeiling(PricePath):
    """GX-ETS upper reference price: JPY 4,300/t in FY2026, +3 %/yr.

    Source: METI's GX-ETS price band, as summarised at https://shulman-advisory.com/?p=5614
    (source ``gx-ets`` of ``inputs/japan/dataset.toml``; see ``inputs/japan/README.md``).
    """

    start_jpy_per_t: NonNegative = 4300.0


class ReserveTranche(_Strict):
    """One tranche of an allowance reserve: ``volume_t`` allowances per year, released when the
    price reaches the trigger (a cost containment reserve) or withheld when the price is at or
    below it (an emissions containment reserve). The trigger is in each year's money:
    ``trigger_jpy_per_t * (1 + growth_rate) ** (year - start_year)``, the convention of the price
    band (:class:`PricePath`: a price in FY``start_year``, default 2026, grown at 3 % a year), so a
    tranche and a band with the same numbers have the same price in every year whatever the first
    model year."""

    start_year: int = Field(2026, description="the fiscal year whose money trigger_jpy_per_t is in")
    trigger_jpy_per_t: NonNegative = Field(description="trigger price in FY start_year, JPY/t")
    volume_t: NonNegative = Field(description="allowances per year, t")
    growth_rate: GrowthRate = Field(0.03, description="yearly growth of the trigger (default: the GX band's 3 %)")

    def trigger(self, year: int) -> float:
        """The trigger in ``year``'s money, JPY/t."""
        try:
            return self.trigger_jpy_per_t * (1.0 + self.growth_rate) ** (year - self.start_year)
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
    limit_share: NonNegative = Field(0.1, description="imports per period at most this share of the market's cap")


class BaseYearRule(_Strict):
    """How base-year emissions are set: from entities.csv, or from history.csv (Tokyo: the
    highest average of 3 consecutive fiscal years within a window)."""

    rule: Literal["file", "max_3yr_average"] = "file"
    first: int | None = Field(None, description="first fiscal year of the window")
    last: int | None = Field(None, description="last fiscal year of the window")


#: an ``auction_share`` entry: a period's share, or a sector's table of fiscal year = share (one
#: branch is validated, so a bad value gets one message)
AuctionShare = Annotated[
    Annotated[Share, Tag("auction_share_value")] | Annotated[dict[str, Share], Tag("auction_share_years")],
    Discriminator(lambda v: "auction_share_years" if isinstance(v, dict) else "auction_share_value"),
]
#: tags of the schema's unions: pydantic puts them into an error's location, which names keys only
UNION_TAGS = frozenset({"auction_share_value", "auction_share_years"})


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
    gets ``base x (1 - fallback_decline) ** (y - base_years.last)`` per year. ``groups`` limits
    benchmark allocation to the listed groups (default: every group); an entity of another group
    is allocated as one without a group. The benchmark keys are unused (and may stay) under
    ``grandfathering``."""

    rule: Literal["grandfathering", "benchmark"] = "grandfathering"
    base_years: BaseYears | None = Field(None, description="benchmark: the base years of activity")
    rebase_threshold: NonNegative = Field(0.075, description="benchmark: relative change of activity that re-bases")
    fallback_decline: Factor = Field(0.017, description="benchmark: yearly decline of an entity without a group")
    groups: list[str] | None = Field(
        None,
        description="benchmark: the benchmark groups allocated by benchmark (default: every group); "
        "the others fall back to the yearly decline",
    )


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
    min_base_t: NonNegative | None = Field(None, description="smallest base-year emissions covered, t/yr (inclusive)")
    max_base_t: NonNegative | None = Field(None, description="largest base-year emissions covered, t/yr (inclusive)")

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
    compliance_factor: dict[str, dict[str, Factor]] = Field(
        default_factory=dict,
        description="period -> category -> reduction factor in [0, 1); "
        "a category missing from a period falls back to 'general'",
    )
    top_level_multiplier: dict[str, Multiplier] = Field(
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
        None,
        ge=1.0,
        examples=[1.3],
        description="a shortfall is added x this to the next period's obligation (Tokyo: 1.3)",
    )
    fine_jpy: NonNegative = Field(500_000.0, description="fine per non-compliant entity and period (reported)")
    final_shortfall_price_jpy_per_t: float | None = Field(
        None,
        description="last period: the administrator buys allowances for an entity's shortfall at "
        "this price (in the last year's money); None = no shortfall allowed in the last period",
    )
    trading_from_year: int = Field(
        1, ge=1, description="allowances can be traded from this year of each period on (Tokyo: 2)"
    )
    price_floor: PriceFloor | None = None
    price_ceiling: PriceCeiling | None = None
    floor_volume_limit_t: NonNegative | None = Field(
        None, description="most allowances withdrawn at the price floor per year, t (None: no limit)"
    )
    ceiling_volume_limit_t: NonNegative | None = Field(
        None, description="most allowances sold at the price ceiling per year, t (None: no limit)"
    )
    reserve: ReserveConfig | None = Field(
        None, description="allowance reserves: tranches released or withheld at trigger prices"
    )
    external: ExternalLink | None = None
    auction_share: dict[str, AuctionShare] = Field(
        default_factory=dict,
        description="period -> share of the cap auctioned instead of given free; or sector (or benchmark "
        "group) -> { fiscal year = share } (each share holds from its year until the next listed one)",
    )


class LinkConfig(_Strict):
    """Allowance trade between two markets (the 2009 proposal: none)."""

    mode: Literal["none", "full", "limited"] = Field("none", description="none (the proposal), full or limited")
    ratio: float = Field(1.0, gt=0.0, description="regional allowances per national allowance (exchange rate)")
    limit_share: NonNegative = Field(
        0.1, description="limited: per period at most this share of the receiving market's cap"
    )
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
    marginal_grid_factor: NonNegative = Field(
        1.0, description="t avoided at power plants per t of electricity emissions saved by users"
    )
    markets: tuple[str, str] = Field(
        ("national", "regional"), strict=False, description="the (power supplier, electricity user) markets"
    )
    power_sector_prefix: str = Field(
        "power", description="entities of the supplier market whose sector starts with this are power suppliers"
    )


class ForesightConfig(_Strict):
    """How far ahead the market plans its banking (default: the whole horizon, perfect foresight)."""

    horizon_periods: int | None = Field(
        None,
        ge=1,
        description="rolling horizon: solve periods p..p+k-1 with the bank carried in and the bank left at the "
        "window's end worth nothing, keep period p, move one period on; none = perfect foresight",
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
    discount_rate: float = Field(0.03, ge=0.0, lt=1.0, description="real discount rate per year")
    periods: list[Period]
    markets: dict[str, MarketConfig]
    link: LinkConfig = Field(default_factory=LinkConfig)
    overlap: OverlapConfig = Field(default_factory=OverlapConfig)
    foresight: ForesightConfig = Field(default_factory=ForesightConfig)
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
