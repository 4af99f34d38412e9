"""The MAC plot draws the curve the run stored in results.nc, never the dataset as it is now."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from casebuilder import batch_case, write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.errors import InputError
from nationcap.report import plots
from nationcap.results.io import load_results
from nationcap.results.mac import compress_staircase

TOL = 1e-9

MC_TABLE = """
[montecarlo]
draws = 3
seed = 5

[montecarlo.mac_cost]
by = "sector"
distribution = "lognormal"
sd = 0.3
"""


def two_entity_case(root):
    """One market m, one period of two years (FY2026-27), discount rate 0 (PV cost = cost).

    BAU A 1000 t/yr, B 2000 t/yr; base = BAU; factor 0.15 -> 0.15 x 3000 x 2 = 900 t to abate.
    Steps per year: A1 100 t @1000, B1 200 t @2000, A2 200 t @3000, B2 200 t @5000; over the
    two years (equal costs in both years: one step each): 200 @1000, 400 @2000, 400 @3000,
    400 @5000, cumulative 200, 600, 1000, 1400. 900 t falls inside the 3000 step -> price 3000.
    """
    return write_case(
        root,
        [
            dict(entity_id="A", market="m", base_emissions_t=1000.0),
            dict(entity_id="B", market="m", base_emissions_t=2000.0),
        ],
        {"A": 1000.0, "B": 2000.0},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.1, 2000), ("B", 2, 0.1, 5000)],
        [("P1", 2026, 2027)],
        {"m": {"compliance_factor": {"P1": {"general": 0.15}}}},
    )


def stairs_of(fig):
    """(values, edges) of every stairs artist (StepPatch) of the figure's first axes."""
    from matplotlib.patches import StepPatch

    ax = fig.axes[0]
    return [(p.get_data().values, p.get_data().edges) for p in ax.patches if isinstance(p, StepPatch)], ax


def price_lines(ax):
    return [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("clearing price")]


