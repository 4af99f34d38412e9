"""Paired Monte Carlo: two designs solved on the same draws, their per-draw costs and the gain."""

from __future__ import annotations

import filecmp
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.batch import worker
from nationcap.batch.plan import plan_montecarlo
from nationcap.batch.store import run_batch, run_paired, shares_draws
from nationcap.cli import cli
from nationcap.report.paired import paired_tables
from nationcap.results.io import load_results, write_csv
from nationcap.session import Session

pytestmark = pytest.mark.solver

MC_TABLE = """
[montecarlo]
draws = 4
seed = 7

[montecarlo.bau_growth]
by = "market"
distribution = "normal"
sd = 0.05

[montecarlo.mac_cost]
by = "sector"
distribution = "lognormal"
sd = 0.3
"""


def pair(root):
    """Design A: the two markets unlinked; B: the same with a full two-way link."""
    a = batch_case(root / "a", MC_TABLE)
    b = batch_case(root / "b", '[link]\nmode = "full"\n' + MC_TABLE)
    return a, b


@pytest.mark.parametrize("engine", ["pyomo", "fast"])
def test_per_draw_costs_equal_two_separate_monte_carlos(tmp_path, engine):
    """The paired run's cost under A and under B of every draw and market equals the sum over
    periods of total_cost (and of the entities' compliance cost) in a separate Monte Carlo of A and
    of B with the same seed; the gain is their difference, and the effort and risk parts add up to
    the mean gain. On the Pyomo engine the two designs run as two batches (their members cached
    in runs/), on the exact engine together (one pool, each draw made once)."""
    a, b = pair(tmp_path)
    runner = CliRunner()
    engine_set = ["--set", f'solver.engine="{engine}"']
    r = runner.invoke(
        cli, ["montecarlo", str(a), "--paired", str(b), "--workers", "1", "--out", str(tmp_path / "p"), *engine_set]
    )
    assert r.exit_code == 0, r.output
    assert ("each draw made once" in r.output) == (engine == "fast")
    for name, path in (("a", a), ("b", b)):
        r = runner.invoke(
            cli, ["montecarlo", str(path), "--workers", "1", "--out", str(tmp_path / f"sep_{name}"), *engine_set]
        )
        assert r.exit_code == 0, r.output
    draws = pd.read_csv(tmp_path / "p" / "paired_draws.csv")
    for name in ("a", "b"):
        res = load_results(tmp_path / f"sep_{name}")
        for column, sep in (
            (f"cost_{name}_jpy", res["total_cost"].sum("period")),
            (f"compliance_cost_{name}_jpy", res["compliance_cost_by_administrator"].sum(["administrator", "period"])),
        ):
            got = draws.pivot(index="draw", columns="market", values=column)
            expect = sep.to_pandas().loc[got.index, got.columns]
            np.testing.assert_allclose(got.to_numpy(), expect.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(draws["gain_jpy"], draws["cost_a_jpy"] - draws["cost_b_jpy"])
    summary = pd.read_csv(tmp_path / "p" / "paired_summary.csv")
    for prefix in ("", "compliance_"):
        np.testing.assert_allclose(
            summary[f"{prefix}effort_sharing_jpy"] + summary[f"{prefix}risk_sharing_jpy"],
            summary[f"mean_{prefix}gain_jpy"],
            rtol=1e-12,
        )
    assert (tmp_path / "p" / "paired_gains.png").stat().st_size > 0


#: what a Monte Carlo batch folder holds besides run.json (its timings) and the empty runs/, logs/
BATCH_FILES = ("batch.json", "results.nc", "draws.csv", "summary.csv", "iamc.csv")


@pytest.mark.parametrize("workers", [1, 2])
def test_the_shared_path_writes_the_files_of_two_separate_runs(tmp_path, workers):
    """Both designs on the exact engine, solved together (one pool, each draw made once): a/ and
    b/ hold, byte for byte, the files of a separate Monte Carlo of each design, and the paired
    tables are the same as the ones made from those separate runs."""
    a, b = pair(tmp_path)
    fast = ["--set", 'solver.engine="fast"', "--draws", "7", "--workers", str(workers)]
    runner = CliRunner()
    r = runner.invoke(cli, ["montecarlo", str(a), "--paired", str(b), "--out", str(tmp_path / "p"), *fast])
    assert r.exit_code == 0, r.output
    assert "each draw made once" in r.output
    for name, path in (("a", a), ("b", b)):
        r = runner.invoke(cli, ["montecarlo", str(path), "--out", str(tmp_path / f"sep_{name}"), *fast])
        assert r.exit_code == 0, r.output
        for f in BATCH_FILES:
            assert filecmp.cmp(tmp_path / "p" / name / f, tmp_path / f"sep_{name}" / f, shallow=False), (name, f)
        run = json.loads((tmp_path / "p" / name / "run.json").read_text())
        assert run["n_ok"] == 7 and not list((tmp_path / "p" / name / "logs").iterdir())
    det = [Session.open(p, [fast[1]]).solve(detail="market", mac_curve=False).results for p in (a, b)]
    tables = paired_tables(load_results(tmp_path / "sep_a"), load_results(tmp_path / "sep_b"), *det)
    for key in ("draws", "summary", "prices"):
        got = pd.read_csv(tmp_path / "p" / f"paired_{key}.csv")
        with tempfile.TemporaryDirectory() as tmp:
            write_csv(tables[key], Path(tmp) / "t.csv")
            expect = pd.read_csv(Path(tmp) / "t.csv")
        pd.testing.assert_frame_equal(got, expect, check_exact=True)


def test_the_shared_path_on_dask_writes_the_same_files(tmp_path, dask_cluster):
    """The paired chunks on a Dask cluster (one worker process with two threads, bound to
    127.0.0.1 and closed by the test) give a/ and b/ the same files, byte for byte, as the local
    pool."""
    a, b = pair(tmp_path)
    fast = ["--set", 'solver.engine="fast"', "--draws", "5", "--workers", "2"]
    runner = CliRunner()
    r = runner.invoke(cli, ["montecarlo", str(a), "--paired", str(b), "--out", str(tmp_path / "local"), *fast])
    assert r.exit_code == 0, r.output
    args = ["montecarlo", str(a), "--paired", str(b), "--out", str(tmp_path / "dask"), *fast]
    r = runner.invoke(cli, [*args, "--scheduler", dask_cluster(threads_per_worker=2)])
    assert r.exit_code == 0, r.output
    assert "each draw made once" in r.output and "Dask" in r.output
    for name in ("a", "b"):
        for f in BATCH_FILES:
            assert filecmp.cmp(tmp_path / "local" / name / f, tmp_path / "dask" / name / f, shallow=False), (name, f)
    for key in ("draws", "summary", "prices"):
        f = f"paired_{key}.csv"
        assert filecmp.cmp(tmp_path / "local" / f, tmp_path / "dask" / f, shallow=False), f


def test_a_paired_chunk_makes_each_draw_once(tmp_path, monkeypatch):
    """In one process: the draws of a pair on the same table, years and groups are made once
    each (4 draws, not 8), and each design's results equal its batch solved alone."""
    a, b = pair(tmp_path)
    fast = ['solver.engine="fast"']
    batches = [plan_montecarlo(p, draws=4, overrides=fast) for p in (a, b)]
    assert shares_draws(*batches)
    made = []
    real = worker.draw

    def counted(spec, seed, index, scn, ds):
        made.append(index)
        return real(spec, seed, index, scn, ds)

    monkeypatch.setattr(worker, "draw", counted)
    res = run_paired(*batches, tmp_path / "pa", tmp_path / "pb", workers=1)
    assert sorted(made) == [0, 1, 2, 3]
    for i, (batch, got) in enumerate(zip(batches, res)):
        alone = run_batch(batch, tmp_path / f"alone_{i}", workers=1)
        xr.testing.assert_identical(got.results, alone.results)


def test_a_draw_that_fails_under_one_design_only_is_left_out_of_the_pair(tmp_path, monkeypatch):
    """Draw 2 fails under design A only, in the shared path: a/ reports it (status, log), b/ has
    every draw, and the paired tables hold the draws both designs solved (0, 1, 3)."""
    a, b = pair(tmp_path)
    batches = [plan_montecarlo(p, draws=4, overrides=['solver.engine="fast"']) for p in (a, b)]
    failing = batches[0].members[2].key
    real = worker._solve

    def solve(job, *args):
        if job.key == failing:
            return None, "boom", "log of the failing draw\nFAILED: boom\n"
        return real(job, *args)

    monkeypatch.setattr(worker, "_solve", solve)
    res_a, res_b = run_paired(*batches, tmp_path / "p" / "a", tmp_path / "p" / "b", workers=1)
    assert list(res_a.results["status"].values) == ["ok", "ok", "failed", "ok"]
    assert [r["error"] for r in res_a.failed] == ["boom"] and not res_b.failed
    assert (tmp_path / "p" / "a" / "logs" / f"{failing}.log").is_file()
    det = [Session(x.base).solve(detail="market", mac_curve=False).results for x in batches]
    tables = paired_tables(res_a.results, res_b.results, *det)
    assert sorted(set(tables["draws"]["draw"])) == [0, 1, 3]
    assert (tables["summary"]["draws"] == 3).all()


def test_pairs_with_other_draws_are_refused(tmp_path):
    a, b = pair(tmp_path)
    b.write_text(b.read_text().replace("seed = 7", "seed = 8").replace("sd = 0.3", "sd = 0.2"))
    r = CliRunner().invoke(cli, ["montecarlo", str(a), "--paired", str(b), "--out", str(tmp_path / "p")])
    assert r.exit_code == 2
    assert "seed" in r.output and "[montecarlo] table" in r.output
    assert not (tmp_path / "p").exists()


def _mc(costs: list[list[float]], prices: list[float]) -> xr.Dataset:
    n = len(costs)
    return xr.Dataset(
        {
            "total_cost": (("draw", "market", "period"), np.array(costs, dtype=float)[:, None, :]),
            "price_pv": (("draw", "market", "period"), np.array(prices, dtype=float)[:, None, None]),
            "status": (("draw",), np.array(["ok"] * n)),
        },
        coords={"draw": np.arange(n), "market": ["m"], "period": ["P1"]},
    )


def test_summary_by_hand():
    """Costs under A 10, 20, 30 and under B 12, 14, 16 (one market, one period): gains -2, 6, 14,
    mean 6; the deterministic runs cost 18 and 15, so effort sharing is 3 and risk sharing 3; one
    draw in three loses. Prices 100, 200, 300 under A (sd = sqrt(20000/3)) and 150 under B in every
    draw (sd 0): the change is -sqrt(20000/3)."""
    a = _mc([[10.0], [20.0], [30.0]], [100.0, 200.0, 300.0])
    b = _mc([[12.0], [14.0], [16.0]], [150.0, 150.0, 150.0])
    det_a, det_b = _mc([[18.0]], [0.0]).isel(draw=0), _mc([[15.0]], [0.0]).isel(draw=0)
    t = paired_tables(a, b, det_a, det_b)
    s = t["summary"].iloc[0]
    assert s["mean_gain_jpy"] == pytest.approx(6.0)
    assert s["effort_sharing_jpy"] == pytest.approx(3.0)
    assert s["risk_sharing_jpy"] == pytest.approx(3.0)
    assert s["p_loss"] == pytest.approx(1 / 3)
    assert t["prices"].iloc[0]["price_pv_sd_change_jpy_per_t"] == pytest.approx(-np.sqrt(20000 / 3))
