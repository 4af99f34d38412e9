"""Plain-text summaries printed by the CLI (``validate`` and ``run``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..config import Scenario
from ..derive.allocation import allocation_t, caps_t
from ..derive.coverage import bau_matrix, coverage_table
from ..inputs.tables import Dataset
from ..model.rules import RULES
from ..model.rules.base import rounded


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


#: relative difference above which the ends of the price interval count as different
NONUNIQUE_REL = 1e-9


def nonunique_prices(res: xr.Dataset) -> xr.DataArray | None:
    """(market, year) True where the clearing price is not unique (``price_high`` above
    ``price_low``); None for results without the interval (written by an older nationcap)."""
    if "price_low" not in res or "price_high" not in res:
        return None
    low, high = res["price_low"], res["price_high"]
    return high > low + NONUNIQUE_REL * np.maximum(1.0, np.abs(low))


def _price_cell(low: float, high: float, marked: bool) -> str:
    """``4,422`` or, where every price of an interval clears, ``4,422 (any of 4,422–27,818)``."""
    text = f"{round(low):,}"
    if not marked:
        return text
    if not np.isfinite(high):  # not one more tonne could be met
        return f"{text} (any of {text} or more)"
    return f"{text} (any of {text}–{round(high):,})"


def price_table(res: xr.Dataset) -> tuple[str, bool]:
    """The price table of the run summary (market x year, each year's money, rounded to JPY) and
    whether any price is marked as not unique."""
    price = res["price"].to_pandas()
    marks = nonunique_prices(res)
    if marks is None or not bool(marks.any()):
        return price.round(0).astype("int64").to_string(), False
    low, high, mk = res["price_low"].to_pandas(), res["price_high"].to_pandas(), marks.to_pandas()
    table = pd.DataFrame(
        [[_price_cell(low.loc[m, y], high.loc[m, y], bool(mk.loc[m, y])) for y in price.columns] for m in price.index],
        index=price.index,
        columns=price.columns,
    )
    return table.to_string(), True


def run_summary(res: xr.Dataset) -> str:
    table, marked = price_table(res)
    lines = [
        f"scenario {res.attrs['scenario']!r}: {res.attrs['termination']} "
        f"(solve {res.attrs['solve_time_s']:.1f} s, total {res.attrs['wall_time_s']:.1f} s)",
        "",
        "Allowance price (JPY/t, each year's money):",
        table,
    ]
    if marked:
        lines.append(
            "note: 'any of a–b': the requirement lies exactly on the boundary between two abatement steps, "
            "so every price from a to b clears the market; the price reported is the lower end a "
            "(price_low and price_high in the results)"
        )
    lines.append("")
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
    tc = res["total_cost"].to_pandas()
    lines += [
        f"Total abatement cost (billion JPY, present value at FY{res.attrs['first_year']}):",
        rounded(tc / 1e9, 1).to_string(),
    ]
    lines += _negative_cost_note(tc)
    return "\n".join(lines)


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
