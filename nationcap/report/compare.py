"""Side-by-side comparison of runs (e.g. unlinked vs linked markets).

    >>> from nationcap.report.compare import compare
    >>> tables = compare(["outputs/baseline", "outputs/linked"])    # doctest: +SKIP
    >>> tables["summary"]                                            # doctest: +SKIP

The first run is the reference: ``gain_vs_first_jpy`` is its total cost minus each run's total
cost (positive = cheaper than the reference), i.e. the gains from linking when the reference is
the unlinked design. Costs are present values at each run's first model year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from ..errors import InputError, Problem
from ..results.io import atomic_folder, check_writable, load_results


def _labels(runs: list[xr.Dataset], paths: list[str | Path]) -> list[str]:
    labels = [str(r.attrs.get("scenario", Path(p).stem)) for r, p in zip(runs, paths)]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}#{seen[lab]}")
    return out


def compare(paths: list[str | Path]) -> dict[str, pd.DataFrame]:
    """Tables ``prices`` (market, year x run), ``summary`` (run x metric) and ``periods``
    (run, market, period: emissions, cap, bank, PV price)."""
    if len(paths) < 2:
        raise InputError([Problem("compare", "", "", "give at least two results to compare")], "arguments")
    runs = [load_results(p) for p in paths]
    labels = _labels(runs, paths)
    prices = pd.concat({lab: r["price"].to_series() for lab, r in zip(labels, runs)}, axis=1)
    prices.columns.name = "run"
    rows, per = [], []
    for lab, r in zip(labels, runs):
        row = {"run": lab, "total_cost_jpy": float(r["total_cost"].sum())}
        for m in r["market"].values:
            row[f"total_cost_jpy_{m}"] = float(r["total_cost"].sel(market=m))
            row[f"emissions_t_{m}"] = float(r["market_emissions"].sel(market=m).sum())
            row[f"mean_price_jpy_per_t_{m}"] = float(r["price"].sel(market=m).mean())
        if "link_transfer" in r:
            for d in r["direction"].values:
                row[f"transfer_t_{d}"] = float(r["link_transfer"].sel(direction=d).sum())
        rows.append(row)
        for m in r["market"].values:
            for p in r["period"].values:
                per.append(
                    {
                        "run": lab,
                        "market": m,
                        "period": p,
                        "emissions_t": float(r["market_emissions"].sel(market=m, period=p)),
                        "cap_t": float(r["cap"].sel(market=m, period=p)),
                        "bank_t": float(r["bank"].sel(market=m, period=p)),
                        "price_pv_jpy_per_t": float(r["price_pv"].sel(market=m, period=p)),
                    }
                )
    summary = pd.DataFrame(rows).set_index("run")
    summary["gain_vs_first_jpy"] = summary["total_cost_jpy"].iloc[0] - summary["total_cost_jpy"]
    return {"prices": prices, "summary": summary, "periods": pd.DataFrame(per).set_index(["run", "market", "period"])}


def plot_compare(tables: dict[str, pd.DataFrame]):
    """Price paths by market for every run, and total cost per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prices = tables["prices"]
    markets = list(dict.fromkeys(prices.index.get_level_values("market")))
    fig, axes = plt.subplots(1, len(markets) + 1, figsize=(5 * (len(markets) + 1), 4.2), constrained_layout=True)
    for ax, m in zip(axes, markets):
        sub = prices.xs(m, level="market")
        for run in sub.columns:
            ax.plot(sub.index, sub[run], marker="o", ms=3, label=run)
        ax.set_title(f"Allowance price: {m} market")
        ax.set_xlabel("fiscal year")
        ax.set_ylabel("price (JPY/t CO2, each year's money)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes[-1]
    cost = tables["summary"]["total_cost_jpy"] / 1e9
    ax.bar(range(len(cost)), cost.values, color="tab:gray")
    ax.set_xticks(range(len(cost)), cost.index, rotation=20, ha="right")
    ax.set_ylabel("total cost (billion JPY, present value)")
    ax.set_title("Total cost; gain vs " + str(cost.index[0]))
    for k, g in enumerate(tables["summary"]["gain_vs_first_jpy"] / 1e9):
        if k:
            ax.annotate(f"{g:+,.1f}", (k, cost.values[k]), ha="center", va="bottom", fontsize=9)
    return fig


def write_compare(paths: list[str | Path], out_dir: Path, force: bool = False) -> dict[str, pd.DataFrame]:
    """Write compare_prices.csv, compare_summary.csv, compare_periods.csv and compare.png atomically
    (an existing comparison is replaced only once the new one is complete)."""
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    check_writable(out_dir, force)  # before reading anything
    tables = compare(paths)
    with atomic_folder(out_dir, force) as tmp:
        for name, df in tables.items():
            df.to_csv(tmp / f"compare_{name}.csv", lineterminator="\n")
        fig = plot_compare(tables)
        fig.savefig(tmp / "compare.png", dpi=120)
        plt.close(fig)
    return tables
