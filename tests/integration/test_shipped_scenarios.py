"""Integration runs of the shipped scenarios through the CLI (outputs go to tmp folders)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import REPO
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.pipeline import run_scenario

pytestmark = pytest.mark.integration


def test_validate_baseline_prints_counts_and_coverage():
    result = CliRunner().invoke(cli, ["validate", str(REPO / "models" / "baseline.toml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Entities per market and sector" in out and "Coverage of national CO2" in out
    assert "below the proposal's 60%" not in out
    assert "OK: scenario and dataset are valid." in out


def test_run_tiny(tmp_path):
    """The tiny scenario through ``nationcap run`` (the Pyomo engine): its prices and costs are
    cross-checked against the exact merit-order engine, which solves the same LP by other means."""
    result = CliRunner().invoke(cli, ["run", str(REPO / "models" / "tiny.toml"), "--out", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    exact = run_scenario(REPO / "models" / "tiny.toml", engine="fast")
    with xr.open_dataset(tmp_path / "tiny" / "results.nc") as r:
        assert r.attrs["termination"] == "optimal" and r.attrs["engine"] == "pyomo"
        assert set(r["market"].values) == {"national", "regional"}
        np.testing.assert_allclose(r["price"].values, exact["price"].values, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(r["total_cost"].values, exact["total_cost"].values, rtol=1e-6)
        assert r.attrs["objective_jpy"] == pytest.approx(exact.attrs["objective_jpy"], rel=1e-6)
        assert (r["price"].values > 0).all()  # the tiny caps bind in every year


def test_run_baseline_full_scale(tmp_path):
    """The main job: ~14,500 entities, 10 years, 2 periods, both markets."""
    out = tmp_path / "baseline"
    result = CliRunner().invoke(cli, ["run", str(REPO / "models" / "baseline.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Allowance price" in result.output
    with xr.open_dataset(out / "results.nc") as r:
        assert r.sizes["entity"] > 14_000 and r.sizes["year"] == 10
        # the caps bind somewhere: prices are positive in the tighter second period
        assert (r["price"].sel(year=2035).values > 0).all()
        # per market and period, emissions = cap + bank drawn (banking on, nothing expires)
        prev = xr.zeros_like(r["bank"].isel(period=0))
        for p in r["period"].values:
            bank = r["bank"].sel(period=p)
            np.testing.assert_allclose(
                r["market_emissions"].sel(period=p), r["cap"].sel(period=p) + prev - bank, rtol=1e-7, atol=1.0
            )
            prev = bank
        np.testing.assert_allclose(float(r["total_cost"].sum()), r.attrs["objective_jpy"], rtol=1e-9)


SCENARIOS = sorted(p.stem for p in (REPO / "models").glob("*.toml"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_shipped_scenario_validates(name):
    result = CliRunner().invoke(cli, ["validate", str(REPO / "models" / f"{name}.toml")])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def full_runs(tmp_path_factory):
    """Full-scale runs of the rule and link scenarios, shared by the tests below."""
    base = tmp_path_factory.mktemp("full")
    out = {}
    for name in ("baseline", "linked", "tokyo_rules", "gx_band", "external_link"):
        result = CliRunner().invoke(cli, ["run", str(REPO / "models" / f"{name}.toml"), "--out", str(base / name)])
        assert result.exit_code == 0, result.output
        out[name] = (base / name, result.output)
    return out


def test_rule_scenarios_show_the_rules_at_work(full_runs):
    _, text = full_runs["tokyo_rules"]
    assert "Offset credits bought" in text and "Shortfalls" in text
    with xr.open_dataset(full_runs["tokyo_rules"][0] / "results.nc") as r:
        assert float(r["offsets_used"].sum()) > 0
        assert (r["base_year_first"].values >= 2019).all()
    _, text = full_runs["gx_band"]
    assert "Allowances issued at the ceiling and withdrawn at the floor (Mt):" in text
    assert "ceiling_issued" in text and "floor_withdrawn" in text
    with xr.open_dataset(full_runs["gx_band"][0] / "results.nc") as r:
        assert float(r["ceiling_issued"].sel(market="national").sum()) > 0
        assert float(r["floor_withdrawn"].sel(market="regional").sum()) > 0
        p, lo, hi = r["price"], r["price_floor"], r["price_ceiling"]
        assert bool(((p >= lo - 1e-6) | lo.isnull()).all()) and bool(((p <= hi + 1e-6) | hi.isnull()).all())
    _, text = full_runs["external_link"]
    assert "Foreign allowances imported (Mt):" in text and "imports" in text
    with xr.open_dataset(full_runs["external_link"][0] / "results.nc") as r:
        assert float(r["imports"].sum()) > 0
        np.testing.assert_array_less(
            r["price"].sel(market="national").values, r["import_price"].sel(market="national").values + 1e-6
        )


def test_compare_baseline_and_linked_at_full_scale(full_runs, tmp_path):
    result = CliRunner().invoke(
        cli, ["compare", str(full_runs["baseline"][0]), str(full_runs["linked"][0]), "--out", str(tmp_path / "cmp")]
    )
    assert result.exit_code == 0, result.output
    assert "gain_vs_first_jpy" in result.output
    import pandas as pd

    s = pd.read_csv(tmp_path / "cmp" / "compare_summary.csv", index_col="run")
    assert s.loc["linked", "gain_vs_first_jpy"] > 0  # linking never costs more
    with (
        xr.open_dataset(full_runs["baseline"][0] / "results.nc") as b,
        xr.open_dataset(full_runs["linked"][0] / "results.nc") as li,
    ):
        lo = np.minimum(b["price"].sel(market="national"), b["price"].sel(market="regional"))
        hi = np.maximum(b["price"].sel(market="national"), b["price"].sel(market="regional"))
        pl = li["price"].sel(market="national")
        assert bool(((pl >= lo - 1e-6) & (pl <= hi + 1e-6)).all())


MARKET_RESULTS = ("price_pv", "price", "cap", "market_emissions", "bank", "total_cost")


@pytest.mark.parametrize("name", ["baseline", "tokyo_rules"])
def test_sifting_equals_the_full_formulation_at_full_scale(name):
    """The default (sifting) against the reference (one compliance row per entity and period):
    the same prices, market emissions, banks and costs to 1e-9, with every Tokyo rule too."""
    path = REPO / "models" / f"{name}.toml"
    ref = run_scenario(path, ['solver.formulation="full"'])
    got = run_scenario(path)
    assert json.loads(got.attrs["solver_info"])["formulation"] == "sifting"
    for var in MARKET_RESULTS:
        np.testing.assert_allclose(got[var].values, ref[var].values, rtol=1e-9, atol=1e-6, err_msg=var)
    assert got.attrs["objective_jpy"] == pytest.approx(ref.attrs["objective_jpy"], rel=1e-9)


def test_reserves_scenario_at_full_scale_and_its_monte_carlo(tmp_path):
    """models/reserves.toml: the GX band as finite tranches of 53 Mt (national) and 17 Mt
    (regional) a year, 265 and 85 Mt per five-year period. models/gx_band.toml (the same factors,
    the unlimited band) issues about 30 Mt at the national ceiling and withdraws about 20 Mt at the
    regional floor over the whole horizon, less than one period's tranches: the tranches never run
    out, so the prices and the optimum are the band's (the limiting case) and the totals released
    and withheld agree with what the band issues and withdraws. Its Monte Carlo (10 draws here; the
    shipped table has 200) reports a trigger probability per tranche, market and year."""
    runner = CliRunner()
    res_out, band_out = tmp_path / "reserves", tmp_path / "gx_band"
    for name, out in (("reserves", res_out), ("gx_band", band_out)):
        result = runner.invoke(cli, ["run", str(REPO / "models" / f"{name}.toml"), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert ("Allowance reserves" in result.output) == (name == "reserves")
    with xr.open_dataset(res_out / "results.nc") as r, xr.open_dataset(band_out / "results.nc") as b:
        assert r.attrs["termination"] == "optimal"
        np.testing.assert_allclose(r["price"].values, b["price"].values, rtol=1e-6)
        assert r.attrs["objective_jpy"] == pytest.approx(b.attrs["objective_jpy"], rel=1e-9)  # the same optimum
        year_period = xr.DataArray(
            [f"P{1 + int(y >= 2031)}" for y in r["year"].values], dims="year", coords={"year": r["year"]}
        )
        for var, per_year in (("reserve_released_total", [53e6, 17e6]), ("reserve_withheld_total", [53e6, 17e6])):
            per_period = r[var].groupby(year_period).sum()
            assert (per_period.values < 5 * np.array(per_year)[:, None] - 1.0).all(), var  # never runs out
        # the volumes agree with the band's to 1 % (not to the tonne: where an abatement step costs
        # exactly the trigger, its split with the reserve is not unique)
        released = r["reserve_released_total"].sum("year").values
        withheld = r["reserve_withheld_total"].sum("year").values
        np.testing.assert_allclose(released, b["ceiling_issued"].sum("period").values, rtol=0.01, atol=1.0)
        np.testing.assert_allclose(withheld, b["floor_withdrawn"].sum("period").values, rtol=0.01, atol=1.0)
        assert float(r["reserve_released_total"].sel(market="national").sum()) > 1e6
    mc = tmp_path / "mc"
    result = runner.invoke(
        cli, ["montecarlo", str(REPO / "models" / "reserves.toml"), "--draws", "10", "--workers", "2", "--out", str(mc)]
    )
    assert result.exit_code == 0, result.output
    s = pd.read_csv(mc / "summary.csv")
    for col in ("p_reserve_release0_triggered", "p_reserve_withhold0_triggered", "reserve_released0_p95_t"):
        assert col in s.columns and s[col].between(0, 1e12).all(), col
    assert (s["n_draws"] == 10).all()
