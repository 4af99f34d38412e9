"""Batches over market selections: a threshold sweep, and Monte Carlo draws by market when a
table is split or selects (the draw groups are the resolved markets, on every engine)."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr
from casebuilder import REPO
from click.testing import CliRunner

from nationcap.cli import cli

pytestmark = pytest.mark.solver

SELECT = 'markets.regional.select={market=["regional"],min_base_t=20000.0}'


def test_threshold_sweep_reports_coverage_and_cost_per_tonne(tmp_path):
    out = tmp_path / "sweep"
    args = ["-q", "sweep", str(REPO / "models/tiny.toml"), "--out", str(out), "--workers", "1"]
    args += ["--param", "markets.regional.select.min_base_t", "--values", "0,10000,20000"]
    args += ["--set", 'markets.regional.select={market=["regional"]}']
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out / "summary.csv")
    reg = df[(df["market"] == "regional") & (df["year"] == 2026)].sort_values("markets.regional.select.min_base_t")
    # a higher threshold covers fewer entities and a smaller share of national CO2
    assert reg["entities"].is_monotonic_decreasing and reg["entities"].iloc[0] > reg["entities"].iloc[-1]
    assert reg["coverage_share"].is_monotonic_decreasing
    assert reg["cost_per_t_abated_jpy_per_t_pv"].notna().all()
    res = xr.load_dataset(out / "results.nc")
    # what the markets do not cover is reported, and the shares add up at every point
    covered = res["coverage_share"].sum("market") + res["uncovered_share"]
    assert float(abs(covered - covered.isel(scenario=0)).max()) < 1e-12


def test_market_draws_on_split_markets_agree_across_engines(tmp_path):
    results = {}
    for engine in ("fast", "pyomo"):
        out = tmp_path / engine
        args = ["-q", "montecarlo", str(REPO / "models/tiny_montecarlo.toml"), "--draws", "4", "--workers", "1"]
        args += ["--out", str(out), "--set", SELECT, "--set", 'markets.regional.split_by="administrator"']
        args += ["--set", f'solver.engine="{engine}"']
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        results[engine] = xr.load_dataset(out / "results.nc")
    fast, pyomo = results["fast"], results["pyomo"]
    markets = [str(m) for m in fast["market"].values]
    assert markets[0] == "national" and all(m.startswith("regional/") for m in markets[1:])
    # one BAU draw per resolved market
    assert [str(g) for g in fast["bau_group"].values] == markets
    assert float(abs(fast["price"] - pyomo["price"]).max()) < 1e-6
