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
from handcases import check_account

from nationcap.cli import cli
from nationcap.errors import InputError
from nationcap.session import Session

pytestmark = pytest.mark.solver


def case(root, discount_rate=0.0, **market):
    return rule_case(root, market, discount_rate=discount_rate)


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


def test_the_shortfall_rule_is_refused_under_a_rolling_horizon_with_the_reason(tmp_path):
    path = case(tmp_path, penalty_multiplier=1.3)
    with pytest.raises(InputError, match="shortfall") as err:
        solve(path, "pyomo", 1)
    assert len(err.value.problems) == 1 and "made up k times in the next period" in err.value.problems[0].message


def test_a_rule_foresight_does_not_know_is_refused(tmp_path, monkeypatch):
    """A rule that is neither supported nor refused with a reason (a new one) is refused, so that
    its variables are never dropped from a rolling run's results."""
    import nationcap.engines.foresight as foresight

    known = foresight.supported
    monkeypatch.setattr(foresight, "supported", lambda rule: rule.NAME != "auction" and known(rule))
    with pytest.raises(InputError, match="auction") as err:
        solve(case(tmp_path, auction_share={"P2": 0.2}), "pyomo", 1)
    assert "not carried from window to window" in err.value.problems[0].message


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


# -- program rules under a rolling horizon (nationcap/engines/foresight.py, "Program rules") ----------
#
# Each case is the module's hand case plus one rule, solved on the Pyomo engine (the merit-order
# engine implements none of these rules). Perfect foresight keeps 2,000 JPY/t in both years in
# every case below (no rule binds at 2,000), so the rule shows in the myopic second year, where
# the requirement of 30 t meets the steps 10 t at 1,000, 15 t at 2,000 and 20 t at 4,000 alone.

FLAT = {"start_year": 2030, "growth_rate": 0.0}


def rule_case(root, extra, **kw):
    return write_case(
        root,
        [ent("E1", market="m", base=100.0)],
        {"E1": 100.0},
        [("E1", 1, 0.1, 1000.0), ("E1", 2, 0.15, 2000.0), ("E1", 3, 0.2, 4000.0)],
        [("P1", 2030, 2030), ("P2", 2031, 2031)],
        {"m": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.3}}, **extra}},
        **kw,
    )


def both(path, k=1):
    """(myopic, perfect foresight) results; the cost account adds up to the objective in both."""
    out = solve(path, "pyomo", k), solve(path, "pyomo")
    for res in out:
        check_account(res)
    return out


