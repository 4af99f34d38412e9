"""Solver output -> the results :class:`xarray.Dataset`, the source of truth of a run.

Dimensions: ``entity`` (entity ids), ``market`` (scenario market keys), ``year`` (integer fiscal
years), ``period`` (period names), and ``sector`` / ``prefecture`` / ``administrator`` for the
aggregates. The entity attributes are coordinates on ``entity`` named ``entity_market``,
``entity_sector``, ``entity_prefecture`` and ``entity_administrator`` (prefixed because
``market``, ``sector``, ... are already dimension names; ``ds.groupby("entity_sector")`` works).

The cost account (:data:`COST_ACCOUNT`, README "Cost account"): ``account_<item>`` per market and
period, present value, from the abatement and each rule's ``account_pv``; ``total_cost`` (the
resource items) and ``net_cost_covered`` (every item with its sign). The items in the objective,
with their signs, add up to ``objective_jpy`` (:func:`objective_from_account`).

Every variable carries ``long_name``, ``units``, ``description`` and, in JPY, ``money``
attributes (:mod:`.conventions`); the Dataset attributes carry the scenario name, the resolved configuration (JSON), the versions of nationcap, Pyomo, highspy and
Python, the engine, nationcap's termination status (``termination``) with the solver's own label
(``termination_detail``), the engine's statistics (``solver_info``), the objective value and
the fingerprints of the input files (``dataset_sha256``, ``inputs_sha256``).
"""

from __future__ import annotations

import functools
import json
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from ..derive.coverage import counted_electricity_share, coverage_table
from ..engines.base import SolveResult
from ..inputs import dataset_fingerprint, input_fingerprints
from ..model.data import ModelData
from ..model.registry import ABATEMENT, BANK, EXPIRED, NET_PURCHASE
from ..model.rules import RULES
from ..model.rules.base import AccountItem, ReportContext, present_value_money, variable_attrs
from ..vocab import index_coords
from .aggregates import _SameArrays, aggregates, coverage_basis, entity_year_cells, uncovered_results
from .assembly import Item, Stage, assemble
from .conventions import apply_conventions
from .mac import MAC_POINTS, mac_curves
from .prices import price_interval_pv, year_prices

#: the results' coordinates, kept for the same entity array (:class:`.aggregates._SameArrays`)
_KEPT = _SameArrays()


def _da(
    values: Any,
    dims: tuple[str, ...],
    coords: Any,
    units: str,
    description: str,
    money: str | None = None,
    long_name: str | None = None,
) -> Item:
    """A results variable with its attributes (as :func:`nationcap.vocab.data_array` makes it,
    laid out by :func:`.assembly.assemble`; ``coords`` is where its dimensions' coordinates are)."""
    return Item(dims, values, variable_attrs(units, description, money, long_name))


