"""Rolling-horizon foresight: the market solved window by window, keeping each window's first period.

The hand case: one market, one entity, two one-year periods (FY2030 = P1, FY2031 = P2), BAU 100 t
a year, compliance factors 0.05 and 0.3 (requirements 5 t and 30 t), steps each year of 10 t at
1,000, 15 t at 2,000 and 20 t at 4,000 JPY/t, banking without borrowing.

Perfect foresight: 35 t over both years; at 1,000 both years give 20 t, at 2,000 another 30 t,
so the price is 2,000 in both years: P1 abates 10 + 15 = 25 t and banks 20 t, P2 abates 10 t
and uses the bank. Cost 40,000 + 10,000 JPY.

Horizon of one period: P1 sees only its own 5 t, abates 5 t at 1,000 and banks nothing (a bank
at the window's end would be worth nothing); P2 needs 30 t on its own: 10 at 1,000, 15 at 2,000,
5 at 4,000: price 4,000. Cost 5,000 + 60,000 JPY.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.errors import InputError
from nationcap.session import Session

pytestmark = pytest.mark.solver


def case(root, discount_rate=0.0, **market):
    return write_case(
        root,
        [ent("E1", market="m", base=100.0)],
        {"E1": 100.0},
        [("E1", 1, 0.1, 1000.0), ("E1", 2, 0.15, 2000.0), ("E1", 3, 0.2, 4000.0)],
        [("P1", 2030, 2030), ("P2", 2031, 2031)],
        {"m": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.3}}, **market}},
        discount_rate=discount_rate,
    )


def solve(path, engine, k=None):
    return Session.open(path, [f"foresight.horizon_periods={k}"] if k else [], engine=engine).solve().results


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_perfect_foresight_and_a_horizon_of_all_periods_agree(tmp_path, engine):
    path = case(tmp_path)
    for k in (None, 2):
        res = solve(path, engine, k)
        np.testing.assert_allclose(res["price"].values, [[2000.0, 2000.0]])
        np.testing.assert_allclose(res["bank"].values, [[20.0, 0.0]], atol=1e-6)
        np.testing.assert_allclose(res["total_cost"].values, [[40000.0, 10000.0]], rtol=1e-9)


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_a_one_period_horizon_banks_nothing_and_pays_more_later(tmp_path, engine):
    res = solve(case(tmp_path), engine, 1)
    np.testing.assert_allclose(res["price"].values, [[1000.0, 4000.0]])
    np.testing.assert_allclose(res["bank"].values, [[0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(res["market_emissions"].values, [[95.0, 70.0]], atol=1e-6)
    np.testing.assert_allclose(res["total_cost"].values, [[5000.0, 60000.0]], rtol=1e-9)
    np.testing.assert_allclose(res["cap"].values, [[95.0, 70.0]])  # the caps, without any carried bank
    assert '"horizon_periods": 1' in res.attrs["config"]


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_discounting_stays_in_first_year_money(tmp_path, engine):
    """At r = 3 % the myopic choices are the same (each window has one period): prices 1,000 and
    4,000 in each year's money, P2's present value 4,000 / 1.03."""
    res = solve(case(tmp_path, discount_rate=0.03), engine, 1)
    np.testing.assert_allclose(res["price"].values, [[1000.0, 4000.0]], rtol=1e-9)
    np.testing.assert_allclose(res["price_pv"].values, [[1000.0, 4000.0 / 1.03]], rtol=1e-9)
    np.testing.assert_allclose(res["total_cost"].values, [[5000.0, 60000.0 / 1.03]], rtol=1e-9)


def test_a_bank_left_at_a_window_end_is_carried_into_the_next(tmp_path):
    """Three one-year periods, requirements 5, 40 and 5 t, horizon 2.

    Window P1-P2 needs 45 t: at 1,000 the two years give 20 t, at 2,000 another 30 t, so the
    price is 2,000; the merit-order engine fills tied steps earliest first, so P1 abates 10 + 15 =
    25 t and banks 20 t (P1 is kept). Window P2-P3 starts with that bank: P2 needs 40 - 20 = 20 t
    (10 at 1,000, 10 at 2,000: price 2,000) and P3 5 t (price 1,000); prices may not rise from P2
    to P3 only if banking helps, it does not, so the bank after P2 is 0. Window P3 alone: 5 t at
    1,000. Without the carried bank P2 would need 40 t on its own and pay 4,000."""
    path = write_case(
        tmp_path,
        [ent("E1", market="m", base=100.0)],
        {"E1": 100.0},
        [("E1", 1, 0.1, 1000.0), ("E1", 2, 0.15, 2000.0), ("E1", 3, 0.2, 4000.0)],
        [("P1", 2030, 2030), ("P2", 2031, 2031), ("P3", 2032, 2032)],
        {"m": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.4}, "P3": {"general": 0.05}}}},
    )
    res = solve(path, "fast", 2)
    np.testing.assert_allclose(res["price"].values, [[2000.0, 2000.0, 1000.0]])
    np.testing.assert_allclose(res["bank"].values, [[20.0, 0.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(res["market_emissions"].values, [[75.0, 80.0, 95.0]], atol=1e-9)
    np.testing.assert_allclose(res["cap"].values, [[95.0, 60.0, 95.0]])


def test_rules_are_refused_under_a_rolling_horizon(tmp_path):
    path = case(tmp_path, auction_share={"P2": 0.2})
    with pytest.raises(InputError, match="auction"):
        solve(path, "pyomo", 1)


def test_a_horizon_longer_than_the_periods_is_refused(tmp_path):
    with pytest.raises(InputError, match="horizon_periods"):
        solve(case(tmp_path), "fast", 3)


def test_compare_reads_foresight_results(tmp_path):
    path = case(tmp_path)
    runner = CliRunner()
    for name, extra in (("perfect", []), ("myopic", ["--set", "foresight.horizon_periods=1"])):
        r = runner.invoke(cli, ["run", str(path), "--engine", "fast", "--out", str(tmp_path / name), *extra])
        assert r.exit_code == 0, r.output
    r = runner.invoke(
        cli, ["compare", str(tmp_path / "perfect"), str(tmp_path / "myopic"), "--out", str(tmp_path / "c")]
    )
    assert r.exit_code == 0, r.output
    assert "4000" in r.output.replace(",", "")