def test_auction_under_foresight(tmp_path):
    """20 % of P2's cap of 70 t is auctioned: 14 t. Myopic: prices 1,000 and 4,000 (the auction
    changes no price), revenue 14 x 4,000 = 56,000 JPY; perfect foresight 14 x 2,000 = 28,000."""
    myopic, perfect = both(rule_case(tmp_path, {"auction_share": {"P2": 0.2}}))
    np.testing.assert_allclose(myopic["price"].values, [[1000.0, 4000.0]], rtol=1e-9)
    np.testing.assert_allclose(myopic["auction_revenue"].values, [[0.0, 56000.0]], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(perfect["auction_revenue"].values, [[0.0, 28000.0]], rtol=1e-9, atol=1e-6)


def test_price_band_under_foresight(tmp_path):
    """Floor 1,500 and ceiling 3,000 JPY/t, flat. Myopic P1: 5 t needed, the floor holds the
    price at 1,500, so all 10 t of the 1,000 step are abated and the 5 t not needed are withdrawn
    at the floor (banked they would be worth nothing). Myopic P2: 25 t from the steps up to 2,000,
    the last 5 t bought at the ceiling (3,000 < 4,000): price 3,000. Perfect foresight: 2,000 in
    both years, inside the band: nothing withdrawn or sold."""
    band = {"price_floor": {"start_jpy_per_t": 1500.0, **FLAT}, "price_ceiling": {"start_jpy_per_t": 3000.0, **FLAT}}
    myopic, perfect = both(rule_case(tmp_path, band))
    np.testing.assert_allclose(myopic["price"].values, [[1500.0, 3000.0]], rtol=1e-9)
    np.testing.assert_allclose(myopic["floor_withdrawn"].values, [[5.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(myopic["ceiling_issued"].values, [[0.0, 5.0]], atol=1e-6)
    np.testing.assert_allclose(myopic["market_emissions"].values, [[90.0, 75.0]], atol=1e-6)
    np.testing.assert_allclose(myopic["bank"].values, [[0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(perfect["price"].values, [[2000.0, 2000.0]], rtol=1e-9)
    np.testing.assert_allclose(perfect["ceiling_issued"].values + perfect["floor_withdrawn"].values, 0.0, atol=1e-6)


def test_reserve_under_foresight(tmp_path):
    """A release tranche of 10 t a year at 3,000 and a withhold tranche of 4 t a year at 1,500.
    Myopic P1: the price of 1,000 is below 1,500, so the whole withhold tranche is withheld and
    5 + 4 = 9 t are abated at 1,000. Myopic P2: 25 t from the steps, 5 t of the release tranche at
    its trigger: price 3,000. Perfect foresight: 2,000 in both years, between the triggers: the
    reserve does nothing."""
    reserve = {
        "reserve": {
            "release": [{"trigger_jpy_per_t": 3000.0, "volume_t": 10.0, **FLAT}],
            "withhold": [{"trigger_jpy_per_t": 1500.0, "volume_t": 4.0, **FLAT}],
        }
    }
    myopic, perfect = both(rule_case(tmp_path, reserve))
    np.testing.assert_allclose(myopic["price"].values, [[1000.0, 3000.0]], rtol=1e-9)
    np.testing.assert_allclose(myopic["reserve_released_total"].values, [[0.0, 5.0]], atol=1e-6)
    np.testing.assert_allclose(myopic["reserve_withheld_total"].values, [[4.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(myopic["market_emissions"].values, [[91.0, 75.0]], atol=1e-6)
    np.testing.assert_allclose(perfect["price"].values, [[2000.0, 2000.0]], rtol=1e-9)
    np.testing.assert_allclose(perfect["reserve_released_total"].values, 0.0, atol=1e-6)


def test_external_link_under_foresight(tmp_path):
    """Imports at 3,000 JPY/t, at most 5 % of the period's cap. Myopic P2: cap 70 t, so at most
    3.5 t imported; 25 t from the steps up to 2,000, 3.5 t imported, the last 1.5 t at 4,000:
    price 4,000 (the limit binds). Myopic P1: 1,000, nothing imported. Perfect foresight: 2,000,
    below the foreign price: nothing imported."""
    ext = {"external": {"price": {"start_jpy_per_t": 3000.0, **FLAT}, "limit_share": 0.05}}
    myopic, perfect = both(rule_case(tmp_path, ext))
    np.testing.assert_allclose(myopic["price"].values, [[1000.0, 4000.0]], rtol=1e-9)
    np.testing.assert_allclose(myopic["imports"].values, [[0.0, 3.5]], atol=1e-6)
    np.testing.assert_allclose(myopic["market_emissions"].values, [[95.0, 73.5]], atol=1e-6)
    np.testing.assert_allclose(perfect["imports"].values, 0.0, atol=1e-6)


def test_offsets_outside_the_window_cannot_repay_borrowing(tmp_path):
    """5 t of credits at 500 JPY/t offered in FY2031 (P2), borrowing allowed. Myopic P1 sees only
    P1: the credits of P2 are outside its window, so it cannot borrow against them; it abates 5 t
    at 1,000 (price 1,000, bank 0). Myopic P2 needs 30 t: the 5 credits at 500, then 10 t at
    1,000 and 15 t at 2,000: price 2,000. (Were P2's credits left in the first window, P1 would
    borrow 5 t and repay them with credits at 500.)"""
    path = rule_case(tmp_path, {"use_offsets": True, "borrowing": True}, offsets=[("outside", "m", 2031, 5.0, 500.0)])
    myopic, _ = both(path)
    np.testing.assert_allclose(myopic["price"].values, [[1000.0, 2000.0]], rtol=1e-9)
    np.testing.assert_allclose(myopic["bank"].values, [[0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(myopic["offsets_used"].sum(["entity", "offset_type"]).values, [0.0, 5.0], atol=1e-6)
    np.testing.assert_allclose(myopic["total_cost"].values, [[5000.0, 2500.0 + 10000.0 + 30000.0]], rtol=1e-9)


def test_limited_link_under_foresight(tmp_path):
    """Markets n (the module's hand case) and r (BAU 100 t, factor 0.05 both years, 10 t a year
    at 500 JPY/t), linked one for one with at most 5 % of the receiving cap a period. Myopic P1:
    n's cap is 95 t, so r sends n 4.75 t; r abates 5 + 4.75 = 9.75 t at 500 (price 500), n the
    last 0.25 t at 1,000 (price 1,000). Myopic P2: n's cap is 70 t, r sends 3.5 t and abates
    8.5 t (price 500); n needs 26.5 t: 10 at 1,000, 15 at 2,000, 1.5 at 4,000 (price 4,000)."""
    path = write_case(
        tmp_path,
        [ent("N1", market="n", base=100.0), ent("R1", market="r", base=100.0)],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.1, 1000.0), ("N1", 2, 0.15, 2000.0), ("N1", 3, 0.2, 4000.0), ("R1", 1, 0.1, 500.0)],
        [("P1", 2030, 2030), ("P2", 2031, 2031)],
        {
            "n": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.3}}},
            "r": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.05}}},
        },
    )
    path.write_text(path.read_text() + '\n[link]\nmode = "limited"\nlimit_share = 0.05\nmarkets = ["n", "r"]\n')
    myopic, _ = both(path)
    np.testing.assert_allclose(myopic["price"].sel(market="n").values, [1000.0, 4000.0], rtol=1e-9)
    np.testing.assert_allclose(myopic["price"].sel(market="r").values, [500.0, 500.0], rtol=1e-9)
    moved = myopic["link_transfer"].sel(direction="regional_to_national").values
    np.testing.assert_allclose(moved, [4.75, 3.5], atol=1e-6)
    np.testing.assert_allclose(myopic["market_emissions"].values, [[99.75, 73.5], [90.25, 91.5]], atol=1e-6)


@pytest.mark.parametrize(
    "extra",
    [
        {"auction_share": {"P2": 0.2}},
        {"price_floor": {"start_jpy_per_t": 1500.0, **FLAT}, "price_ceiling": {"start_jpy_per_t": 3000.0, **FLAT}},
        {"reserve": {"release": [{"trigger_jpy_per_t": 3000.0, "volume_t": 10.0, **FLAT}]}},
        {"external": {"price": {"start_jpy_per_t": 3000.0, **FLAT}, "limit_share": 0.05}},
    ],
    ids=["auction", "band", "reserve", "external"],
)
def test_with_rules_a_horizon_of_all_periods_or_no_banking_equals_perfect_foresight(tmp_path, extra):
    """horizon_periods = P is perfect foresight; without banking the periods are independent, so
    one-period windows give perfect foresight's prices, volumes and costs too (each window is the
    scenario's own period with the rule's supply of that period)."""
    path = rule_case(tmp_path, extra)
    perfect = solve(path, "pyomo")
    whole = solve(path, "pyomo", 2)
    for name in ("price", "bank", "market_emissions", "total_cost"):
        np.testing.assert_allclose(whole[name].values, perfect[name].values, rtol=1e-9, atol=1e-6)
    session = lambda k: Session.open(  # noqa: E731
        path, ["markets.m.banking=false", *([f"foresight.horizon_periods={k}"] if k else [])], engine="pyomo"
    )
    alone, windows = session(None).solve().results, session(1).solve().results
    check_account(windows)
    for name in ("price", "market_emissions", "total_cost", "net_cost_covered"):
        np.testing.assert_allclose(windows[name].values, alone[name].values, rtol=1e-9, atol=1e-6)
    assert windows.attrs["objective_jpy"] == pytest.approx(alone.attrs["objective_jpy"], rel=1e-9)


def test_a_window_reads_the_scenarios_caps_without_the_carried_bank(tmp_path):
    """Import and link limits are shares of the cap: in a window they read the scenario's caps
    in its periods (not the carried bank, which is free allocation of the window's first period
    only) and 0 outside, while the pool holds the carried bank."""
    from nationcap.engines.foresight import window

    s = Session.open(case(tmp_path), engine="pyomo")
    md = s.model_data
    w = window(md, 1, 1, np.array([20.0]))
    np.testing.assert_allclose(w.cap_t(), [[0.0, 70.0]])
    np.testing.assert_allclose(w.alloc_t.sum(axis=0), [100.0, 90.0])
    np.testing.assert_allclose(w.auction_t(), [[0.0, 0.0]])


def two_tiers(root, r_cost, r_factor, tail):
    """Markets national (the module's hand case, factors 0.1 and 0.3 here) and regional (BAU
    100 t, 10 t a year at ``r_cost``), with ``tail`` appended to the scenario."""
    path = write_case(
        root,
        [
            ent("N1", market="national", base=100.0, sector="power"),
            ent("R1", market="regional", base=100.0, electricity_share=0.5),
        ],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.1, 1000.0), ("N1", 2, 0.15, 2000.0), ("N1", 3, 0.2, 4000.0), ("R1", 1, 0.1, r_cost)],
        [("P1", 2030, 2030), ("P2", 2031, 2031)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.1}, "P2": {"general": 0.3}}},
            "regional": {"compliance_factor": {"P1": {"general": r_factor}, "P2": {"general": r_factor}}},
        },
        national_co2_t={2030: 1000.0, 2031: 1000.0},
    )
    path.write_text(path.read_text() + tail)
    return path