@functools.cache
def versions() -> dict[str, str]:
    """Versions of nationcap and its solver stack, read from package metadata (nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    def _v(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:  # pragma: no cover - not installed
            return "not installed"

    return {  # the same for every run of a process (cached: read from the installed files)
        "nationcap_version": __version__,
        "pyomo_version": _v("pyomo"),
        "highspy_version": _v("highspy"),
        "python_version": platform.python_version(),
    }


#: the core's item of the cost account (the abatement the MAC steps cost); each program rule
#: declares its own items next to its math (its ``ACCOUNT``, :class:`~nationcap.model.rules.base.AccountItem`)
ABATEMENT_ITEM = AccountItem("abatement", "abatement cost of the MAC steps taken", 1, "resource", True)

#: the cost account, in order (the core's item, then the rules' in the order of
#: :data:`~nationcap.model.rules.RULES`): every amount of money the model moves, per market and
#: period. The resource items add up to ``total_cost``; all items with their signs to
#: ``net_cost_covered``; the items in the objective with their signs to the LP's objective
#: (``objective_jpy``).
COST_ACCOUNT: tuple[AccountItem, ...] = (ABATEMENT_ITEM, *(item for rule in RULES for item in rule.ACCOUNT))
ACCOUNT_KEYS = tuple(item.key for item in COST_ACCOUNT)


def _add_account(account: dict[str, np.ndarray], rule: Any, items: dict[str, np.ndarray]) -> None:
    """Add one rule's ``account_pv`` to the market x period sums; an item the rule does not
    declare (its ``ACCOUNT``), a wrong shape or a negative amount is a bug of the rule."""
    own = tuple(item.key for item in rule.ACCOUNT)
    for key, amount in items.items():
        if key not in own:
            raise ValueError(
                f"rule {rule.NAME!r} reports the cost account item {key!r}, which it does not declare ({own})"
            )
        amount = np.asarray(amount, dtype=float)
        if amount.shape != account[key].shape:
            raise ValueError(
                f"rule {rule.NAME!r}: account item {key!r} has shape {amount.shape}, not {account[key].shape}"
            )
        if (amount < -1e-6).any():
            raise ValueError(f"rule {rule.NAME!r}: account item {key!r} has a negative amount {amount.min()}")
        account[key] += np.maximum(amount, 0.0)


def objective_from_account(res: xr.Dataset) -> float:
    """The LP's objective (JPY) as the account states it: the sum over markets and periods of the
    items in the objective, with their signs (README "Cost account"). Equals ``objective_jpy``."""
    return float(sum(item.sign * float(res[item.variable].sum()) for item in COST_ACCOUNT if item.in_objective))


#: results detail: "full" (a single run: every variable, per entity too) or "market" (a batch
#: member: no variable along ``entity``; the sums by market and sector, prefecture and
#: administrator stay, and what the batch summaries, plots and IAMC export read is there)
DETAILS = ("full", "market")


def build_results(
    md: ModelData, sr: SolveResult, timings: dict[str, float], detail: str = "full", mac_curve: bool = True
) -> xr.Dataset:
    """The results Dataset of one solve (module doc); ``detail`` and ``mac_curve`` as in
    :data:`DETAILS` and :mod:`.mac` (a Monte Carlo member stores no MAC curve)."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, got {detail!r}")
    ds = assemble(*result_stages(md, sr, detail, mac_curve))
    ds.attrs.update(_run_attributes(md, sr, timings))
    return apply_conventions(ds)


def result_stages(
    md: ModelData, sr: SolveResult, detail: str = "full", mac_curve: bool = True
) -> tuple[list[Stage], dict[str, xr.DataArray]]:
    """The variables of the results Dataset of one solve, as the stages
    :func:`.assembly.assemble` puts together, and the dimension coordinates they lie on."""
    full = detail == "full"
    q = _solved(md, sr)
    coords = dict(q.coords)
    main: dict[str, Item | xr.DataArray] = {
        **_price_results(md, q),
        **_market_results(md, sr, q),
        **_account_results(md, q),
        **(_entity_results(md, q) if full else {}),
        **{k: v for k, v in q.rule_variables.items() if full or "entity" not in v.dims},
        **_coverage_results(md, q.emissions, coords),
        **(_mac_curve_results(md, coords, q.pv) if mac_curve else {}),
    }
    stages = [Stage("arrays", main)]
    if full:
        stages.append(Stage("labels", _entity_labels(md.dataset.entities)))
    by_group = aggregates(md, q.per_entity(md), q.pv)
    stages.append(by_group)
    for name, coord in by_group.coords.items():
        coords.setdefault(name, coord)
    if md.scope is not None and md.scope.active:
        stages.append(Stage("arrays", uncovered_results(md, coords)))
    return stages, coords


@dataclass
class _Solved:
    """The numbers every group of results is made of: one solve's prices, what the program rules
    report, the sums per entity and the cost account."""

    coords: dict[str, xr.DataArray]
    pv: str  #: the ``money`` attribute of present values
    price_low_pv: np.ndarray  #: market x period, the lower end of the interval of clearing prices
    price_high_pv: np.ndarray
    rule_variables: dict[str, Item | xr.DataArray]  #: the base-year variables and every rule's own
    abatement: np.ndarray  #: entity x year, t
    abatement_cost: np.ndarray  #: entity x year, JPY in each year's money
    emissions: np.ndarray  #: entity x year, t
    net_purchase: np.ndarray  #: entity x period, t
    compliance_cost: np.ndarray  #: entity x period, JPY present value
    account: dict[str, np.ndarray]  #: item key of :data:`COST_ACCOUNT` -> market x period, JPY present value

    def per_entity(self, md: ModelData) -> dict[str, np.ndarray]:
        """The entity arrays that :func:`.aggregates.aggregates` sums by group."""
        return {
            "bau_emissions": md.bau_t,
            "emissions": self.emissions,
            "abatement": self.abatement,
            "abatement_cost": self.abatement_cost,
            "net_purchase": self.net_purchase,
            "compliance_cost": self.compliance_cost,
        }


