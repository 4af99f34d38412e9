r"""The electricity overlap between the programs: ``[overlap] electricity = "fixed" | "coupled"``.

Regional installations count purchased electricity at the user (``electricity_share`` x their
emissions); the same tonnes are emitted by national power suppliers. Those tonnes are reported
as double counted in every run (:mod:`nationcap.results.build`).

``fixed`` (default, Tokyo's practice: the grid factor is fixed for the period): the markets do not
interact and this module adds nothing.

``coupled``: electricity saved by the user market's abatement lowers the power suppliers'
emissions. Assumption: an installation's abatement cuts electricity and fuel in proportion to
its ``electricity_share``. A user market with ``emissions_basis = "direct"`` counts no purchased
electricity (its BAU and abatement are the direct part only), so it saves none: the coupling adds
nothing for it, and nothing is double counted between it and the suppliers.

Sets
    U      abatement columns of user-market entities (entity i, year y)
    W      power suppliers: supplier-market entities whose sector starts with
           ``power_sector_prefix`` ("power")

Variables
    ElecSaved[y]   electricity emissions saved by users in year y, Mt, >= 0

Constraints
    ElecSavedDef[y]::  ElecSaved[y] - sum_{j in U, y(j) = y} electricity_share[i(j)] * Abate[j] = 0

Registered terms (the spreading rule: pro rata to each supplier's BAU in that year)
    EntityCompliance[w, p] += sum_{y in p} g * BAU[w, y] / sum_{v in W} BAU[v, y] * ElecSaved[y]

with ``g = marginal_grid_factor``: supplier w's emissions fall by its share of the saved
tonnes, so it needs fewer allowances. A tighter regional cap means more regional abatement, more
electricity saved and a lower national price (the waterbed effect); results report the tonnes
(``grid_reduction``) so its size can be compared across runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ...config import Scenario
from ..data import ModelData
from ..registry import Registry
from .base import AccountItem, Feasibility, ReportContext, RuleReport, Supply, data_array, rounded

if TYPE_CHECKING:
    import pyomo.environ as pyo

NAME = "overlap"
STAGE = "entity"
#: the rule's items of the cost account (README "Cost account")
ACCOUNT: tuple[AccountItem, ...] = ()  # moves no money


def active(scn: Scenario) -> bool:
    return scn.overlap.electricity == "coupled"


def allocation_dependence(scn: Scenario) -> str | None:
    """Electricity shares and the grid factor do not depend on the allocation."""
    return None


def feasibility(md: ModelData) -> Feasibility:
    """Supplier market only: at most ``g x`` the electricity share of every abatement step of the
    user market in the period (the whole saving), in years with power suppliers."""
    ov = md.scenario.overlap
    if ov.electricity != "coupled":
        return Feasibility()
    sup = md.markets.index(ov.markets[0])
    es = user_share(md)[md.col_entity]
    has_power = power_weights(md).sum(axis=0) > 0  # (Y,) years with power suppliers
    saved = es * md.col_qty_t * has_power[md.col_year]
    most = float(ov.marginal_grid_factor) * np.bincount(md.col_period, weights=saved, minlength=len(md.periods))
    return Feasibility(supply=[Supply(sup, "power-plant emissions avoided by the coupled electricity overlap", most)])


def prepare(md: ModelData) -> None:
    """Nothing to prepare: the weights are computed from BAU when the rule is built or reported."""


def power_weights(md: ModelData) -> np.ndarray:
    """(E, Y) share of each power supplier in the power suppliers' BAU of the year (0 elsewhere)."""
    ov = md.scenario.overlap
    w = np.zeros_like(md.bau_t)
    if ov.electricity != "coupled":
        return w
    sup = md.markets.index(ov.markets[0])
    sector = md.dataset.entities["sector"].to_numpy().astype(str)
    power = (md.entity_market == sup) & np.char.startswith(sector, ov.power_sector_prefix)
    total = md.bau_t[power].sum(axis=0)
    w[power] = np.divide(md.bau_t[power], total, out=np.zeros_like(md.bau_t[power]), where=total > 0)
    return w


