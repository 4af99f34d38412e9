"""What every program rule module provides, and the small types its hooks exchange.

A rule module (``model/rules/<rule>.py``) owns one program rule from end to end:

``NAME``
    the rule's key in :attr:`ModelData.rule_data <nationcap.model.data.ModelData.rule_data>`
``STAGE``
    ``"entity"`` (it adds terms to entity compliance rows) or ``"pool"`` (to market pool rows);
    :func:`nationcap.model.build.build_model` builds each stage's rules before the shared rows
``active(scenario) -> bool``
    whether the scenario switches the rule on (a rule that is off adds nothing anywhere)
``prepare(md)``
    its slice of :class:`~nationcap.model.data.ModelData`, from the scenario and the tables
``build(m, md, reg)``
    its Pyomo variables and rows, and the terms it registers (:mod:`nationcap.model.registry`)
``report(ctx) -> RuleReport``
    its result variables, from any engine's solution (values and duals by concept name), what it
    adds to entity costs and emissions, and its items of the cost account (``account_pv``)
``summary(res) -> list[str]``
    its lines in the run summary (nothing when it is off)

where the rule has per-entity columns that the compact formulation sums per market,
``expand(md, values)`` (split a compact solution's market totals back among the entities) and
``entity_terms(md, values) -> (E*P,) array`` (what the rule adds to each entity's compliance row,
t; net purchases are computed from it), and, where it has something to add,
``montecarlo(res) -> dict`` (per-draw statistics of a Monte
Carlo batch). A rule is registered by one line in :data:`nationcap.model.rules.RULES`.

What a rule declares about itself, next to its math (the typed protocol :class:`Rule` and the
optional hooks below; nothing outside the rule's module lists these facts):

``ACCOUNT``
    its items of the cost account (:class:`AccountItem`: key, sign, kind, whether the LP's
    objective holds it), which its ``report`` fills through ``RuleReport.account_pv``
``COORDS``
    the coordinates its results add, with their attributes (a reserve's ``tranche``, a link's
    ``direction``): optional, merged into :data:`nationcap.results.conventions.COORDINATES`
``allocation_dependence(scenario) -> str | None``
    None when its parameters do not depend on the allocation (so a held model may be re-solved
    in place for an allocation variant, :mod:`nationcap.model.variants`), else why they do; a
    rule without the hook forces a rebuild
``feasibility(md) -> Feasibility``
    the most it can add to each market's pool (:class:`Supply`), the markets it lets fall below
    a zero bank before the last period, and the markets it pools (a link): what the pre-solve
    diagnosis (:mod:`nationcap.engines.feasibility`) counts; with ``notes`` and ``hints`` per
    market, what its message says about the rule there (why it brings nothing, which of its keys
    to change); a rule without the hook makes the diagnosis refuse nothing while it is on
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import xarray as xr

from ...vocab import EACH_YEARS_MONEY as EACH_YEARS_MONEY  # re-exported: the rules' vocabulary
from ...vocab import data_array as data_array
from ...vocab import present_value_money as present_value_money
from ...vocab import variable_attrs as variable_attrs
from ..data import ModelData

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from ...config import Scenario
    from ..registry import Registry


class Solution(Protocol):
    """What a rule's report reads of a solve (an engine's SolveResult satisfies this)."""

    @property
    def values(self) -> Mapping[str, np.ndarray]: ...

    @property
    def duals(self) -> Mapping[str, np.ndarray]: ...


@dataclass
class ReportContext:
    """Everything a rule's ``report`` hook may use."""

    md: ModelData
    solution: Solution
    coords: dict[str, Any]  # dimension coordinates (vocab.index_coords), passed to data_array
    price_pv: np.ndarray  # (M, P) present-value allowance prices, JPY/t

    @property
    def pv_units(self) -> str:
        """Units and money of a present-value amount (split by :func:`variable_attrs`)."""
        return f"JPY, {present_value_money(self.md.scenario.first_year)}"

    @property
    def pv_price_units(self) -> str:
        """Units and money of a present-value price (split by :func:`variable_attrs`)."""
        return f"JPY/t, {present_value_money(self.md.scenario.first_year)}"


@dataclass
class RuleReport:
    """A rule's result variables and what it adds to the core cost and emission results."""

    variables: dict[str, xr.DataArray] = field(default_factory=dict)
    #: (E, P) added to each entity's compliance cost, JPY present value
    entity_cost_pv: np.ndarray | None = None
    #: (E, Y) emissions avoided outside the entity's own abatement, t
    emissions_reduction_t: np.ndarray | None = None
    #: the rule's items of the cost account: item key -> (M, P) non-negative amounts, JPY present
    #: value, per market and period. The keys, what each means, its sign (paid or received by the
    #: covered entities) and whether the LP's objective holds it are the table
    #: :data:`nationcap.results.build.COST_ACCOUNT`; a key no rule reports is zero
    account_pv: dict[str, np.ndarray] = field(default_factory=dict)