@pytest.mark.solver
def test_plot_draws_the_stored_curve_after_the_dataset_changed(tmp_path):
    path = two_entity_case(tmp_path)
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = load_results(out)

    # the stored curve is the hand-derived staircase (see two_entity_case)
    cost = res["mac_curve_cost_pv"].sel(market="m", period="P1").values
    qty = res["mac_curve_quantity"].sel(market="m", period="P1").values
    np.testing.assert_allclose(cost, [1000, 2000, 3000, 5000], atol=TOL)
    np.testing.assert_allclose(qty, [200, 600, 1000, 1400], atol=TOL)
    # its total quantity is the sum of every step: (0.1 + 0.2) x 1000 x 2 + (0.1 + 0.1) x 2000 x 2
    assert qty[-1] == pytest.approx(1400, abs=TOL)
    price = float(res["price_pv"].sel(market="m", period="P1"))
    assert price == pytest.approx(3000, abs=1e-6)

    def check(fig):
        stairs, ax = stairs_of(fig)
        assert stairs, "no MAC steps drawn"
        for values, edges in stairs:
            np.testing.assert_allclose(values, [1000, 2000, 3000, 5000], atol=TOL)
            np.testing.assert_allclose(edges, np.array([0, 200, 600, 1000, 1400]) / 1e6, atol=TOL)
        (line,) = price_lines(ax)
        assert np.allclose(line.get_ydata(), price)

    check(plots.plot_mac(res))

    # the data change on disk (every step 10x dearer); the figure still shows the run's curve
    mac = tmp_path / "data" / "mac.csv"
    df = pd.read_csv(mac)
    df["cost_jpy_per_t"] *= 10
    df.to_csv(mac, index=False)
    check(plots.plot_mac(load_results(out)))
    # and through the command line (the PNG is written from the stored curve too)
    r = CliRunner().invoke(cli, ["plot", str(out), "--kind", "mac", "--out", str(tmp_path / "plots")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "plots" / "mac.png").is_file()


@pytest.mark.solver
def test_plot_works_without_the_dataset(tmp_path):
    """The dataset folder is gone: the MAC plot needs only results.nc."""
    import shutil

    path = two_entity_case(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["run", str(path), "--out", str(out)]).exit_code == 0
    shutil.rmtree(tmp_path / "data")
    stairs, _ = stairs_of(plots.plot_mac(load_results(out)))
    assert stairs


def test_old_results_without_a_stored_curve_are_refused_clearly(tmp_path):
    from nationcap.errors import InputError

    path = two_entity_case(tmp_path)
    from nationcap.pipeline import run_scenario

    res = run_scenario(path, engine="fast").drop_vars(["mac_curve_cost_pv", "mac_curve_quantity"])
    with pytest.raises(InputError, match="no MAC curve"):
        plots.plot_mac(res)


@pytest.mark.solver
def test_members_of_a_monte_carlo_keep_no_curve_and_the_plot_says_so(tmp_path):
    """A Monte Carlo draw keeps its market results only (a MAC curve per draw would cost more than
    the draw's solve on the exact engine); the MAC plot of a member refuses clearly, and the
    curve of the scenario itself is the single run's."""
    path = batch_case(tmp_path, MC_TABLE)
    out = tmp_path / "mc"
    r = CliRunner().invoke(cli, ["montecarlo", str(path), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    res = load_results(out)
    assert "mac_curve_cost_pv" not in res and "mac_curve_quantity" not in res
    with pytest.raises(InputError, match="Monte Carlo draw keeps its market results only"):
        plots.plot_mac(res, member="0", period="P2")
    single = tmp_path / "single"
    assert CliRunner().invoke(cli, ["run", str(path), "--out", str(single)]).exit_code == 0
    q = load_results(single)["mac_curve_quantity"].sel(market="national", period="P2")
    # national P2: N1 and N2, 3 steps each, 2 years: (0.1 + 0.2 + 0.3) x (1000 + 500) x 2 = 1800 t
    np.testing.assert_allclose(q.max("mac_point").values, 1800, atol=1e-6)


def test_compression_keeps_exact_points_first_last_and_total():
    rng = np.random.default_rng(3)
    n = 20_000
    # lognormal costs, negative (no-regret) and extreme steps, and one step of a fifth of the quantity
    cost = np.concatenate([rng.lognormal(8, 1.2, n - 11), [-500.0] * 5, [2e6] * 5, [4000.0]])
    qty = np.r_[rng.uniform(1, 100, n - 1), 250_000.0]
    c, cum = compress_staircase(cost, qty, 400)
    assert 2 < len(c) <= 400
    order = np.argsort(cost, kind="stable")
    full_c, full_cum = cost[order], np.cumsum(qty[order])
    # first and last step kept: the cheapest cost, the dearest cost and the exact total quantity
    assert c[0] == full_c[0] and c[-1] == full_c[-1]
    assert cum[-1] == pytest.approx(qty.sum(), rel=1e-12)
    # every stored point is a point of the true staircase (exact cost at that cumulative quantity)
    at = np.searchsorted(full_cum, cum)
    np.testing.assert_allclose(full_cum[at], cum, rtol=1e-12)
    np.testing.assert_array_equal(full_c[at], c)
    assert np.all(np.diff(c) >= 0) and np.all(np.diff(cum) > 0)
    # the drawn staircase is never below the true one, and close to it: at the middle of each true
    # step the drawn cost is the cost of the next kept point, which is within the sampling
    # spacing (a few parts in a thousand of the quantity axis) of the true step
    mid = full_cum - qty[order] / 2
    drawn = c[np.searchsorted(cum, mid)]
    assert np.all(drawn >= full_c)
    # the points sample the curve every 2 / (199 - 1) of (quantity share + cost-scale share), so a
    # block spanning more quantity than that is a single true step (one step that wide, drawn exactly)
    gap_q = np.diff(np.r_[0.0, cum]) / cum[-1]
    wide = gap_q >= 2 / ((400 - 2) // 2 - 1)
    assert wide.any()
    assert all(np.sum((full_cum > lo) & (full_cum <= hi)) == 1 for lo, hi in zip(np.r_[0, cum][:-1][wide], cum[wide]))


def test_small_curves_are_stored_exactly():
    """Fewer points than the limit: every step (equal costs merged) is kept."""
    c, cum = compress_staircase(np.array([3.0, 1.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(c, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(cum, [6.0, 9.0, 10.0])