def _solved(md: ModelData, sr: SolveResult) -> _Solved:
    """Prices, the rules' reports, sums per entity and year, PV compliance cost per entity and the
    cost account (the order of every sum is that of the solve's columns, for byte-stable results)."""
    n_e, n_y, n_p = md.n_entities, len(md.years), len(md.periods)
    coords = _coords(md)
    # the price is the lower end of the interval of clearing prices, on every engine (prices.py)
    price_low_pv, price_high_pv = price_interval_pv(md, sr)
    price_pv = price_low_pv
    em = md.entity_market

    variables, entity_extra, account, reduction = _rule_reports(md, sr, coords, price_pv)

    # entity x year: sums per (entity, year) with one weighted bincount (the same order of additions as np.add.at,
    # so the same sums, but an order of magnitude faster over ~10^6 columns)
    abate_t = sr.values[ABATEMENT]
    cell = entity_year_cells(md)
    abate = np.bincount(cell, weights=abate_t, minlength=n_e * n_y).reshape(n_e, n_y)
    acost = np.bincount(cell, weights=abate_t * md.col_cost, minlength=n_e * n_y).reshape(n_e, n_y)
    emissions = md.bau_t - abate - reduction

    # PV compliance cost: PV abatement cost + allowances bought at the PV price of the period
    # (+ what the rules add: offset credits at their PV price, last-period shortfall purchases)
    net_purchase = sr.values[NET_PURCHASE].reshape(n_e, n_p)
    acost_pv = acost * md.discount[None, :]
    comp = entity_extra
    for p in range(n_p):
        comp[:, p] += acost_pv[:, md.period_years(p)].sum(axis=1) + net_purchase[:, p] * price_pv[em, p]
    for p in range(n_p):  # bincount: the same additions in the same order as np.add.at, faster
        account["abatement"][:, p] += np.bincount(
            em, weights=acost_pv[:, md.period_years(p)].sum(axis=1), minlength=account["abatement"].shape[0]
        )
    return _Solved(
        coords=coords,
        pv=present_value_money(md.scenario.first_year),
        price_low_pv=price_low_pv,
        price_high_pv=price_high_pv,
        rule_variables=variables,
        abatement=abate,
        abatement_cost=acost,
        emissions=emissions,
        net_purchase=net_purchase,
        compliance_cost=comp,
        account=account,
    )


def _coords(md: ModelData) -> dict[str, xr.DataArray]:
    """The results' entity, market, year and period coordinates, their indexes built once per
    dataset and content (:func:`~nationcap.vocab.index_coords`, :meth:`Dataset.memo
    <nationcap.inputs.tables.Dataset.memo>`): Monte Carlo draws and variants share them (and keep
    them for the same entity array, without reading its labels again)."""

    def make() -> dict[str, xr.DataArray]:
        values = {
            "entity": md.entities.astype(str),
            "market": np.array(md.markets, dtype=str),
            "year": np.array(md.years, dtype=np.int64),
            "period": np.array(md.periods, dtype=str),
        }
        key = ("results coordinates", *((k, v.dtype.str, v.tobytes()) for k, v in values.items()))
        return dict(md.dataset.memo(key, lambda: index_coords(values)))

    content = ("results coordinates", tuple(md.markets), tuple(md.years), tuple(md.periods))
    return dict(_KEPT.get((md.entities, md.dataset), content, make))


