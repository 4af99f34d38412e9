"""Plain-text summaries printed by the CLI (``validate`` and ``run``)."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from ..config import Scenario
from ..derive.allocation import allocation_t, caps_t
from ..derive.coverage import bau_matrix, coverage_table
from ..inputs.tables import Dataset
from ..model.rules import RULES
from ..model.rules.base import rounded
from ..results.build import COST_ACCOUNT


def _mt(x: float) -> str:
    """Tonnes as Mt with 2 decimals; a tiny negative prints as 0.00, never -0.00."""
    return f"{round(x / 1e6, 2) + 0.0:,.2f}"


def _table(df: pd.DataFrame) -> str:
    return df.to_string()


def dataset_summary(scn: Scenario, ds: Dataset) -> str:
    ent = ds.entities
    lines = [
        f"scenario {scn.name!r}: dataset {ds.name!r} ({ds.path})",
        "periods: " + ", ".join(f"{p.name} FY{p.first_year}-{p.last_year}" for p in scn.periods),
        f"entities: {len(ent):,}",
        "",
        "Entities per market and sector:",
        _table(ent.groupby(["market", "sector"]).size().rename("entities").to_frame()),
        "",
    ]
    pref = ent.pivot_table(index="prefecture", columns="market", values="entity_id", aggfunc="count", fill_value=0)
    pref = pref.sort_values(list(pref.columns)[-1], ascending=False)
    lines += [f"Entities per prefecture ({len(pref)} prefectures; largest 15):", _table(pref.head(15)), ""]

    bau = bau_matrix(ds, scn.years)
    caps = caps_t(scn, ds, allocation_t(scn, ds))
    rows = []
    market = ent["market"].to_numpy()
    for m in scn.markets:
        for p in scn.periods:
            b = float(bau.loc[market == m, p.years].to_numpy().sum())
            c = float(caps.loc[m, p.name])
            rows.append(
                {"market": m, "period": p.name, "BAU_Mt": _mt(b), "cap_Mt": _mt(c), "BAU_minus_cap_Mt": _mt(b - c)}
            )
    lines += [
        "BAU and cap by market and period (Mt CO2 over the period):",
        _table(pd.DataFrame(rows).set_index(["market", "period"])),
        "",
    ]

    cov = coverage_table(scn, ds, bau)
    if cov["national_co2_t"].notna().any():
        cols = [f"share_{m}" for m in scn.markets] + ["share_double_counted", "share_combined"]
        shown = (cov[cols] * 100).round(1)
        shown.columns = [c.replace("share_", "") + "_%" for c in cols]
        lines += ["Coverage of national CO2 (BAU, %; combined = without double counting electricity):", _table(shown)]
        low = cov.index[cov["share_combined"] < 0.60].tolist()
        if low:
            lines.append(f"note: combined coverage is below the proposal's 60% in FY{low}")
    else:
        lines.append("Coverage: dataset.toml gives no national_co2_t; shares not computed.")
    return "\n".join(lines)


def run_summary(res: xr.Dataset) -> str:
    price = res["price"].to_pandas()
    lines = [
        f"scenario {res.attrs['scenario']!r}: {res.attrs['termination']} "
        f"(solve {res.attrs['solve_time_s']:.1f} s, total {res.attrs['wall_time_s']:.1f} s)",
        "",
        "Allowance price (JPY/t, each year's money):",
        price.round(0).astype("int64").to_string(),
        "",
    ]
    rows = []
    for m in res["market"].values:
        for p in res["period"].values:
            rows.append(
                {
                    "market": m,
                    "period": p,
                    "emissions_Mt": _mt(float(res["market_emissions"].sel(market=m, period=p))),
                    "cap_Mt": _mt(float(res["cap"].sel(market=m, period=p))),
                    "bank_end_Mt": _mt(float(res["bank"].sel(market=m, period=p))),
                }
            )
    lines += [
        "Emissions against cap (Mt CO2 over the period; bank at the end of the period):",
        pd.DataFrame(rows).set_index(["market", "period"]).to_string(),
        "",
    ]
    lines += _rules_summary(res)
    lines += cost_account_lines(res)
    lines += _negative_cost_note(res["total_cost"].sum("period").to_pandas())
    return "\n".join(lines)


def cost_account_lines(res: xr.Dataset) -> list[str]:
    """The cost account per market over the horizon (README "Cost account"): abatement, the other
    items that are not zero in any market (received amounts negative), ``total_cost`` and
    ``net_cost_covered``, in billion JPY of present value."""
    rows: dict[str, pd.Series] = {}
    for item in COST_ACCOUNT:
        if item.variable not in res:
            continue
        amount = item.sign * res[item.variable].sum("period").to_pandas()
        if item.key == "abatement" or (amount.abs() > 0).any():
            rows[item.key if item.sign > 0 else f"{item.key} (-)"] = amount
        if item is _LAST_RESOURCE:
            rows["= total_cost"] = res["total_cost"].sum("period").to_pandas()
    rows["= net_cost_covered"] = res["net_cost_covered"].sum("period").to_pandas()
    table = rounded(pd.DataFrame(rows).T / 1e9, 3)
    table.columns.name = None
    return [
        f"Cost account (billion JPY, present value at FY{res.attrs['first_year']}): total_cost is the resource cost,",
        "net_cost_covered adds what the covered entities pay the administrator and subtracts what they receive (-):",
        table.to_string(float_format=lambda x: f"{x:,.3f}"),
    ]


#: total_cost is shown after the last resource item of the account
_LAST_RESOURCE = [item for item in COST_ACCOUNT if item.kind == "resource"][-1]


def _jpy(x: float) -> str:
    """An amount of JPY in words of a readable size: ``-11.8 million JPY``, ``-2,500 JPY``."""
    for scale, word in ((1e9, "billion "), (1e6, "million ")):
        if abs(x) >= scale:
            return f"{rounded(x / scale, 1):,.1f} {word}JPY"
    return f"{rounded(x, 0):,.0f} JPY"


def _negative_cost_note(total_cost_jpy: pd.Series) -> list[str]:
    """One line explaining a negative total cost (it is not an error: no-regret measures)."""
    neg = total_cost_jpy[total_cost_jpy < -1.0]
    if neg.empty:
        return []
    which = ", ".join(f"{m} {_jpy(v)}" for m, v in neg.items())
    return [
        f"note: a negative total cost ({which}) is a saving: abatement steps with a negative cost "
        "(no-regret measures, column cost_jpy_per_t of mac.csv in the inputs) are taken at any price "
        "and save more than the other steps cost"
    ]


def _rules_summary(res: xr.Dataset) -> list[str]:
    """Lines of every program rule switched on in this run (each rule writes its own)."""
    lines: list[str] = []
    for rule in RULES:
        lines += rule.summary(res)
    return lines
