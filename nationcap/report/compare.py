"""Side-by-side comparison of runs (e.g. unlinked vs linked markets).

    >>> from nationcap.report.compare import compare
    >>> tables = compare(["outputs/baseline", "outputs/linked"])    # doctest: +SKIP
    >>> tables["summary"]                                            # doctest: +SKIP
    >>> compare(["outputs/p2_sweep::s000", "outputs/p2_sweep::s004"])  # doctest: +SKIP

The first run is the reference: ``gain_vs_first_jpy`` is its total cost minus each run's total
cost (positive = cheaper than the reference), i.e. the gains from linking when the reference is
the unlinked design; ``net_cost_covered_gain_vs_first_jpy`` is the same for the net cost to the
covered entities. The costs are the cost account's (README "Cost account"), with the names of
the results: ``total_cost_jpy`` (the resource cost: abatement, offsets, imports) and
``net_cost_covered_jpy`` (with the payments to and from the administrator), summed over markets
and periods, per market (``total_cost_jpy_<market>``, ...) and, in ``periods``, per market and
period. Costs are present values at each run's first model year.

Batch members. A batch folder (``nationcap sweep`` / ``montecarlo``) holds many runs: one is
chosen with ``PATH::LABEL`` (``outputs/p2_sweep::s002``, ``outputs/mc::7``) or, for every batch
given without ``::``, with ``member=`` (``--member``); a batch without either is refused, naming
its members.

Split markets (``split_by``: ``regional/Tokyo``, ...) are summed into their scenario table in
``summary`` (``total_cost_jpy_regional``), so a nationwide market and its prefectural split
compare directly; ``gain_vs_first_jpy`` of the split run is then minus the gain from the
nationwide market. ``spread`` gives per run, table and period the number of markets and the
lowest, median, highest and emissions-weighted price (PV); ``administrators`` gives each
administrator's compliance cost (PV, all periods; abatement plus allowances bought minus sold at
the clearing price) per run and its change against the first run (positive = pays more than in
the first run), so who gains and who loses from one design to the other can be read off;
``sectors`` gives the same per sector (summed over markets), with each sector's abatement (t) and
abatement cost (PV JPY), so designs that cover other entities or allocate differently (the 2009
proposal against GX-ETS) compare by who pays.

Coverage. ``summary`` has each table's share of national CO2 (``coverage_share_<table>``), the
share no market covers (``uncovered_share``) and the combined share without double counting
(``combined_coverage_share``), all in the first model year (as ``nationcap validate`` prints them);
``coverage`` gives them for every year. A run whose markets select no entities (no ``select``, no
``split_by``) covers every entity of its dataset: its ``uncovered_share`` is 0.

Different data. A gain is only meaningful between runs on the same data. Each run's data is
identified by the ``dataset_sha256`` attribute (the fingerprint of the dataset folder) when both
runs have it, else by the dataset folder (``inputs_resolved`` in the ``config`` attribute) and
the ``dataset`` name; a Monte Carlo draw's data is also its draw. A run on other data than the
first gets an empty ``gain_vs_first_jpy`` and a note (``tables["notes"]``, written to
``compare_notes.txt``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..atomic import atomic_folder, check_writable
from ..config.schema import markets_by_table
from ..errors import InputError, Problem
from ..results.io import batch_dim, load_results, members, select_member

#: separates a batch folder from the label of one of its members: ``outputs/p2_sweep::s002``
MEMBER_SEP = "::"


def split_member(arg: str | Path) -> tuple[Path, str | None]:
    """``"PATH::LABEL"`` -> (PATH, LABEL); a plain path -> (path, None)."""
    text = str(arg)
    if MEMBER_SEP in text:
        path, _, label = text.rpartition(MEMBER_SEP)
        return Path(path), label
    return Path(text), None


def load_runs(args: list[str | Path], member: str | None = None) -> tuple[list[xr.Dataset], list[str]]:
    """One single-run Dataset and a label per argument (batch members chosen as in the module doc);
    every problem of the arguments is reported at once."""
    problems: list[Problem] = []
    runs, labels = [], []
    for arg in args:
        path, label = split_member(arg)
        try:
            res = load_results(path)
        except InputError as exc:
            problems += exc.problems
            continue
        name = str(res.attrs.get("scenario", path.stem))
        dim = batch_dim(res)
        if dim is None:
            if label is not None:
                problems.append(Problem(str(arg), "", "", f"{path} is a single run, not a batch: drop '::{label}'"))
                continue
            runs.append(res)
            labels.append(name)
            continue
        which = label if label is not None else member
        if which is None:
            ok = [lab for _, lab in members(res)]
            shown = ", ".join(ok[:8]) + (", ..." if len(ok) > 8 else "")
            problems.append(
                Problem(
                    str(arg),
                    "",
                    "",
                    f"a {res.attrs.get('batch', 'batch')} folder of {res.sizes[dim]} runs: choose one with "
                    f"--member LABEL or {path}{MEMBER_SEP}LABEL (successful members: {shown or 'none'})",
                )
            )
            continue
        try:
            one, _ = select_member(res, which)
        except InputError as exc:
            problems += [Problem(str(arg), pr.where, pr.column, pr.message) for pr in exc.problems]
            continue
        runs.append(one)
        labels.append(f"{name}/{which}")
    if problems:
        raise InputError(problems, "arguments")
    return runs, _unique(labels)


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}#{seen[lab]}")
    return out


def data_identity(r: xr.Dataset) -> dict[str, str | None]:
    """What a run's data is: ``sha256`` (the ``dataset_sha256`` attribute, if stored), ``folder``
    (``inputs_resolved`` of its configuration), ``name`` (the ``dataset`` attribute) and ``draw``
    (a Monte Carlo member's draw, else "")."""
    cfg = json.loads(r.attrs.get("config", "{}"))
    draw = ""
    if r.attrs.get("batch") == "montecarlo" and "member" in r.attrs:
        draw = f"Monte Carlo draw {r.attrs['member']} (seed {r.attrs.get('montecarlo_seed')})"
    return {
        "sha256": str(r.attrs["dataset_sha256"]) if r.attrs.get("dataset_sha256") else None,
        "folder": cfg.get("inputs_resolved"),
        "name": str(r.attrs["dataset"]) if "dataset" in r.attrs else None,
        "draw": draw,
    }


def describe_data(ident: dict[str, str | None]) -> str:
    text = f"{ident['folder'] or '?'} ('{ident['name'] or '?'}'"
    text += f", sha256 {ident['sha256'][:12]})" if ident["sha256"] else ")"
    return text + (f", {ident['draw']}" if ident["draw"] else "")


def same_data(a: xr.Dataset, b: xr.Dataset) -> bool:
    """Whether two runs are on the same data: the same fingerprint when both have one, else the
    same dataset folder and name; and the same Monte Carlo draw (or none)."""
    ia, ib = data_identity(a), data_identity(b)
    if ia["draw"] != ib["draw"]:
        return False
    if ia["sha256"] and ib["sha256"]:
        return ia["sha256"] == ib["sha256"]
    return (ia["folder"], ia["name"]) == (ib["folder"], ib["name"])


#: the cost account's totals compared (README "Cost account"): the resource cost and the net cost
#: to the covered entities, named as in the results
COSTS = ("total_cost", "net_cost_covered")


def _cost(r: xr.Dataset, var: str, market: str | None = None, period: str | None = None) -> float:
    """A cost of a run summed over what is not selected; NaN where the run does not have it
    (results of older versions: no ``net_cost_covered``, ``total_cost`` per market only)."""
    if var not in r or (period is not None and "period" not in r[var].dims):
        return float("nan")
    da = r[var]
    if market is not None:
        da = da.sel(market=market)
    if period is not None:
        da = da.sel(period=period)
    return float(da.sum())


def compare(paths: list[str | Path], member: str | None = None) -> dict[str, pd.DataFrame]:
    """Tables ``prices`` (market, year x run), ``summary`` (run x metric), ``periods``
    (run, market, period: emissions, cap, bank, PV price, total and net cost) and ``notes`` (one
    ``note`` per row)."""
    if len(paths) < 2:
        raise InputError([Problem("compare", "", "", "give at least two results to compare")], "arguments")
    runs, labels = load_runs(paths, member)
    prices = pd.concat({lab: r["price"].to_series() for lab, r in zip(labels, runs)}, axis=1)
    prices.columns.name = "run"
    rows, per = [], []
    for lab, r in zip(labels, runs):
        row = {"run": lab, **{f"{v}_jpy": _cost(r, v) for v in COSTS}}
        for table, ms in markets_by_table(r["market"].values).items():  # split markets are summed into their table
            for v in COSTS:
                row[f"{v}_jpy_{table}"] = sum(_cost(r, v, market=m) for m in ms)
            row[f"emissions_t_{table}"] = float(r["market_emissions"].sel(market=ms).sum())
            if len(ms) == 1 and ms[0] == table:  # a split table's prices: the spread table
                row[f"mean_price_jpy_per_t_{table}"] = float(r["price"].sel(market=table).mean())
        cover = _coverage(r)
        if len(cover):
            row.update(cover.iloc[0].to_dict())  # the first model year
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
                        **{f"{v}_jpy": _cost(r, v, market=m, period=p) for v in COSTS},
                    }
                )
    summary = pd.DataFrame(rows).set_index("run")
    gains = {"gain_vs_first_jpy": "total_cost_jpy", "net_cost_covered_gain_vs_first_jpy": "net_cost_covered_jpy"}
    for gain, cost in gains.items():
        summary[gain] = summary[cost].iloc[0] - summary[cost]
    notes = []
    for lab, r in zip(labels[1:], runs[1:]):
        if not same_data(runs[0], r):
            summary.loc[lab, list(gains)] = float("nan")
            notes.append(
                f"{lab} ran on other data than {labels[0]} ({describe_data(data_identity(r))} vs "
                f"{describe_data(data_identity(runs[0]))}): its gain_vs_first_jpy is left empty, since costs "
                "on different data are not comparable"
            )
    return {
        "prices": prices,
        "summary": summary,
        "periods": pd.DataFrame(per).set_index(["run", "market", "period"]),
        "spread": price_spread(runs, labels),
        "administrators": administrator_costs(runs, labels),
        "sectors": sector_costs(runs, labels),
        "coverage": pd.concat({lab: _coverage(r) for lab, r in zip(labels, runs)}, names=["run"]),
        "notes": pd.DataFrame({"note": notes}, dtype=object),
    }