def test_coupled_electricity_overlap_under_foresight(tmp_path):
    """The regional entity's abatement saves half as much electricity, which relieves the
    national power supplier one for one. Regional steps: 10 t a year at 1,500; requirement 6 t a
    year (saving 3 t), so one more national tonne relieved by extra regional abatement costs
    2 x 1,500 = 3,000.

    Myopic P1: national needs 10 - 3 = 7 t at 1,000 (price 1,000, below 3,000); regional abates
    its 6 t, and each tonne it abates also saves national 0.5 t worth 1,000, so the regional price
    is 1,500 - 0.5 x 1,000 = 1,000 (a step's cost = its allowance plus its relief). Myopic P2: national needs 30 - 3 = 27 t: 10 at 1,000, 15 at 2,000, and
    the last 2 t by 4 t more regional abatement at 3,000 a relieved tonne instead of the 4,000
    step: national price 3,000; regional abates all 10 t, 4 more than it needs, so its price is 0
    (1,500 = 0 + 0.5 x 3,000)."""
    path = two_tiers(tmp_path, 1500.0, 0.06, '\n[overlap]\nelectricity = "coupled"\n')
    myopic, _ = both(path)
    np.testing.assert_allclose(myopic["price"].sel(market="national").values, [1000.0, 3000.0], rtol=1e-9)
    np.testing.assert_allclose(myopic["price"].sel(market="regional").values, [1000.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(myopic["market_emissions"].sel(market="regional").values, [94.0, 90.0], atol=1e-6)


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_full_link_under_foresight_on_both_engines(tmp_path, engine):
    """A full link (one for one): the two tiers clear as one market. Regional: 5 t needed a year,
    10 t at 500. Myopic P1: 10 + 5 = 15 t: regional 10 t at 500, national 5 t at 1,000: price
    1,000 in both tiers, 5 t moved to national. Myopic P2: 30 + 5 = 35 t: regional 10 at 500,
    national 10 at 1,000 and 15 at 2,000: exactly the end of the 2,000 step, so the price is
    2,000 (the lower end of [2,000, 4,000]); national receives 5 t. Perfect foresight pools both
    years: 50 t, 20 at 500, 20 at 1,000, 10 at 2,000: 2,000 in both years and tiers."""
    path = two_tiers(tmp_path, 500.0, 0.05, '\n[link]\nmode = "full"\n')
    myopic = solve(path, engine, 1)
    perfect = solve(path, engine)
    np.testing.assert_allclose(myopic["price"].values, [[1000.0, 2000.0], [1000.0, 2000.0]], rtol=1e-9)
    net = myopic["link_transfer"].sel(direction="regional_to_national") - myopic["link_transfer"].sel(
        direction="national_to_regional"
    )
    np.testing.assert_allclose(net.values, [5.0, 5.0], atol=1e-6)
    np.testing.assert_allclose(myopic["market_emissions"].values, [[95.0, 75.0], [90.0, 90.0]], atol=1e-6)
    np.testing.assert_allclose(perfect["price"].values, 2000.0, rtol=1e-9)


def test_validate_refuses_what_a_rolling_run_refuses(tmp_path):
    """``nationcap validate`` reports a rule a rolling horizon cannot window with run's message
    and exit code (2), before anything is solved."""
    path = case(tmp_path, penalty_multiplier=1.3)
    runner = CliRunner()
    v = runner.invoke(cli, ["validate", str(path), "--set", "foresight.horizon_periods=1"])
    r = runner.invoke(cli, ["run", str(path), "--set", "foresight.horizon_periods=1", "--out", str(tmp_path / "o")])
    assert v.exit_code == r.exit_code == 2, (v.output, r.output)
    assert "made up k times in the next period" in v.output and "Traceback" not in v.output
    assert runner.invoke(cli, ["validate", str(path)]).exit_code == 0
