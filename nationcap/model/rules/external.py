r"""External link: imports of foreign allowances into a market at an exogenous price.

Parameters
    pext[m, y]   price of foreign allowances, JPY/t in year y's money
    s[m]         import limit as a share of the market's cap per period

Variables
    Import[m, y]   foreign allowances bought in year y, Mt, >= 0

Constraints
    ImportLimit[m, p]::   sum_{y in p} Import[m, y] <= s[m] * cap[m, p] / scale_t

Registered terms
    MarketClearing[m, p(y)] += Import[m, y]
    objective               += d[y] * pext[m, y] * Import[m, y]

While the limit does not bind, the domestic price cannot rise above the foreign one
(``price[m, y] <= pext[m, y]``); when it binds, the dual of ImportLimit (<= 0 by Pyomo's sign
convention for a <= row in a minimisation) is the quota rent per tonne: the domestic PV price
minus the PV foreign price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ...config import Scenario
from ..data import ModelData
from ..registry import Registry
from .base import AccountItem, Feasibility, ReportContext, RuleReport, Supply, data_array, markets_with, rounded
from .price_band import volumes

if TYPE_CHECKING:
    import pyomo.environ as pyo

NAME = "external"
STAGE = "pool"
#: the rule's items of the cost account (README "Cost account")
ACCOUNT = (AccountItem("imports", "foreign allowances imported, at the foreign price", 1, "resource", True),)


@dataclass(frozen=True)
class ExternalData:
    price: np.ndarray  # (M, Y) price of foreign allowances, JPY/t in each year's money, NaN = no link
    share: np.ndarray  # (M,) import limit as a share of the cap per period


def active(scn: Scenario) -> bool:
    return any(mc.external is not None for mc in scn.markets.values())


def allocation_dependence(scn: Scenario) -> str | None:
    """The import limit is a share of the cap."""
    for name, mc in scn.markets.items():
        if mc.external is not None:
            return f"markets.{name}.external (its limit depends on the cap)"
    return None


def feasibility(md: ModelData) -> Feasibility:
    """Imports: at most ``limit_share x cap`` of the importing market per period."""
    caps = md.cap_t()
    return Feasibility(
        supply=[
            Supply(a, "imports", md.scenario.markets[name].external.limit_share * caps[a])  # type: ignore[union-attr]
            for a, name in enumerate(md.markets)
            if md.scenario.markets[name].external is not None
        ]
    )


def data(md: ModelData) -> ExternalData:
    return md.rule_data[NAME]


def prepare(md: ModelData) -> None:
    n_m, n_y = len(md.markets), len(md.years)
    imp = np.full((n_m, n_y), np.nan)
    share = np.full(n_m, np.nan)
    for a in range(n_m):
        cfg = md.market_config(a)
        if cfg.external:
            imp[a] = [cfg.external.price.value(y) for y in md.years]
            share[a] = cfg.external.limit_share
    md.rule_data[NAME] = ExternalData(imp, share)


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    ext = data(md)
    if np.isnan(ext.price).all():
        return
    import pyomo.environ as pyo

    a_idx, y_idx = np.nonzero(~np.isnan(ext.price))
    idx = list(zip(a_idx.tolist(), y_idx.tolist()))
    m.Import = pyo.Var(idx, domain=pyo.NonNegativeReals, doc="foreign allowances imported [Mt]")
    for a, y in idx:
        reg.pool[a, int(md.year_period[y])].append((1.0, m.Import[a, y]))
    reg.cost.append(pyo.quicksum(float(md.discount[y] * ext.price[a, y]) * m.Import[a, y] for (a, y) in idx))
    caps = md.cap_t() / md.scale_t
    limits = sorted({(a, int(md.year_period[y])) for (a, y) in idx})

    def rule(_m, a, p):
        years = [y for (b, y) in idx if b == a and md.year_period[y] == p]
        return pyo.quicksum(_m.Import[a, y] for y in years) <= float(ext.share[a] * caps[a, p])

    m.ImportLimit = pyo.Constraint(limits, rule=rule, doc="imports per period <= share of cap [Mt]")
    reg.name(m.Import, "import")
    reg.name(m.ImportLimit, "import_limit")


def report(ctx: ReportContext) -> RuleReport:
    md, coords = ctx.md, ctx.coords
    ext = data(md)
    vol, pay = volumes(md, ext.price, "import", ctx.solution.values)
    return RuleReport(
        variables={
            "import_price": data_array(
                ext.price,
                ("market", "year"),
                coords,
                "JPY/t",
                "price of foreign allowances in each year's money (NaN = none)",
            ),
            "imports": data_array(vol, ("market", "period"), coords, "t", "foreign allowances imported"),
        },
        account_pv={"imports": pay},
    )


def summary(res: xr.Dataset) -> list[str]:
    if not markets_with(res, "external"):
        return []
    df = rounded((res["imports"] / 1e6).to_pandas().stack(), 3).rename("imports").to_frame()
    return ["Foreign allowances imported (Mt):", df.to_string(), ""]


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


def period_keys(md: ModelData) -> dict[str, list[tuple[Any, int]]]:
    """Under a rolling horizon: each import entry (market, year) and limit (market, period) with
    its period. Limits are a share of each period's cap (the window's caps: zero outside), so no
    state crosses periods and the window needs no change of its own."""
    ext = data(md)
    yp = [int(p) for p in md.year_period]
    a_idx, y_idx = np.nonzero(~np.isnan(ext.price))
    idx = list(zip(a_idx.tolist(), y_idx.tolist()))
    return {
        "import": [((a, y), yp[y]) for a, y in idx],
        "import_limit": [((a, p), p) for a, p in sorted({(a, yp[y]) for a, y in idx})],
    }