def user_share(md: ModelData) -> np.ndarray:
    """(E,) electricity share of user-market entities, 0 for all others."""
    ov = md.scenario.overlap
    if ov.electricity != "coupled":
        return np.zeros(md.n_entities)
    user = md.markets.index(ov.markets[1])
    if md.scenario.markets[ov.markets[1]].emissions_basis == "direct":
        return np.zeros(md.n_entities)
    es = md.dataset.entities["electricity_share"].to_numpy(dtype=float)
    return np.where(md.entity_market == user, es, 0.0)


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    if md.scenario.overlap.electricity != "coupled":
        return
    import pyomo.environ as pyo

    es = user_share(md)
    w = power_weights(md)
    g = float(md.scenario.overlap.marginal_grid_factor)
    n_y, n_p = len(md.years), len(md.periods)
    cols_by_year: list[list[int]] = [[] for _ in range(n_y)]
    col_es = es[md.col_entity]
    users = col_es > 0
    held = users if reg.in_model is None else users & reg.in_model
    for j in np.flatnonzero(held):
        cols_by_year[md.col_year[j]].append(int(j))
    # user abatement fixed outside the model (sifting) saves electricity as a constant
    fixed = np.zeros(n_y)
    if reg.fixed_t is not None:
        np.add.at(fixed, md.col_year, col_es * reg.fixed_t / md.scale_t)
    m.ElecSaved = pyo.Var(range(n_y), domain=pyo.NonNegativeReals, doc="electricity emissions saved by users [Mt]")

    def rule(_m, y):
        saved = pyo.quicksum(float(col_es[j]) * _m.Abate[j] for j in cols_by_year[y])
        return _m.ElecSaved[y] - saved == float(fixed[y])

    m.ElecSavedDef = pyo.Constraint(
        range(n_y), rule=rule, doc="electricity saved = electricity share x user abatement [Mt]"
    )
    for e in np.flatnonzero(w.sum(axis=1) > 0):
        for y in range(n_y):
            if w[e, y] > 0:
                reg.compliance[int(e) * n_p + int(md.year_period[y])].append((g * float(w[e, y]), m.ElecSaved[y]))
    reg.name(m.ElecSaved, "electricity_saved")
    reg.name(m.ElecSavedDef, "electricity_saved_balance")
    reg.column_rows.append(("electricity_saved_balance", md.col_year, -col_es))


def entity_terms(md: ModelData, values: dict[str, np.ndarray]) -> np.ndarray:
    """(E*P,) what the electricity saved adds to each power supplier's compliance row, t."""
    n_p = len(md.periods)
    out = np.zeros((md.n_entities, n_p))
    if "electricity_saved" in values:
        g = float(md.scenario.overlap.marginal_grid_factor)
        relief = g * power_weights(md) * values["electricity_saved"][None, :]
        np.add.at(out.T, md.year_period, relief.T)
    return out.ravel()


def report(ctx: ReportContext) -> RuleReport:
    """Power suppliers' emissions avoided by the user market's electricity savings."""
    md = ctx.md
    grid = np.zeros((md.n_entities, len(md.years)))
    if "electricity_saved" in ctx.solution.values:  # coupled: suppliers emit less
        grid = (
            md.scenario.overlap.marginal_grid_factor
            * power_weights(md)
            * ctx.solution.values["electricity_saved"][None, :]
        )
    return RuleReport(
        variables={
            "grid_reduction": data_array(
                grid,
                ("entity", "year"),
                ctx.coords,
                "t",
                "power suppliers' emissions avoided by the user market's electricity savings (overlap = coupled)",
            )
        },
        emissions_reduction_t=grid,
    )


def summary(res: xr.Dataset) -> list[str]:
    import json

    if json.loads(res.attrs["config"]).get("overlap", {}).get("electricity") != "coupled":
        return []
    return [
        f"Electricity overlap coupled: power-plant emissions avoided by regional savings "
        f"{rounded(float(res['grid_reduction'].sum()) / 1e6, 2):,.2f} Mt over the horizon",
        "",
    ]


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


def period_keys(md: ModelData) -> dict[str, list[tuple[Any, int]]]:
    """Under a rolling horizon: the electricity saved per year, with its period (no abatement
    outside the window, so nothing saved there: no state crosses periods)."""
    yp = [int(p) for p in md.year_period]
    years = range(len(md.years))
    return {"electricity_saved": [(y, yp[y]) for y in years], "electricity_saved_balance": [(y, yp[y]) for y in years]}
