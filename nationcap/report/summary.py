"""Plain-text summaries printed by the CLI (``validate`` and ``run``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..config import Scenario
from ..config.schema import is_split, market_table, markets_by_table
from ..derive.allocation import allocation_t, caps_t, direct_factor
from ..derive.coverage import bau_matrix, coverage_table
from ..derive.scope import resolve as resolve_scope
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
    """What ``nationcap validate`` prints: entities per market, BAU against the caps, coverage.
    Market selections and splits are resolved first (the markets the model will have), so this
    also checks them."""
    scope = resolve_scope(scn, ds)
    scn, ds = scope.scenario, scope.dataset
    ent = ds.entities
    lines = [
        f"scenario {scn.name!r}: dataset {ds.name!r} ({ds.path})",
        "periods: " + ", ".join(f"{p.name} FY{p.first_year}-{p.last_year}" for p in scn.periods),
        f"entities: {len(ent):,}"
        + (f" covered by {len(scn.markets)} markets; {len(scope.uncovered):,} uncovered" if scope.active else ""),
        "",
        "Entities per market and sector:",
        _table(ent.groupby(["market", "sector"]).size().rename("entities").to_frame()),
        "",
    ]
    pref = ent.pivot_table(index="prefecture", columns="market", values="entity_id", aggfunc="count", fill_value=0)
    pref = pref.sort_values(list(pref.columns)[-1], ascending=False)
    lines += [f"Entities per prefecture ({len(pref)} prefectures; largest 15):", _table(pref.head(15)), ""]

    bau = bau_matrix(ds, scn.years) * direct_factor(scn, ds)[:, None]  # on each market's emissions basis
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
        # markets split from one table are shown as the table (the sum of their shares)
        tables: dict[str, list[str]] = {}
        for m in scn.markets:
            tables.setdefault(market_table(m), []).append(f"share_{m}")
        shares = pd.DataFrame({f"{t}_%": cov[cs].sum(axis=1) for t, cs in tables.items()})
        for name in ("share_double_counted", "share_combined"):
            shares[name.replace("share_", "") + "_%"] = cov[name]
        shown = (shares * 100).round(1)
        lines += ["Coverage of national CO2 (BAU, %; combined = without double counting electricity):", _table(shown)]
        low = cov.index[cov["share_combined"] < 0.60].tolist()
        if low:
            lines.append(f"note: combined coverage is below the proposal's 60% in FY{low}")
    else:
        lines.append("Coverage: dataset.toml gives no national_co2_t; shares not computed.")
    if len(scope.uncovered):
        unc = scope.uncovered
        by = unc.groupby("sector").size().sort_values(ascending=False).head(5)
        y0 = scn.years[0]
        nat = ds.national_co2_t.get(y0)
        share = f" ({scope.uncovered_bau_t[:, 0].sum() / nat:.1%} of national CO2)" if nat else ""
        lines += [
            "",
            f"Uncovered (selected by no market, they emit their BAU): {len(unc):,} entities, "
            f"{_mt(float(scope.uncovered_bau_t[:, 0].sum()))} Mt in FY{y0}{share}; largest sectors by count: "
            + ", ".join(f"{k} {v:,}" for k, v in by.items()),
        ]
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


def price_table(res: xr.Dataset, markets: list[str] | None = None) -> tuple[str, bool]:
    """The price table of the run summary (market x year, each year's money, rounded to JPY) of
    ``markets`` (default: all) and whether any price is marked as not unique."""
    if markets is not None:
        res = res.sel(market=markets)
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
    """What ``nationcap run`` prints. Markets split from one table (``regional/Tokyo``, ...) are
    summed into the table in the emissions and cost tables, and their prices summarised as a
    spread; every market's values are in the results files."""
    markets = [str(m) for m in res["market"].values]
    split = split_tables(markets)
    whole = [m for m in markets if not is_split(m)]
    table, marked = price_table(res, whole) if whole else ("(every market is split)", False)
    lines = [
        f"scenario {res.attrs['scenario']!r}: {res.attrs['termination']} "
        f"(solve {res.attrs['solve_time_s']:.1f} s, total {res.attrs['wall_time_s']:.1f} s)",
        "",
        "Allowance price (JPY/t, each year's money"
        + ("; split markets: their spread below, each in market_year.csv" if split else "")
        + "):",
        table,
    ]
    if marked:
        lines.append(
            "note: 'any of a–b': the requirement lies exactly on the boundary between two abatement steps, "
            "so every price from a to b clears the market; the price reported is the lower end a "
            "(price_low and price_high in the results)"
        )
    lines.append("")
    groups = {m: [m] for m in whole} | {f"{t} ({len(ms)} markets)": ms for t, ms in split.items()}
    rows = []
    for name, ms in groups.items():
        for p in res["period"].values:
            rows.append(
                {
                    "market": name,
                    "period": p,
                    "emissions_Mt": _mt(float(res["market_emissions"].sel(market=ms, period=p).sum())),
                    "cap_Mt": _mt(float(res["cap"].sel(market=ms, period=p).sum())),
                    "bank_end_Mt": _mt(float(res["bank"].sel(market=ms, period=p).sum())),
                }
            )
    lines += [
        "Emissions against cap (Mt CO2 over the period; bank at the end of the period):",
        pd.DataFrame(rows).set_index(["market", "period"]).to_string(),
        "",
    ]
    lines += _rules_summary(res)
    lines += scope_summary(res)
    lines += cost_account_lines(res, groups)
    tc = res["total_cost"].sum("period").to_pandas()
    lines += _negative_cost_note(pd.Series({name: float(tc[ms].sum()) for name, ms in groups.items()}))
    return "\n".join(lines)


def cost_account_lines(res: xr.Dataset, groups: dict[str, list[str]] | None = None) -> list[str]:
    """The cost account per market over the horizon (README "Cost account"): abatement, the other
    items that are not zero in any market (received amounts negative), ``total_cost`` and
    ``net_cost_covered``, in billion JPY of present value. ``groups`` (column -> markets) sums
    markets into one column: the markets split from one table."""
    groups = groups or {str(m): [str(m)] for m in res["market"].values}

    def by_group(amount: pd.Series) -> pd.Series:
        return pd.Series({name: float(amount[ms].sum()) for name, ms in groups.items()})

    rows: dict[str, pd.Series] = {}
    for item in COST_ACCOUNT:
        if item.variable not in res:
            continue
        amount = by_group(item.sign * res[item.variable].sum("period").to_pandas())
        if item.key == "abatement" or (amount.abs() > 0).any():
            rows[item.key if item.sign > 0 else f"{item.key} (-)"] = amount
        if item is _LAST_RESOURCE:
            rows["= total_cost"] = by_group(res["total_cost"].sum("period").to_pandas())
    rows["= net_cost_covered"] = by_group(res["net_cost_covered"].sum("period").to_pandas())
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
    which = ", ".join(f"{m} {_jpy(v)}" for m, v in neg.head(5).items())
    if len(neg) > 5:
        which += f" and {len(neg) - 5} more markets, together {_jpy(float(neg.sum()))}"
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


def split_tables(markets: list[str]) -> dict[str, list[str]]:
    """Scenario market table -> the markets ``split_by`` made of it, for the tables that were split."""
    return {t: ms for t, ms in markets_by_table(markets).items() if any(is_split(m) for m in ms)}


def scope_summary(res: xr.Dataset, top: int = 3) -> list[str]:
    """Split markets' price spread, allowances moving between administrators of one market (the
    largest net buyers and sellers), and the entities no market covers."""
    lines: list[str] = []
    markets = [str(m) for m in res["market"].values]
    first = [int(res["year"].values[0])]
    for table, parts in split_tables(markets).items():
        price = res["price_pv"].sel(market=parts).to_pandas()
        lines.append(
            f"Prices of the {len(parts)} markets split from {table!r} (JPY/t, present value; lowest, median, highest):"
        )
        for p in price.columns:
            col = price[p]
            lines.append(
                f"  {p}: {col.min():,.0f} ({col.idxmin()}), {col.median():,.0f}, {col.max():,.0f} ({col.idxmax()})"
            )
        lines.append("")
    if "net_purchase_by_administrator" in res:
        pos = res["net_purchase_by_administrator"]
        n_admin = (res["entities_by_administrator"] > 0).sum("administrator")
        for m in markets:
            if int(n_admin.sel(market=m)) < 2:
                continue
            moved = res["traded_between_administrators"].sel(market=m).to_pandas()
            lines.append(
                f"Allowances moving between administrators in {m!r} (Mt over the period; net position = bought "
                f"minus sold):"
            )
            total = float(res["traded_between_administrators_total"].sel(market=m))
            for p, one in [(str(p), pos.sel(market=m, period=p)) for p in pos["period"].values] + [
                ("all periods", pos.sel(market=m).sum("period"))
            ]:
                one = one.to_pandas().sort_values()
                buy = ", ".join(f"{a} {_mt(v)}" for a, v in one[::-1].head(top).items() if v > 0)
                sell = ", ".join(f"{a} {_mt(-v)}" for a, v in one.head(top).items() if v < 0)
                amount = total if p == "all periods" else float(moved[p])
                lines.append(f"  {p}: {_mt(amount)} between administrators; buyers {buy or '-'}; sellers {sell or '-'}")
            lines.append("  (the rest of the positions is banked or drawn from the market's bank)")
            lines.append("")
    n = int(res["uncovered_entities_by_sector"].sum()) if "uncovered_entities_by_sector" in res else 0
    if n:
        bau = res["uncovered_bau_emissions"]
        y0 = first[0]
        share = float(res["uncovered_share"].sel(year=y0))
        covered = float(res["coverage_share"].sel(year=y0).sum())
        by = res["uncovered_bau_emissions_by_sector"].sel(year=y0).to_pandas().sort_values(ascending=False)
        by = by[by > 0].head(5)
        lines += [
            f"Uncovered: {n:,} entities selected by no market emit their BAU, {_mt(float(bau.sel(year=y0)))} Mt "
            f"in FY{y0} ({share:.1%} of national CO2; the markets cover {covered:.1%})"
            + "; largest sectors: "
            + ", ".join(f"{k} {_mt(v)}" for k, v in by.items()),
            "",
        ]
    return lines