def _coverage(r: xr.Dataset) -> pd.DataFrame:
    """Year x share of national CO2: ``coverage_share_<table>`` (split markets summed into their
    table), ``uncovered_share`` and ``combined_coverage_share`` (columns a run lacks are left out)."""
    cols: dict[str, pd.Series] = {}
    if "coverage_share" in r:
        for table, ms in markets_by_table(r["market"].values).items():
            cols[f"coverage_share_{table}"] = r["coverage_share"].sel(market=ms).sum("market").to_series()
        if "uncovered_share" not in r:  # no market selects its entities: every entity is covered
            cols["uncovered_share"] = r["coverage_share"].sum("market").to_series() * 0.0
    for name in ("uncovered_share", "combined_coverage_share"):
        if name in r and r[name].dims == ("year",):
            cols[name] = r[name].to_series()
    df = pd.DataFrame(cols)
    df.index = df.index.astype(np.int64)
    df.index.name = "year"
    return df


def sector_costs(runs: list[xr.Dataset], labels: list[str]) -> pd.DataFrame:
    """Sector x (measure, run), summed over markets, periods and years: ``compliance_cost_jpy``
    (abatement plus allowances bought minus sold at the clearing price, PV), ``abatement_cost_jpy``
    (PV), ``abatement_t``; for every run after the first, ``compliance_cost_change_vs_first_jpy``
    (positive = the sector pays more than in the first run). A sector a run does not cover has 0.
    Empty when a run has no ``compliance_cost_by_sector`` (made by an older nationcap)."""
    measures = {
        "compliance_cost_jpy": "compliance_cost_by_sector",
        "abatement_cost_jpy": "abatement_cost_by_sector",
        "abatement_t": "abatement_by_sector",
    }
    if not all(v in r for r in runs for v in measures.values()):
        return pd.DataFrame()
    cols: dict[str, pd.Series] = {}
    for measure, var in measures.items():
        for lab, r in zip(labels, runs):
            da = r[var]
            cols[f"{measure}_{lab}"] = da.sum([d for d in da.dims if d != "sector"]).to_series()
    df = pd.DataFrame(cols).fillna(0.0).sort_index()
    df.index.name = "sector"
    first = f"compliance_cost_jpy_{labels[0]}"
    for lab in labels[1:]:
        df[f"compliance_cost_change_vs_first_jpy_{lab}"] = df[f"compliance_cost_jpy_{lab}"] - df[first]
    return df


