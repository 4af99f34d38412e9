"""GX-ETS beside the 2009 proposal at full scale: models/gx_ets.toml, its comparison with the
baseline, models/proposal_share.toml and the Monte Carlo of a benchmark against an absolute cap
(models/gx_benchmark_mc.toml). Outputs go to tmp folders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import REPO
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.derive.coverage import coverage_table
from nationcap.derive.scope import resolve
from nationcap.pipeline import load

pytestmark = pytest.mark.integration


def test_gx_ets_at_full_scale_and_its_comparison_with_the_baseline(tmp_path):
    """One market of the 500 national suppliers (no regional installation has 100 kt of direct
    CO2): prices inside the band every year, credits within 10 % of each supplier's own emissions
    in each year, the power auction only from FY2033 and only on power allocations, and the
    comparison with the baseline runs."""
    runner = CliRunner()
    out = {}
    for name in ("baseline", "gx_ets"):
        out[name] = tmp_path / name
        result = runner.invoke(cli, ["run", str(REPO / "models" / f"{name}.toml"), "--out", str(out[name])])
        assert result.exit_code == 0, result.output
    with xr.open_dataset(out["gx_ets"] / "results.nc") as r:
        assert r.attrs["termination"] == "optimal"
        assert r.sizes["entity"] == 500 and list(r["market"].values) == ["national"]
        p, lo, hi = r["price"], r["price_floor"], r["price_ceiling"]
        assert bool((p >= lo - 1e-6).all()) and bool((p <= hi + 1e-6).all())
        used = r["offsets_used"].sum("offset_type")  # (entity, period); one year per period
        emis = r["emissions"].values  # (entity, year)
        assert (used.values <= 0.1 * emis + 1.0).all()  # t, to the LP's tolerance
        assert float(used.sum()) > 0
        auction = r["auction_volume"].sel(market="national").to_pandas()
        assert (auction.loc[[f"FY{y}" for y in range(2026, 2033)]] == 0).all()
        assert (auction.loc[["FY2033", "FY2034", "FY2035"]] > 0).all()
        assert float(r["coverage_share"].sel(year=2026).sum()) == pytest.approx(0.603, abs=0.001)
    result = runner.invoke(cli, ["compare", str(out["baseline"]), str(out["gx_ets"]), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    s = pd.read_csv(tmp_path / "cmp" / "compare_summary.csv", index_col="run")
    # the same suppliers, about the same emissions over the decade (within 1 %)
    e = s["emissions_t_national"]
    assert e["gx_ets"] == pytest.approx(e["baseline"], rel=0.01)


def test_proposal_share_holds_the_national_tier_near_half():
    """The size threshold of 0.9 Mt keeps 143 suppliers, 50.3 % of national CO2 in FY2026; the
    smaller suppliers are in the regional market, so both tiers together cover what the baseline
    covers."""
    scn, ds = load(REPO / "models" / "proposal_share.toml", ())
    scope = resolve(scn, ds)
    share = coverage_table(scope.scenario, scope.dataset)
    assert share.loc[2026, "share_national"] == pytest.approx(0.503, abs=0.001)
    assert int((scope.dataset.entities["market"] == "national").sum()) == 143
    assert len(scope.uncovered) == 0
    base_scn, base_ds = load(REPO / "models" / "baseline.toml", ())
    base = coverage_table(base_scn, base_ds)
    np.testing.assert_allclose(share["share_combined"], base["share_combined"], rtol=1e-12)


def test_benchmark_cap_moves_with_the_draws_and_the_absolute_cap_does_not(tmp_path):
    """models/gx_benchmark_mc.toml on 6 draws, as written (benchmark) and with
    allocation.rule = grandfathering (the factors give the same cap without a draw): the
    benchmark cap differs between draws, the absolute one is the same in every draw, and the
    undrawn prices of the two agree (the factors were derived from the benchmark cap)."""
    runner = CliRunner()
    path = str(REPO / "models" / "gx_benchmark_mc.toml")
    absolute = ["--set", "markets.national.allocation.rule=grandfathering"]
    caps = {}
    for name, extra in (("benchmark", []), ("absolute", absolute)):
        out = tmp_path / name
        result = runner.invoke(cli, ["montecarlo", path, "--draws", "6", "--workers", "1", "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        with xr.open_dataset(out / "results.nc") as r:
            caps[name] = r["cap"].load()
    assert float(caps["benchmark"].std("draw").max()) > 1e6  # t: the cap moves with activity
    assert float(caps["absolute"].std("draw").max()) < 1.0
    prices = {}
    for name, extra in (("benchmark", []), ("absolute", absolute)):
        out = tmp_path / f"{name}_run"
        result = runner.invoke(cli, ["run", path, "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        with xr.open_dataset(out / "results.nc") as r:
            prices[name] = r["price"].values
    np.testing.assert_allclose(prices["benchmark"], prices["absolute"], rtol=1e-3)
