"""Batch runs: sweep expansion and the [sweep] table, cache/resume, failure recording, Monte
Carlo determinism, and the same results on a real local Dask cluster as on the local pool.

Every case is a hand-built five-entity dataset (two periods of two years), solved in ~0.1 s.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.batch import executors
from nationcap.batch.plan import plan_montecarlo, plan_sweep
from nationcap.batch.store import run_batch
from nationcap.cli import cli
from nationcap.errors import InputError
from nationcap.inputs import fingerprint
from nationcap.model.rules import price_band

pytestmark = pytest.mark.solver

KEY = "markets.regional.compliance_factor.P2.general"
KEY1 = "markets.regional.compliance_factor.P1.general"  # 0.95 is infeasible here: at most 60 % can be abated

MC_TABLE = """
[montecarlo]
draws = 4
seed = 7

[montecarlo.bau_growth]
by = "market"
distribution = "normal"
sd = 0.02

[montecarlo.mac_cost]
by = "sector"
distribution = "lognormal"
sd = 0.3
"""


def make_case(root, extra: str = ""):
    return batch_case(root, extra, national_p2=0.10)


def numeric_equal(a: xr.Dataset, b: xr.Dataset) -> None:
    """Every variable and coordinate identical (attributes such as timings aside)."""
    xr.testing.assert_equal(a, b)


# ---------------------------------------------------------------------------------------
# the [sweep] table (its parsing and expansion: tests/config/test_batch_tables.py)
# ---------------------------------------------------------------------------------------


def test_sweep_table_in_the_scenario_file(tmp_path):
    table = f'[sweep]\nmode = "zip"\nparams = {{ "{KEY}" = [0.1, 0.2], "discount_rate" = [0.02, 0.04] }}\n'
    path = make_case(tmp_path, table)
    b = plan_sweep(path)
    assert b.mode == "zip" and b.params == [KEY, "discount_rate"]
    assert [m.label for m in b.members] == ["s000", "s001"]
    assert [m.params for m in b.members] == [{KEY: 0.1, "discount_rate": 0.02}, {KEY: 0.2, "discount_rate": 0.04}]
    # the same table as a grid, overridden from the CLI side: 4 members
    assert len(plan_sweep(path, mode="grid").members) == 4
    # unknown keys inside [sweep] are rejected like any other scenario typo
    bad = make_case(tmp_path / "bad", '[sweep]\nmod = "zip"\nparams = { "discount_rate" = [0.02] }\n')
    with pytest.raises(InputError, match="sweep.mod"):
        plan_sweep(bad)


def test_cli_sweep_grid_writes_combined_outputs(tmp_path):
    path = make_case(tmp_path)
    out = tmp_path / "sw"
    r = CliRunner().invoke(
        cli,
        [
            "sweep",
            str(path),
            "--param",
            KEY,
            "--values",
            "0.08,0.12",
            "--param",
            "markets.national.compliance_factor.P2.general",
            "--values",
            "0.1,0.2",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "solved 4, reused 0" in r.output
    for f in (
        "results.nc",
        "summary.csv",
        "iamc.csv",
        "run.json",
        "batch.json",
        "scenario_market_year.csv",
        "scenario_market_sector_year.csv",
    ):
        assert (out / f).is_file(), f
    # members keep the market-level results: per-entity detail stays with single runs
    assert not (out / "entities.csv").exists() and not list(out.glob("*entity*.csv"))
    with xr.open_dataset(out / "results.nc") as res:
        assert list(res["scenario"].values) == ["s000", "s001", "s002", "s003"]
        assert res["price"].dims == ("scenario", "market", "year")
        assert list(res[KEY].values) == [0.08, 0.08, 0.12, 0.12]
        assert list(res["markets.national.compliance_factor.P2.general"].values) == [0.1, 0.2, 0.1, 0.2]
        assert (res["status"].values == "ok").all()
        # the versions of a single run's results are kept for the batch
        for key in ("nationcap_version", "pyomo_version", "highspy_version", "python_version"):
            assert key in res.attrs, key
        # a stricter factor means a smaller cap
        cap = res["cap"].sel(market="regional", period="P2").values
        assert cap[0] > cap[2]
        for s in range(4):
            assert (
                json.loads(str(res["config"].values[s]))["markets"]["regional"]["compliance_factor"]["P2"]["general"]
                == res[KEY].values[s]
            )
    summary = pd.read_csv(out / "summary.csv")
    for col in (
        "scenario",
        KEY,
        "status",
        "market",
        "year",
        "period",
        "price_jpy_per_t",
        "emissions_t",
        "cap_t",
        "bank_t",
        "total_cost_jpy_pv",
    ):
        assert col in summary.columns, col
    assert len(summary) == 4 * 2 * 4  # scenarios x markets x years
    meta = json.loads((out / "run.json").read_text())
    assert meta["n_ok"] == 4 and meta["solved_now"] == 4 and meta["sweep"]["mode"] == "grid"
    assert len(list((out / "runs").glob("*.nc"))) == 4 and len(list((out / "logs").glob("*.log"))) == 4
    assert (
        "HiGHS" in next((out / "logs").glob("*.log")).read_text()
        or "IPX" in next((out / "logs").glob("*.log")).read_text()
    )


# ---------------------------------------------------------------------------------------
# cache and resume
# ---------------------------------------------------------------------------------------


def test_rerun_reuses_the_cache_and_refuses_other_results(tmp_path, monkeypatch):
    path = make_case(tmp_path)
    out = tmp_path / "sw"
    calls = []
    real = executors.solve_job
    monkeypatch.setattr(executors, "solve_job", lambda job: calls.append(job.key) or real(job))
    args = ["sweep", str(path), "--param", KEY, "--values", "0.08,0.12", "--out", str(out), "--workers", "1"]
    runner = CliRunner()
    assert runner.invoke(cli, args).exit_code == 0
    assert len(calls) == 2
    cache = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.nc")}
    first = xr.load_dataset(out / "results.nc")

    r = runner.invoke(cli, args)  # the same batch again: nothing is solved, outputs rebuilt
    assert r.exit_code == 0, r.output
    assert len(calls) == 2 and "solved 0, reused 2" in r.output
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.nc")} == cache
    numeric_equal(xr.load_dataset(out / "results.nc"), first)

    other = ["sweep", str(path), "--param", KEY, "--values", "0.12,0.14", "--out", str(out), "--workers", "1"]
    r = runner.invoke(cli, other)  # a different batch into the same folder
    assert r.exit_code == 4 and "--force" in r.output
    r = runner.invoke(cli, other + ["--force"])
    assert r.exit_code == 0, r.output
    assert len(calls) == 3  # 0.12 came from the cache, only 0.14 was solved
    assert len(list((out / "runs").glob("*.nc"))) == 2  # the 0.08 run of the old batch is pruned
    with xr.open_dataset(out / "results.nc") as res:
        assert list(res[KEY].values) == [0.12, 0.14]
        np.testing.assert_array_equal(
            res["price"].sel(scenario="s000").values, first["price"].sel(scenario="s001").values
        )

    r = runner.invoke(cli, other + ["--no-resume"])  # re-solve everything on request
    assert r.exit_code == 0 and len(calls) == 5


def test_refuses_a_folder_with_a_single_run(tmp_path):
    path = make_case(tmp_path)
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(path), "--out", str(out)]).exit_code == 0
    r = runner.invoke(cli, ["sweep", str(path), "--param", KEY, "--values", "0.1", "--out", str(out), "--workers", "1"])
    assert r.exit_code == 4


def test_cache_key_changes_with_the_configuration_and_the_data(tmp_path):
    path = make_case(tmp_path)
    b1 = plan_sweep(path, {KEY: [0.1, 0.1, 0.2]})
    assert b1.members[0].key == b1.members[1].key != b1.members[2].key
    assert len(b1.jobs) == 2  # duplicate points are solved once
    fingerprint._FINGERPRINTS.clear()
    (tmp_path / "data" / "bau.csv").write_text((tmp_path / "data" / "bau.csv").read_text().replace("1000.0", "1001.0"))
    b2 = plan_sweep(path, {KEY: [0.1]})
    assert b2.members[0].key != b1.members[0].key


# ---------------------------------------------------------------------------------------
# failures
# ---------------------------------------------------------------------------------------


def test_failed_members_are_recorded_and_the_batch_completes(tmp_path):
    path = make_case(tmp_path)
    out = tmp_path / "sw"
    # 0.95 in P1 is infeasible (at most 60 % can be abated); 1.5 is not a valid factor at all
    r = CliRunner().invoke(
        cli,
        ["sweep", str(path), "--param", KEY1, "--values", "0.05,0.95,1.5,0.08", "--out", str(out), "--workers", "2"],
    )
    assert r.exit_code == 0, r.output
    assert "2 failed" in r.output
    with xr.open_dataset(out / "results.nc") as res:
        assert list(res["status"].values) == ["ok", "failed", "failed", "ok"]
        assert "infeasible" in str(res["error"].values[1]) and "regional" in str(res["error"].values[1])
        assert "factor must be in [0, 1)" in str(res["error"].values[2])
        assert np.isnan(res["price"].sel(scenario=["s001", "s002"]).values).all()
        assert np.isfinite(res["price"].sel(scenario=["s000", "s003"]).values).all()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.loc[summary["scenario"] == "s001", "status"]) == {"failed"}
    meta = json.loads((out / "run.json").read_text())
    assert [m["status"] for m in meta["members"]] == ["ok", "failed", "failed", "ok"]
    logs = {p.name: p.read_text() for p in (out / "logs").glob("*.log")}
    assert any("FAILED: infeasible" in t for t in logs.values())
    assert any(n.startswith("invalid-s002") for n in logs)
    assert len(list((out / "runs").glob("*.nc"))) == 2  # failures are not cached


def test_all_failed_exits_with_model_error_but_writes_outputs(tmp_path):
    path = make_case(tmp_path)
    out = tmp_path / "sw"
    r = CliRunner().invoke(
        cli, ["sweep", str(path), "--param", KEY1, "--values", "0.9,0.95", "--out", str(out), "--workers", "1"]
    )
    assert r.exit_code == 3
    with xr.open_dataset(out / "results.nc") as res:
        assert list(res["status"].values) == ["failed", "failed"]


# ---------------------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------------------


def test_montecarlo_is_deterministic_across_runs_and_worker_counts(tmp_path):
    path = make_case(tmp_path, MC_TABLE)
    r1 = run_batch(plan_montecarlo(path), tmp_path / "mc1", workers=1)
    r2 = run_batch(plan_montecarlo(path), tmp_path / "mc2", workers=2)
    assert r1.solved == 4 and not r1.failed and r1.engine == "in-process" and r2.engine.startswith("local pool")
    numeric_equal(r1.results, r2.results)
    # draw i does not depend on the number of draws
    r3 = run_batch(plan_montecarlo(path, draws=2), tmp_path / "mc3", workers=1)
    numeric_equal(r3.results["price"], r1.results["price"].isel(draw=[0, 1]))
    # a different seed gives different draws
    r4 = run_batch(plan_montecarlo(path, seed=8), tmp_path / "mc4", workers=1)
    assert not np.array_equal(r4.results["mc_mac_cost_multiplier"].values, r1.results["mc_mac_cost_multiplier"].values)
    # the draws differ from each other and change the prices
    assert len({tuple(np.round(r1.results["price"].values[i].ravel(), 6)) for i in range(4)}) > 1


def test_cli_montecarlo_writes_the_price_distribution(tmp_path):
    path = make_case(tmp_path, MC_TABLE)
    out = tmp_path / "mc"
    r = CliRunner().invoke(
        cli, ["montecarlo", str(path), "--draws", "5", "--seed", "3", "--out", str(out), "--workers", "1"]
    )
    assert r.exit_code == 0, r.output
    assert "seed 3" in r.output and "solved 5" in r.output
    with xr.open_dataset(out / "results.nc") as res:
        assert list(res["draw"].values) == [0, 1, 2, 3, 4]
        assert res["price"].dims == ("draw", "market", "year")
        assert res["mc_bau_multiplier"].dims == ("draw", "bau_group", "year")
        assert res.attrs["montecarlo_seed"] == 3
        p50 = np.quantile(res["price"].sel(market="regional", year=2029).values, 0.5)
    s = pd.read_csv(out / "summary.csv")
    for col in (
        "market",
        "year",
        "n_draws",
        "price_mean_jpy_per_t",
        "price_p05_jpy_per_t",
        "price_p50_jpy_per_t",
        "price_p95_jpy_per_t",
        "p_price_at_floor",
        "p_price_at_ceiling",
    ):
        assert col in s.columns, col
    row = s[(s["market"] == "regional") & (s["year"] == 2029)].iloc[0]
    assert row["n_draws"] == 5 and row["price_p50_jpy_per_t"] == pytest.approx(p50)
    assert np.isnan(row["p_price_at_floor"])  # no price band configured
    draws = pd.read_csv(out / "draws.csv")
    assert len(draws) == 5 * 2 * 4 and {"draw", "status", "price_jpy_per_t"} <= set(draws.columns)


def test_price_band_probability_from_results_variables():
    price = xr.DataArray(
        [[[100.0, 150.0]], [[120.0, 300.0]], [[100.0, 200.0]]],
        dims=("draw", "market", "year"),
        coords={"draw": [0, 1, 2], "market": ["national"], "year": [2026, 2027]},
    )
    floor = xr.full_like(price, 100.0)
    ceiling = xr.full_like(price, np.nan)
    ceiling[:, 0, 1] = 300.0
    res = xr.Dataset(
        {"price": price, "price_floor": floor, "price_ceiling": ceiling, "status": ("draw", ["ok", "ok", "ok"])},
        attrs={"batch_dim": "draw"},
    )
    res = res.assign(price_band.montecarlo(res))
    np.testing.assert_allclose(res["p_price_at_floor"].sel(market="national").values, [2 / 3, 0.0])
    assert np.isnan(res["p_price_at_ceiling"].sel(market="national", year=2026))
    assert float(res["p_price_at_ceiling"].sel(market="national", year=2027)) == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------------
# a real local Dask cluster gives the same results as the local pool
# ---------------------------------------------------------------------------------------


def test_dask_scheduler_gives_the_same_results_as_the_local_pool(tmp_path, dask_cluster):
    """Bit for bit with --no-reuse: every member is then what `nationcap run --set` gives,
    whichever worker solves it (re-solving a held model agrees with that to 1e-9 only)."""
    address = dask_cluster()
    assert address.startswith("tcp://127.0.0.1:")
    path = make_case(tmp_path)
    args = ["sweep", str(path), "--param", KEY1, "--values", "0.04,0.05,0.95,0.06", "--no-reuse"]
    runner = CliRunner()
    r = runner.invoke(cli, args + ["--out", str(tmp_path / "local"), "--workers", "2"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, args + ["--out", str(tmp_path / "dask"), "--scheduler", address])
    assert r.exit_code == 0, r.output
    assert f"dask {address}" in r.output
    local = xr.load_dataset(tmp_path / "local" / "results.nc")
    remote = xr.load_dataset(tmp_path / "dask" / "results.nc")
    numeric_equal(local, remote)
    np.testing.assert_array_equal(local["price"].values, remote["price"].values)
    assert list(remote["status"].values) == ["ok", "ok", "failed", "ok"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "local" / "summary.csv"), pd.read_csv(tmp_path / "dask" / "summary.csv")
    )
    assert json.loads((tmp_path / "dask" / "run.json").read_text())["engine"] == f"dask {address}"


# ---------------------------------------------------------------------------------------
# allowance reserves in a Monte Carlo: trigger probabilities and volume quantiles
# ---------------------------------------------------------------------------------------


def test_reserve_trigger_probability_from_results_variables():
    """Three draws, one market, two years, one release tranche (trigger 200 in 2026, 210 in 2027)
    and one withhold tranche (100, 105), draw 2 failed (NaN, left out).

    prices 2026: 200 (at the release trigger), 150, [failed]; 2027: 250 (above), 105 (at the
    withhold trigger), [failed]. Release triggered: 2026 in 1 of 2 draws, 2027 in 1 of 2. Withhold:
    2026 in 0 of 2, 2027 in 1 of 2. Released volumes 2026: 0 and 0 (at the trigger, not needed),
    2027: 7 and 0: mean 3.5, median 3.5. Over the one period: 7 and 0 (95 % quantile, linear:
    0 + 0.95 x 7 = 6.65)."""
    from nationcap.model.rules import reserve

    coords = {"draw": [0, 1, 2], "market": ["national"], "year": [2026, 2027], "tranche": [0]}
    dims = ("draw", "market", "year", "tranche")
    price = xr.DataArray(
        [[[200.0, 250.0]], [[150.0, 105.0]], [[np.nan, np.nan]]],
        dims=("draw", "market", "year"),
        coords={k: coords[k] for k in ("draw", "market", "year")},
    )
    trig_rel = xr.DataArray(
        np.broadcast_to(np.array([200.0, 210.0])[None, None, :, None], (3, 1, 2, 1)), dims=dims, coords=coords
    )
    trig_wh = trig_rel / 2.0
    released = xr.DataArray([[[[0.0], [7.0]]], [[[0.0], [0.0]]], [[[np.nan], [np.nan]]]], dims=dims, coords=coords)
    withheld = xr.DataArray([[[[0.0], [0.0]]], [[[0.0], [0.0]]], [[[np.nan], [np.nan]]]], dims=dims, coords=coords)
    res = xr.Dataset(
        {
            "price": price,
            "reserve_release_trigger": trig_rel,
            "reserve_withhold_trigger": trig_wh,
            "reserve_released": released,
            "reserve_withheld": withheld,
            "status": ("draw", ["ok", "ok", "failed"]),
        },
        attrs={
            "batch_dim": "draw",
            "config": json.dumps({"periods": [{"name": "P1", "first_year": 2026, "last_year": 2027}]}),
        },
    )
    out = reserve.montecarlo(res)
    np.testing.assert_allclose(out["p_reserve_release0_triggered"].sel(market="national").values, [0.5, 0.5])
    np.testing.assert_allclose(out["p_reserve_withhold0_triggered"].sel(market="national").values, [0.0, 0.5])
    np.testing.assert_allclose(out["reserve_released0_mean"].sel(market="national").values, [0.0, 3.5])
    np.testing.assert_allclose(out["reserve_released0_p50"].sel(market="national").values, [0.0, 3.5])
    assert out["reserve_released0_p95"].attrs["units"] == "t"
    # over the period FY2026-2027: 0 + 7 = 7 and 0 + 0 = 0 released, shown in both of its years
    np.testing.assert_allclose(out["reserve_released0_period_mean"].sel(market="national").values, [3.5, 3.5])
    np.testing.assert_allclose(out["reserve_released0_period_p95"].sel(market="national").values, [6.65, 6.65])


def test_montecarlo_reports_reserve_trigger_probabilities(tmp_path):
    """The batch case with a national release tranche at 1,600 JPY/t (20 t a year) and a withhold
    tranche at 1,000 (both +3 %/yr), 6 draws (national prices without reserves from 0 to ~2,500): summary.csv has a probability and volume quantiles per tranche, and
    they agree with the draws: a draw releasing a positive volume has its price at or above the
    trigger (the reduced-cost argument of nationcap/model/rules/reserve.py), and the probability is
    the share of draws whose price reaches the trigger."""
    reserve_table = (
        "[markets.national.reserve]\n"
        "release = [ { trigger_jpy_per_t = 1600.0, volume_t = 20.0, growth_rate = 0.03 } ]\n"
        "withhold = [ { trigger_jpy_per_t = 1000.0, volume_t = 20.0, growth_rate = 0.03 } ]\n"
    )
    path = make_case(tmp_path, reserve_table + MC_TABLE.replace("draws = 4", "draws = 6"))
    r = run_batch(plan_montecarlo(path), tmp_path / "mc", workers=1)
    assert r.solved == 6 and not r.failed
    res = r.results
    price = res["price"].sel(market="national")
    trig = res["reserve_release_trigger"].sel(market="national", tranche=0)
    vol = res["reserve_released"].sel(market="national", tranche=0)
    hit = price >= trig - 1e-6 * trig
    assert bool(((vol > 1e-6) <= hit).all())  # released => triggered
    assert 0 < float(hit.mean()) < 1  # the draws differ: some draws reach the trigger, some do not
    wh_trig = res["reserve_withhold_trigger"].sel(market="national", tranche=0)
    wh_vol = res["reserve_withheld"].sel(market="national", tranche=0)
    wh_hit = price <= wh_trig + 1e-6 * wh_trig
    assert bool(((wh_vol > 1e-6) <= wh_hit).all()) and float(wh_hit.mean()) > 0
    s = pd.read_csv(tmp_path / "mc" / "summary.csv")
    for col in (
        "p_reserve_release0_triggered",
        "p_reserve_withhold0_triggered",
        "reserve_released0_p50_t",
        "reserve_withheld0_p95_t",
    ):
        assert col in s.columns, col
    row = s[(s["market"] == "national") & (s["year"] == 2029)].iloc[0]
    assert row["p_reserve_release0_triggered"] == pytest.approx(float(hit.sel(year=2029).mean()))
    assert row["reserve_released0_p50_t"] == pytest.approx(float(vol.sel(year=2029).median()))
    p2 = vol.sel(year=[2028, 2029]).sum("year")  # P2 = FY2028-2029
    assert row["reserve_released0_period_p50_t"] == pytest.approx(float(p2.median()))
    assert np.isnan(s[s["market"] == "regional"]["p_reserve_release0_triggered"]).all()  # no regional reserve
    assert "p_reserve_release0_triggered" in res  # stored with the batch results