def price_spread(runs: list[xr.Dataset], labels: list[str]) -> pd.DataFrame:
    """(run, table, period): markets, lowest / median / highest PV price (with the markets at the
    ends) and the emissions-weighted mean PV price."""
    rows = []
    for lab, r in zip(labels, runs):
        for table, ms in markets_by_table(r["market"].values).items():
            for p in r["period"].values:
                price = r["price_pv"].sel(market=ms, period=p).to_pandas()
                weight = r["market_emissions"].sel(market=ms, period=p).to_pandas()
                rows.append(
                    {
                        "run": lab,
                        "table": table,
                        "period": str(p),
                        "markets": len(ms),
                        "price_pv_min_jpy_per_t": float(price.min()),
                        "market_at_min": str(price.idxmin()),
                        "price_pv_p50_jpy_per_t": float(price.median()),
                        "price_pv_max_jpy_per_t": float(price.max()),
                        "market_at_max": str(price.idxmax()),
                        "price_pv_weighted_mean_jpy_per_t": float(np.average(price, weights=weight))
                        if float(weight.sum()) > 0
                        else float("nan"),
                    }
                )
    return pd.DataFrame(rows).set_index(["run", "table", "period"]) if rows else pd.DataFrame()


def administrator_costs(runs: list[xr.Dataset], labels: list[str]) -> pd.DataFrame:
    """Administrator x run: compliance cost (PV JPY, all periods and markets), and for every run
    after the first its change against the first (``change_vs_<first>_jpy``, positive = pays
    more). Empty when a run has no ``compliance_cost_by_administrator`` (made by an older
    nationcap)."""
    if not all("compliance_cost_by_administrator" in r for r in runs):
        return pd.DataFrame()
    cols = {
        lab: r["compliance_cost_by_administrator"].sum(["market", "period"]).to_series() for lab, r in zip(labels, runs)
    }
    df = pd.DataFrame(cols).fillna(0.0)
    df.index.name = "administrator"
    df.columns = [f"compliance_cost_jpy_{c}" for c in df.columns]
    first = df.columns[0]
    for lab, col in zip(labels[1:], df.columns[1:]):
        df[f"change_vs_first_jpy_{lab}"] = df[col] - df[first]
    return df


def write_compare(
    paths: list[str | Path], out_dir: Path, force: bool = False, member: str | None = None
) -> dict[str, pd.DataFrame]:
    """Write compare_prices.csv, compare_summary.csv, compare_periods.csv, compare.png and, when
    there are notes, compare_notes.txt, atomically (an existing comparison is replaced only once
    the new one is complete)."""
    from .plots.compare import plot_compare

    out_dir = Path(out_dir)
    check_writable(out_dir, force)  # before reading anything
    tables = compare(paths, member)
    with atomic_folder(out_dir, force) as tmp:
        for name, df in tables.items():
            if name != "notes":
                df.to_csv(tmp / f"compare_{name}.csv", lineterminator="\n")
        if len(tables["notes"]):
            (tmp / "compare_notes.txt").write_text("\n".join(tables["notes"]["note"]) + "\n", encoding="utf-8")
        plot_compare(tables).savefig(tmp / "compare.png", dpi=120)
    return tables
