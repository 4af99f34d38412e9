"""Failed batch members are empty (NaN) in every table and absent from every plot.

The case is tests/casebuilder.py's ``batch_case``: five entities, two periods of two years, MAC
steps of 10 %, 20 % and 30 % of BAU (so at most 60 % of BAU can be abated). With
``markets.regional.banking=false``:

- a regional P2 compliance factor of 0.95 is infeasible: the cap is 5 % of base-year emissions
  (= BAU here) but at least 40 % of BAU remains after every step, and no bank can help;
- a factor of 1.5 is invalid (factors are in [0, 1));
- factors 0.05 and 0.10 solve.

For Monte Carlo, a factor of 0.6 leaves a cap of exactly 40 % of base-year emissions in P2, which
every step together just meets when BAU does not grow; draws with BAU growth above zero (about
half of them) are infeasible.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli

pytestmark = pytest.mark.solver

KEY = "markets.regional.compliance_factor.P2.general"
#: columns that describe a member or a coordinate rather than its results
MEMBER_COLUMNS = {"status", "error", "config_hash", "termination", "config"}

MC_TABLE = """
[montecarlo]
draws = 6
seed = 1

[montecarlo.bau_growth]
by = "all"
distribution = "normal"
sd = 0.02
"""


def _invoke(args):
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    return res


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    path = batch_case(root)
    out = root / "out"
    res = _invoke(
        [
            "sweep",
            str(path),
            "--param",
            KEY,
            "--values",
            "0.05,0.1,0.95,1.5",
            "--set",
            "markets.regional.banking=false",
            "--out",
            str(out),
            "--workers",
            "1",
        ]
    )
    assert res.exit_code == 0, res.output
    return out


def _value_columns(df: pd.DataFrame, res: xr.Dataset, extra: set[str] = frozenset()) -> list[str]:
    keys = set(res.dims) | set(res.coords) | MEMBER_COLUMNS | set(extra)
    return [c for c in df.columns if c not in keys]


def test_sweep_statuses(sweep_dir):
    res = xr.load_dataset(sweep_dir / "results.nc")
    assert res["status"].values.tolist() == ["ok", "ok", "failed", "failed"]
    assert "infeasible" in str(res["error"].values[2]) and "[0, 1)" in str(res["error"].values[3])


def test_sweep_summary_has_no_values_for_failed_members(sweep_dir):
    res = xr.load_dataset(sweep_dir / "results.nc")
    df = pd.read_csv(sweep_dir / "summary.csv")
    values = _value_columns(df, res, {KEY})
    assert {"price_jpy_per_t", "emissions_t", "abatement_t", "abatement_cost_jpy", "total_cost_jpy_pv"} <= set(values)
    failed = df[df["status"] != "ok"]
    assert set(failed["scenario"]) == {"s002", "s003"} and len(failed) == 2 * 2 * 4  # members x markets x years
    assert failed[values].isna().all().all(), failed[values]
    ok = df[df["status"] == "ok"]
    assert ok[values].notna().all().all()
    # the ok rows are the results' own numbers: emissions are the sector sums of results.nc
    em = res["emissions_by_sector"].sum("sector").sel(scenario="s000", market="regional", year=2029)
    row = ok[(ok["scenario"] == "s000") & (ok["market"] == "regional") & (ok["year"] == 2029)]
    assert float(row["emissions_t"].iloc[0]) == pytest.approx(float(em))


def test_sweep_variable_tables_have_no_values_for_failed_members(sweep_dir):
    res = xr.load_dataset(sweep_dir / "results.nc")
    tables = [p for p in sweep_dir.glob("scenario*.csv")]
    assert len(tables) > 5
    for path in tables:
        df = pd.read_csv(path)
        failed = df[df["scenario"].isin(["s002", "s003"])]
        values = _value_columns(df, res)
        assert len(failed), path.name
        assert failed[values].isna().all().all(), (path.name, failed[values])


def test_sweep_iamc_leaves_failed_members_out(sweep_dir):
    df = pd.read_csv(sweep_dir / "iamc.csv")
    assert set(df["scenario"]) == {"case/s000", "case/s001"}
    assert not (df[[c for c in df.columns if c.isdigit()]] == 0).all(axis=1).any()


def test_sweep_plot_leaves_failed_members_out(sweep_dir):
    from nationcap.report.plots import plot_prices, plot_sweep

    res = xr.load_dataset(sweep_dir / "results.nc")
    fig = plot_sweep(res)
    for ax in fig.axes:
        xs = np.concatenate([np.asarray(line.get_xdata(), dtype=float) for line in ax.get_lines()])
        ys = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()])
        assert set(np.round(xs, 6)) <= {0.05, 0.1}  # only the successful members are drawn
        assert (ys > 0).all()  # no failed member at price 0
        assert ax.get_xlim()[1] < 0.95  # the failed members' values do not stretch the axis
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("failed, not shown: 2 (s002, s003)" in t for t in labels)
    fig = plot_prices(res)
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert len(lines) == 2 * 2  # two markets, two successful members
    assert all(np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all() for line in lines)


def test_sweep_plot_command_all_kinds(sweep_dir, tmp_path):
    res = _invoke(["plot", str(sweep_dir), "--kind", "prices", "--kind", "sweep", "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / "sweep.png").is_file()
    # a single-run kind refuses a failed member by name
    res = CliRunner().invoke(cli, ["plot", str(sweep_dir), "--kind", "emissions", "--member", "s002"])
    assert res.exit_code == 2 and "not a successful member" in res.output


def test_montecarlo_tables_have_no_values_for_failed_draws(tmp_path):
    path = batch_case(tmp_path, MC_TABLE)
    out = tmp_path / "mc"
    res = _invoke(
        [
            "montecarlo",
            str(path),
            "--out",
            str(out),
            "--workers",
            "1",
            "--set",
            "markets.regional.banking=false",
            "--set",
            f"{KEY}=0.6",
        ]
    )
    assert res.exit_code == 0, res.output
    r = xr.load_dataset(out / "results.nc")
    status = r["status"].values.astype(str)
    ok = np.flatnonzero(status == "ok")
    bad = np.flatnonzero(status != "ok")
    assert len(ok) >= 2 and len(bad) >= 1, status  # seed 1 gives both (3 and 3)

    draws = pd.read_csv(out / "draws.csv")
    values = _value_columns(draws, r)
    failed_rows = draws[draws["draw"].isin(bad)]
    assert (failed_rows["status"] == "failed").all()
    assert failed_rows[values].isna().all().all()
    assert draws[draws["draw"].isin(ok)][values].notna().all().all()

    summary = pd.read_csv(out / "summary.csv")
    assert (summary["n_draws"] == len(ok)).all()
    # the quantiles are those of the successful draws only
    p = r["price"].isel(draw=ok).sel(market="regional", year=2029).values
    row = summary[(summary["market"] == "regional") & (summary["year"] == 2029)].iloc[0]
    assert row["price_p50_jpy_per_t"] == pytest.approx(float(np.median(p)))
    assert row["price_min_jpy_per_t"] == pytest.approx(float(p.min()))

    # a Monte Carlo writes no per-variable tables (results.nc holds every variable by draw)
    assert [p.name for p in out.glob("draw*.csv")] == ["draws.csv"]
    assert np.isnan(r["price"].isel(draw=bad).values).all()

    iamc = pd.read_csv(out / "iamc.csv")
    assert {f"case/draw{i:03d}" for i in bad}.isdisjoint(set(iamc["scenario"]))

    from nationcap.report.plots import plot_distribution, plot_prices

    fig = plot_prices(r)
    drawn = [line for line in fig.axes[0].get_lines() if len(line.get_xdata())]
    assert len(drawn) == len(ok) + 1  # every successful draw and their median
    fig = plot_distribution(r)
    assert all(np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all() for line in fig.axes[1].get_lines()[:2])
    meta = json.loads((out / "run.json").read_text())
    assert meta["n_failed"] == len(bad)