def _rule_reports(
    md: ModelData, sr: SolveResult, coords: dict[str, Any], price_pv: np.ndarray
) -> tuple[dict[str, Item | xr.DataArray], np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """What each program rule reports: its variables (after the base-year ones), its PV cost per
    entity and period, its items of the cost account, and the emissions it removes per entity and
    year (summed over the rules, in the order of :data:`RULES`)."""
    n_e, n_y, n_p, n_m = md.n_entities, len(md.years), len(md.periods), len(md.markets)
    ctx = ReportContext(md, sr, coords, price_pv)
    variables: dict[str, Item | xr.DataArray] = {
        "base_emissions": _da(
            md.base_t, ("entity",), coords, "t", "base-year emissions used for the allocation (per year)"
        ),
        "base_year_first": _da(
            md.base_first_year,
            ("entity",),
            coords,
            "",
            "first fiscal year of the 3-year base window chosen from history (-1: from entities.csv)",
        ),
    }
    entity_extra = np.zeros((n_e, n_p))
    account = {key: np.zeros((n_m, n_p)) for key in ACCOUNT_KEYS}
    reduction = np.zeros((n_e, n_y))
    for rule in RULES:
        rep = rule.report(ctx)
        variables.update(rep.variables)
        if rep.entity_cost_pv is not None:
            entity_extra += rep.entity_cost_pv
        _add_account(account, rule, rep.account_pv)
        if rep.emissions_reduction_t is not None:
            reduction += rep.emissions_reduction_t
    return variables, entity_extra, account, reduction


def _price_results(md: ModelData, q: _Solved) -> dict[str, Item]:
    """Clearing prices per market, in each year's money and in present value, with their interval."""
    coords, pv = q.coords, q.pv
    price = year_prices(md, q.price_low_pv)
    return {
        "price": _da(
            price,
            ("market", "year"),
            coords,
            "JPY/t",
            "allowance clearing price in each year's money (PV price of the period / discount factor of the "
            "year); the lower end of price_low..price_high where the clearing price is not unique",
        ),
        "price_pv": _da(
            q.price_low_pv,
            ("market", "period"),
            coords,
            "JPY/t",
            "allowance price of the period in first-model-year money (the dual of market clearing; the lower "
            "end of price_low_pv..price_high_pv where it is not unique)",
            money=pv,
        ),
        "price_low": _da(
            price,
            ("market", "year"),
            coords,
            "JPY/t",
            "least clearing price in each year's money: the lowest price consistent with the optimum "
            "(equals price_high where the price is unique)",
        ),
        "price_high": _da(
            year_prices(md, q.price_high_pv),
            ("market", "year"),
            coords,
            "JPY/t",
            "greatest clearing price in each year's money: the highest price consistent with the optimum, "
            "e.g. the next abatement step's cost when the requirement lies exactly on a step boundary "
            "(inf: not one more tonne could be met)",
        ),
        "price_low_pv": _da(
            q.price_low_pv,
            ("market", "period"),
            coords,
            "JPY/t",
            "least clearing price of the period in first-model-year money (the least optimal dual of market clearing)",
            money=pv,
        ),
        "price_high_pv": _da(
            q.price_high_pv,
            ("market", "period"),
            coords,
            "JPY/t",
            "greatest clearing price of the period in first-model-year money (the greatest optimal dual of "
            "market clearing)",
            money=pv,
        ),
    }


def _market_results(md: ModelData, sr: SolveResult, q: _Solved) -> dict[str, Item]:
    """Per market and period: the cap, the emissions, the bank and the allowances that lapsed."""
    n_m, n_p = len(md.markets), len(md.periods)
    coords = q.coords
    bank = sr.values[BANK].reshape(n_m, n_p)
    expired = np.zeros((n_m, n_p))
    if len(sr.values.get(EXPIRED, ())):
        for k, (a, p) in enumerate(md.expire_index()):
            expired[a, p] = sr.values[EXPIRED][k]
    market_em = np.zeros((n_m, n_p))
    for p in range(n_p):  # bincount: the same additions in the same order as np.add.at, faster
        market_em[:, p] += np.bincount(
            md.entity_market, weights=q.emissions[:, md.period_years(p)].sum(axis=1), minlength=n_m
        )
    return {
        "cap": _da(
            md.cap_t(), ("market", "period"), coords, "t", "cap: sum of the market's allocations for the period"
        ),
        "market_emissions": _da(
            market_em, ("market", "period"), coords, "t", "emissions of the market's entities over the period"
        ),
        "bank": _da(
            bank, ("market", "period"), coords, "t", "allowances banked at the end of the period (negative = borrowed)"
        ),
        "expired": _da(
            expired,
            ("market", "period"),
            coords,
            "t",
            "unused allowances that lapsed at the end of the period (banking off)",
        ),
    }


def _account_results(md: ModelData, q: _Solved) -> dict[str, Item]:
    """The cost account: ``account_<item>`` (market, period) of every item of :data:`COST_ACCOUNT`,
    with its sign, kind and whether the objective holds it as attributes; ``total_cost`` (the
    resource items), ``net_cost_covered`` (every item with its sign) and ``cost_per_t_abated``."""
    coords, pv, account = q.coords, q.pv, q.account
    out = {}
    for item in COST_ACCOUNT:
        da = _da(account[item.key], ("market", "period"), coords, "JPY", item.description, money=pv)
        da.attrs.update(
            account_sign=item.sign, account_kind=item.kind, in_objective="yes" if item.in_objective else "no"
        )
        out[item.variable] = da
    total_cost = sum(account[i.key] for i in COST_ACCOUNT if i.kind == "resource")
    net_cost = sum(i.sign * account[i.key] for i in COST_ACCOUNT)
    abated_t = np.bincount(md.entity_market, weights=q.abatement.sum(axis=1), minlength=len(coords["market"]))
    return {
        **out,
        "total_cost": _da(
            total_cost,
            ("market", "period"),
            coords,
            "JPY",
            "resource cost of the market in the period: abatement, offset credits bought and foreign allowances "
            "imported (the account's resource items)",
            money=pv,
        ),
        "net_cost_covered": _da(
            net_cost,
            ("market", "period"),
            coords,
            "JPY",
            "net cost to the market's covered entities in the period: total_cost plus what they pay the "
            "administrator (ceiling, reserve releases, auctions, last-period shortfalls) minus what it pays them "
            "(floor, reserve withholding)",
            money=pv,
        ),
        "cost_per_t_abated": _da(
            _per_tonne(np.asarray(total_cost).sum(axis=1), abated_t),
            ("market",),
            coords,
            "JPY/t",
            "total_cost over all periods divided by the abatement over all years (NaN without abatement): "
            "the average cost of a tonne abated",
            money=pv,
        ),
    }


def _entity_results(md: ModelData, q: _Solved) -> dict[str, Item]:
    """Per entity (a single run's ``full`` detail): emissions, abatement and its cost per year;
    allocation, net purchases and PV compliance cost per period."""
    coords = q.coords
    return {
        "bau_emissions": _da(md.bau_t, ("entity", "year"), coords, "t", "business-as-usual emissions"),
        "emissions": _da(q.emissions, ("entity", "year"), coords, "t", "emissions after abatement"),
        "abatement": _da(q.abatement, ("entity", "year"), coords, "t", "abatement from MAC steps"),
        "abatement_cost": _da(
            q.abatement_cost, ("entity", "year"), coords, "JPY", "abatement cost in that year's money"
        ),
        "allocation": _da(md.alloc_t, ("entity", "period"), coords, "t", "free allocation for the period"),
        "net_purchase": _da(
            q.net_purchase,
            ("entity", "period"),
            coords,
            "t",
            "allowances bought minus sold in the period (positive = bought, negative = sold)",
        ),
        "compliance_cost": _da(
            q.compliance_cost,
            ("entity", "period"),
            coords,
            "JPY",
            "abatement cost plus the value of allowances bought minus sold at the clearing price (who bears what)",
            money=q.pv,
        ),
    }


def _entity_labels(ent: pd.DataFrame) -> dict[str, Item]:
    """The entity attributes as coordinates on ``entity`` (``entity_market``, ``entity_sector``, ...);
    labels: no units (netCDF conventions)."""
    return {
        f"entity_{column}": Item(("entity",), ent[column].to_numpy().astype(str), {"description": desc})
        for column, desc in [
            ("market", "market of the entity"),
            ("sector", "sector of the entity"),
            ("prefecture", "prefecture of the entity"),
            ("administrator", "administrator of the entity"),
        ]
    }


def _run_attributes(md: ModelData, sr: SolveResult, timings: dict[str, float]) -> dict[str, Any]:
    """The Dataset attributes: what was run, how the solve ended, versions and input fingerprints."""
    scn = md.scenario
    return {
        "scenario": scn.name,
        "description": scn.description,
        "dataset": md.dataset.name,
        "config": (md.scope.source if md.scope is not None else scn).resolved_json(),
        "first_year": scn.first_year,
        "termination": sr.status.value,
        "termination_detail": sr.detail,
        "engine": sr.engine,
        "objective_jpy": sr.objective_jpy,
        "solve_time_s": sr.solve_time_s,
        "solver_info": json.dumps(sr.info, sort_keys=True),
        "timings_s": json.dumps({k: round(v, 4) for k, v in timings.items()}, sort_keys=True),
        **versions(),
        **provenance(md),
    }


def _per_tonne(cost_jpy: np.ndarray, tonnes: np.ndarray) -> np.ndarray:
    """``cost / tonnes`` where tonnes > 0, else NaN (no abatement: no cost per tonne)."""
    out = np.full(cost_jpy.shape, np.nan)
    np.divide(cost_jpy, tonnes, out=out, where=tonnes > 0)
    return out


def provenance(md: ModelData) -> dict[str, str]:
    """What the results were computed from: the dataset folder's fingerprint (``dataset_sha256``)
    and the sha256 of every input file (``inputs_sha256``, JSON), see :mod:`.conventions`."""
    return {
        "dataset_sha256": dataset_fingerprint(md.dataset.path),
        "inputs_sha256": json.dumps(input_fingerprints(md.dataset.path, md.scenario.source), sort_keys=True),
    }


def _coverage_results(md: ModelData, emissions: np.ndarray, coords: dict) -> dict[str, Item]:
    """Double-counted electricity tonnes and coverage of national CO2 (BAU basis; the BAU-only
    part made once per BAU array, :func:`.aggregates.coverage_basis`)."""
    n_p = len(md.periods)
    es, cov = coverage_basis(md, _coverage)
    dc = np.array([(emissions[:, md.period_years(p)] * es[:, None]).sum() for p in range(n_p)])
    share = np.array([cov[f"share_{m}"].to_numpy() for m in md.markets])
    return {
        "double_counted": _da(
            dc,
            ("period",),
            coords,
            "t",
            "purchased-electricity emissions of entities (electricity_share x emissions), also emitted by power plants",
        ),
        "coverage_share": _da(
            share, ("market", "year"), coords, "1", "BAU emissions of the market / national CO2 (dataset.toml)"
        ),
        "double_counted_share": _da(
            cov["share_double_counted"].to_numpy(),
            ("year",),
            coords,
            "1",
            "BAU electricity emissions counted in two programs / national CO2",
        ),
        "combined_coverage_share": _da(
            cov["share_combined"].to_numpy(),
            ("year",),
            coords,
            "1",
            "share of national CO2 covered by the programs together, without double counting (proposal: >= 0.60)",
        ),
    }


def _coverage(md: ModelData) -> tuple[np.ndarray, pd.DataFrame]:
    """(counted electricity share per entity, coverage table of BAU): what coverage depends on
    besides the emissions of the solve."""
    es = counted_electricity_share(md.scenario, md.dataset).to_numpy(dtype=float)
    cov = coverage_table(md.scenario, md.dataset, pd.DataFrame(md.bau_t, index=md.entities, columns=md.years))
    return es, cov


def _mac_curve_results(md: ModelData, coords: dict, pv: str) -> dict[str, Item]:
    """The merit-order curve of each market and period, compressed (:mod:`.mac`): what the MAC plot
    draws; adds its ``mac_point`` coordinate to ``coords``."""
    cost, cum = mac_curves(md)
    coords.update(index_coords({"mac_point": np.arange(cost.shape[2], dtype=np.int64)}))
    dims = ("market", "period", "mac_point")
    how = (
        f"compressed to at most {MAC_POINTS} exact points of the staircase (first and last step always "
        "kept; see nationcap/results/mac.py)"
    )
    return {
        "mac_curve_cost_pv": _da(
            cost,
            dims,
            coords,
            "JPY/t",
            "cost of the MAC step at this point of the market's merit-order curve for the period (steps of all "
            f"its entities and years sorted by present-value cost); {how}",
            money=pv,
        ),
        "mac_curve_quantity": _da(
            cum,
            dims,
            coords,
            "t",
            "cumulative abatement of the merit-order curve up to and including this point (sum over the period's "
            f"years; the last point is the total of all steps); {how}",
        ),
    }