def rounded(values: Any, decimals: int) -> Any:
    """``values.round(decimals)`` (a pandas object or a float) with -0.0 made 0.0, for summaries:
    a tiny negative (a solver's rounding) must not print as "-0.0"."""
    return (values.round(decimals) if hasattr(values, "round") else round(values, decimals)) + 0.0


def fill_in_order(total: float, bounds: np.ndarray) -> np.ndarray:
    """Split ``total`` among columns with upper ``bounds`` (inf allowed), filling them in order.

    The tie rule of the compact formulation for a rule column that every entity of a market has
    with the same coefficients (their sum is one column whose bound is the sum of theirs): the
    split among entities is not unique, and this one is what an LP vertex gives, every entity at
    a bound but at most one. ``total`` beyond the sum of the bounds is a caller's error.
    """
    out = np.zeros(len(bounds))
    rest = max(float(total), 0.0)
    for i, b in enumerate(bounds):
        if rest <= 0.0:
            break
        take = min(rest, float(b))
        out[i] = take
        rest -= take
    return out


def period_lengths(md: ModelData) -> np.ndarray:
    """(P,) the number of years of each period."""
    return np.array([len(md.period_years(p)) for p in range(len(md.periods))], dtype=float)


def markets_config(res: xr.Dataset) -> dict[str, dict[str, Any]]:
    """The per-market configuration stored with a results Dataset."""
    return json.loads(res.attrs["config"])["markets"]


def markets_with(res: xr.Dataset, key: str) -> list[str]:
    """Markets of a results Dataset whose configuration switches ``key`` on."""
    return [m for m, c in markets_config(res).items() if c.get(key) not in (None, {}, False)]


@dataclass(frozen=True)
class AccountItem:
    """One item of the cost account (README "Cost account"): ``account_<key>`` per market and
    period, in present value, never negative except abatement."""

    key: str  #: the key in :attr:`RuleReport.account_pv`
    description: str
    sign: int  #: +1: the market's covered entities pay it; -1: they receive it
    kind: Literal["resource", "transfer"]  #: tonnes from outside the pool, or money with the administrator
    in_objective: bool  #: whether the LP's objective holds it

    @property
    def variable(self) -> str:
        """Its results variable: ``account_<key>``."""
        return f"account_{self.key}"

    @property
    def iamc(self) -> str:
        """Its name in IAMC variables (``Cost Account (Present Value)|<name>|<Program>``)."""
        return self.key.replace("_", " ").title()


@dataclass(frozen=True)
class Supply:
    """The most a rule can add to one market's pool, or take off its entities' needs, per period."""

    market: int  #: index in ``md.markets``
    label: str  #: what it is, for the diagnosis's message ("offsets offered")
    t: np.ndarray  #: (P,) t; may be inf
    #: arrives over a link: counted for the market alone, not for the linked pair pooled
    via_link: bool = False


@dataclass
class Feasibility:
    """What a rule adds to the relaxations of the pre-solve diagnosis."""

    supply: list[Supply] = field(default_factory=list)
    #: markets whose pool may fall below zero before the last period (as if borrowing)
    borrowing: set[int] = field(default_factory=set)
    #: pairs (national, regional, ratio) whose pools are checked together, in national units
    pools: list[tuple[int, int, float]] = field(default_factory=list)
    #: for the diagnosis's message when a market (index) cannot be met: why the rule brings it
    #: nothing ("the link's direction ... lets no allowances into ...") and which of its keys to
    #: change ("raise link.limit_share ..."), in the rule's own words
    notes: dict[int, list[str]] = field(default_factory=dict)
    hints: dict[int, list[str]] = field(default_factory=dict)


class Rule(Protocol):
    """What every rule module provides (the optional hooks are listed in the module doc)."""

    @property
    def NAME(self) -> str: ...  # module constants: read-only here

    @property
    def STAGE(self) -> str: ...

    @property
    def ACCOUNT(self) -> tuple[AccountItem, ...]: ...

    def active(self, scn: Scenario) -> bool: ...

    def prepare(self, md: ModelData) -> None: ...

    def build(self, m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None: ...

    def report(self, ctx: ReportContext) -> RuleReport: ...

    def summary(self, res: xr.Dataset) -> list[str]: ...
