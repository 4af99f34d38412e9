"""Paired Monte Carlo: two designs solved on the same draws, their per-draw costs and the gain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.report.paired import paired_tables
from nationcap.results.io import load_results

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


def test_per_draw_costs_equal_two_separate_monte_carlos(tmp_path):
    """The paired run's cost under A and under B of every draw and market equals the sum over
    periods of total_cost (and of the entities' compliance cost) in a separate Monte Carlo of A and
    of B with the same seed; the gain is their difference, and the effort and risk parts add up to
    the mean gain."""
    a, b = pair(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["montecarlo", str(a), "--paired", str(b), "--workers", "1", "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    for name, path in (("a", a), ("b", b)):
        r = runner.invoke(cli, ["montecarlo", str(path), "--workers", "1", "--out", str(tmp_path / f"sep_{name}")])
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
