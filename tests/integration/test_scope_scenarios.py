"""The scope scenarios at full scale: prefectural markets, Tokyo + Saitama, the regional threshold
sweep, and the comparison of the nationwide regional market with its prefectural split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import REPO
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.pipeline import run_scenario
from nationcap.report.compare import compare

pytestmark = pytest.mark.integration

#: the shipped dataset's regional tier: 14,000 installations run by 67 administrators (47
#: prefectures and 20 designated cities); Tokyo has 1,250, Saitama prefecture 600
REGIONAL, ADMINISTRATORS, TOKYO, SAITAMA = 14_000, 67, 1_250, 600


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("scope")
    for name in ("baseline", "prefectural", "tokyo_saitama"):
        r = CliRunner().invoke(cli, ["-q", "run", str(REPO / "models" / f"{name}.toml"), "--out", str(root / name)])
        assert r.exit_code == 0, r.output
    return root


def test_prefectural_markets_and_the_gain_from_one_market(runs):
    with xr.open_dataset(runs / "prefectural" / "results.nc") as r:
        regional = [str(m) for m in r["market"].values if str(m).startswith("regional/")]
        assert len(regional) == ADMINISTRATORS and r.attrs["termination"] == "optimal"
        assert int(r["entities_by_sector"].sel(market=regional).sum()) == REGIONAL
        prices = r["price_pv"].sel(market=regional).values
    with xr.open_dataset(runs / "baseline" / "results.nc") as b:
        nationwide = float(b["price_pv"].sel(market="regional", period="P1"))
    assert prices.min() < nationwide < prices.max()
    tables = compare([runs / "baseline", runs / "prefectural"])
    s = tables["summary"]
    # one nationwide market costs less than 67 separate ones; the national tier is untouched
    assert s["gain_vs_first_jpy"].iloc[1] < 0
    assert s["total_cost_jpy_national"].iloc[0] == pytest.approx(s["total_cost_jpy_national"].iloc[1], rel=1e-9)
    assert s["total_cost_jpy_regional"].iloc[1] - s["total_cost_jpy_regional"].iloc[0] == pytest.approx(
        -s["gain_vs_first_jpy"].iloc[1], rel=1e-9
    )
    assert tables["spread"].xs(("prefectural", "regional", "P1"))["markets"] == ADMINISTRATORS
    assert len(tables["administrators"]) == ADMINISTRATORS + 1  # and "national"


def test_tokyo_saitama_leaves_the_rest_uncovered(runs):
    with xr.open_dataset(runs / "tokyo_saitama" / "results.nc") as r:
        assert [str(m) for m in r["market"].values] == ["national", "tokyo", "saitama"]
        n = r["entities_by_sector"].sum("sector")
        assert int(n.sel(market="tokyo")) == TOKYO and int(n.sel(market="saitama")) == SAITAMA
        assert int(r["uncovered_entities_by_sector"].sum()) == REGIONAL - TOKYO - SAITAMA
        shares = r["coverage_share"].sum("market") + r["uncovered_share"]
    with xr.open_dataset(runs / "baseline" / "results.nc") as b:
        # covered and uncovered shares add up to what the baseline covers (every entity of the dataset)
        np.testing.assert_allclose(shares.values, b["coverage_share"].sum("market").values, rtol=1e-12)


def test_threshold_sweep_coverage_cost_table(tmp_path):
    out = tmp_path / "threshold"
    r = CliRunner().invoke(cli, ["-q", "sweep", str(REPO / "models/regional_threshold.toml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out / "summary.csv")
    reg = df[(df["market"] == "regional") & (df["year"] == 2026)].sort_values("markets.regional.select.min_base_t")
    assert (reg["status"] == "ok").all() and len(reg) == 7
    assert reg["entities"].is_monotonic_decreasing and reg["coverage_share"].is_monotonic_decreasing
    # fewer, larger installations with the same factors: the cheap small-site steps leave, the price rises
    assert reg["price_jpy_per_t"].is_monotonic_increasing
    # the lowest threshold covers the tier as the baseline does (all but 19 installations below 3,000 t)
    base = run_scenario(REPO / "models" / "baseline.toml", engine="fast")
    assert reg["entities"].iloc[0] == REGIONAL - 19
    assert float(base["price"].sel(market="regional", year=2026)) == pytest.approx(
        reg["price_jpy_per_t"].iloc[0], rel=0.01
    )
