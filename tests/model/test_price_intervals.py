"""Price intervals (``price_low`` / ``price_high``) on small cases derived by hand, on every engine.

Where a requirement lands exactly on the boundary between two abatement steps, every price
between the two steps' costs clears the market. Every engine reports the interval of clearing
prices and its lower end as ``price`` (nationcap/results/prices.py); these cases check both ends
in each year's money and in present value. Conventions as in ``test_core_cases``: allocation =
base x (1 - factor) x years, r = 0 unless stated.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case
from handcases import TOL, Cases, engines

pytestmark = pytest.mark.solver

CASES = Cases()


def assert_interval(r, market, low, high, *, year=None, period=None):
    """price_low / price_high (each year's money, at ``year``) or their _pv (at ``period``), and
    price (or price_pv) equal to the lower end."""
    if year is not None:
        sel, names = {"market": market, "year": year}, ("price_low", "price_high", "price")
    else:
        sel, names = {"market": market, "period": period}, ("price_low_pv", "price_high_pv", "price_pv")
    got_low, got_high, got = (float(r[v].sel(sel)) for v in names)
    assert got_low == pytest.approx(low, abs=TOL)
    assert got_high == pytest.approx(high, abs=TOL)
    assert got == got_low  # the documented point: the lower end, on every engine


def two_steps(root, factor=0.1, extra=None):
    """One entity, BAU 100 t in FY2026, steps A1 10 t @1000 and A2 20 t @3000 (c1 < c2)."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": factor}}, **(extra or {})}},
    )


@CASES.add(two_steps)
def requirement_on_a_step_boundary_gives_both_step_costs(run):
    """Factor 0.1: 10 t needed, exactly the first step's 10 t. A1 is used fully, A2 not at all,
    cost 10,000 JPY. Any price p with 1000 <= p <= 3000 clears: A1's reduced cost 1000 - p <= 0
    (at its upper bound), A2's 3000 - p >= 0 (at zero). So price_low = c1 = 1000, price_high =
    c2 = 3000, and price = 1000 on every engine (one year, r = 0: PV = each year's money)."""
    r = run.results
    assert_interval(r, "m", 1000, 3000, year=2026)
    assert_interval(r, "m", 1000, 3000, period="P1")
    assert float(r["abatement"].sum()) == pytest.approx(10, abs=TOL)
    assert r.attrs["objective_jpy"] == pytest.approx(10_000, abs=1e-3)


@CASES.add(lambda root: two_steps(root, factor=0.2), id="requirement_inside_a_step_has_a_unique_price")
def requirement_inside_a_step_has_a_unique_price(run):
    """Factor 0.2: 20 t needed: A1's 10 t and 10 of A2's 20 t. A2 is partly used, so its reduced
    cost 3000 - p is 0 at every optimal dual: the price is 3000 and nothing else (low = high)."""
    r = run.results
    assert_interval(r, "m", 3000, 3000, year=2026)
    assert_interval(r, "m", 3000, 3000, period="P1")


@CASES.add(lambda root: two_steps(root, extra={"price_ceiling": {}}), id="ceiling_above_the_next_step")
def ceiling_above_the_next_step_changes_nothing(run):
    """The boundary case with the default price ceiling, 4300 JPY/t in FY2026: above c2 = 3000,
    so one more tonne is still abated at 3000 rather than issued at 4300: [1000, 3000]."""
    assert_interval(run.results, "m", 1000, 3000, year=2026)


def two_far_steps(root, extra=None):
    """One entity, BAU 100 t in FY2026, steps 10 t @1000 and 20 t @5000; 10 t needed (factor 0.1)."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 5000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.1}}, **(extra or {})}},
    )


@CASES.add(lambda root: two_far_steps(root, {"price_ceiling": {}}), id="ceiling_below_the_next_step")
def ceiling_below_the_next_step_is_the_upper_end(run):
    """Requirement on the boundary between 1000 and 5000, with the default ceiling of 4300 JPY/t
    (FY2026; the GX-ETS-style band of nationcap/model/rules/price_band.py). CeilingIssue costs
    4300 per t and is 0 at the optimum, so every optimal dual has p <= 4300 (its reduced cost
    4300 - p >= 0) as well as 1000 <= p <= 5000: the interval is [1000, 4300]. One more tonne of
    requirement would be issued at the ceiling, not abated at 5000."""
    r = run.results
    assert_interval(r, "m", 1000, 4300, year=2026)
    assert float(r["ceiling_issued"].sum()) == pytest.approx(0, abs=TOL)


@CASES.add(lambda root: two_far_steps(root, {"price_floor": {}}), id="floor_above_the_last_step")
def floor_above_the_last_step_is_the_lower_end(run):
    """The same boundary with the default floor of 1700 JPY/t (FY2026) and no ceiling. FloorWithdraw
    earns 1700 per t withdrawn and is 0 at the optimum, so p >= 1700 at every optimal dual (its
    reduced cost p - 1700 >= 0): the interval is [1700, 5000] and the price its lower end, 1700."""
    r = run.results
    assert_interval(r, "m", 1700, 5000, year=2026)
    assert float(r["floor_withdrawn"].sum()) == pytest.approx(0, abs=TOL)


def banked_boundary(root):
    """Banking across two one-year periods, r = 0.25 (discount factor 0.8 in FY2027).

    One entity, BAU 100 t each year, steps 10 t @1000 and 20 t @4000 each year; P1 (FY2026) needs
    nothing (factor 0), P2 (FY2027) needs 20 t (factor 0.2). PV costs: FY2027 10 t @800 and
    20 t @3200, FY2026 10 t @1000 and 20 t @4000.

    Banking pools the periods while the bank is positive (PV prices equal, lam1 >= lam2 always):
    the 20 t are met most cheaply by FY2027's 10 t @800 and FY2026's 10 t @1000 (banked: bank
    10 t at the end of P1), exactly the two cheapest PV steps: a boundary. Dual: maximise
    g1(l1) + g2(l2) with g1(l) = -10 max(0, l - 1000) - 20 max(0, l - 4000) and
    g2(l) = 20 l - 10 max(0, l - 800) - 20 max(0, l - 3200), subject to l1 >= l2. Along l1 = l2 = l
    the slope is 10 for 800 < l < 1000, 0 for 1000 < l < 3200, -10 beyond; l1 > l2 only lowers
    g1 once l1 > 1000. So the optimal duals are l1 = l2 = l for any 1000 <= l <= 3200: both periods'
    PV interval is [1000, 3200]. In each year's money: FY2026 [1000, 3200], FY2027 [1000 / 0.8,
    3200 / 0.8] = [1250, 4000]. PV cost 10 x 1000 + 10 x 800 = 18,000 JPY."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 4000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"banking": True, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.2}}}},
        discount_rate=0.25,
    )


@CASES.add(banked_boundary)
def banking_on_a_boundary_shares_the_interval(run):
    r = run.results
    for p in ("P1", "P2"):
        assert_interval(r, "m", 1000, 3200, period=p)
    assert_interval(r, "m", 1000, 3200, year=2026)
    assert_interval(r, "m", 1250, 4000, year=2027)
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(10, abs=TOL)
    assert r.attrs["objective_jpy"] == pytest.approx(18_000, abs=1e-3)


def two_markets_linked(root):
    """National N: BAU 100, 20 t needed, steps 10 @1000 and 30 @5000; regional R: BAU 100, 20 t
    needed, steps 25 @2000 and 25 @3000 (the case of tests/model/rules/test_link.py)."""
    return write_case(
        root,
        [ent("N", market="national", sector="steel", administrator="national"), ent("R", market="regional")],
        {"N": 100, "R": 100},
        [("N", 1, 0.1, 1000), ("N", 2, 0.3, 5000), ("R", 1, 0.25, 2000), ("R", 2, 0.25, 3000)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.2}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.2}}},
        },
    )


@CASES.add(two_markets_linked, overrides=['link.mode="full"', "link.ratio=2.0"])
def link_pins_a_price_that_sits_on_a_boundary(run):
    """Full link, ratio 2: price_n = 5000 (N's second step partly used) and price_r = 2500, where
    R alone sits on its boundary [2000, 3000] (see test_link.py). Every optimal dual has
    price_n = 2 price_r (the free transfer) and price_n = 5000 (the partly used step): both prices
    are unique, the interval of each row is one point."""
    r = run.results
    assert_interval(r, "national", 5000, 5000, year=2026)
    assert_interval(r, "regional", 2500, 2500, year=2026)


@CASES.add(two_markets_linked, overrides=['link.mode="full"'])
def linked_markets_share_one_interval(run):
    """Full link, ratio 1: 40 t needed from one merit order: 10 @1000 (N) and 25 @2000 (R) give
    35 t, the last 5 t come from R's 3000 step, partly used: price 3000 in both markets, unique."""
    r = run.results
    assert_interval(r, "national", 3000, 3000, year=2026)
    assert_interval(r, "regional", 3000, 3000, year=2026)


def linked_boundary(root):
    """National N: BAU 100, 20 t needed, one step 10 t @1000 and one 30 t @5000; regional R: BAU
    100, 10 t needed, steps 20 t @2000 and 25 t @3000. Full link, ratio 1: one merit order of 30 t
    needed: 10 @1000 (N) + 20 @2000 (R) = 30 t exactly, a boundary of the pooled merit order. Both
    markets' prices are equal (the free transfer) and anything in [2000, 3000] clears (the next
    pooled step is R's 3000): price_low = 2000, price_high = 3000 in both markets."""
    return write_case(
        root,
        [ent("N", market="national", sector="steel", administrator="national"), ent("R", market="regional")],
        {"N": 100, "R": 100},
        [("N", 1, 0.1, 1000), ("N", 2, 0.3, 5000), ("R", 1, 0.2, 2000), ("R", 2, 0.25, 3000)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.2}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.1}}},
        },
    )


@CASES.add(linked_boundary, overrides=['link.mode="full"'])
def linked_markets_on_a_pooled_boundary(run):
    r = run.results
    assert_interval(r, "national", 2000, 3000, year=2026)
    assert_interval(r, "regional", 2000, 3000, year=2026)
    assert r.attrs["objective_jpy"] == pytest.approx(10 * 1000 + 20 * 2000, abs=1e-3)


def one_step(root):
    """One entity, BAU 100 t in FY2026, a single step of 10 t @1000; 10 t needed (factor 0.1)."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )


@CASES.add(one_step)
def requirement_equal_to_every_step_has_no_upper_end(run):
    """The requirement uses the only step fully: any price of at least 1000 clears (the step's
    reduced cost 1000 - p <= 0 at its upper bound is the only condition) and one more tonne could
    not be met at any price: price_low = 1000, price_high = inf."""
    r = run.results
    assert float(r["price_low"].sel(market="m", year=2026)) == pytest.approx(1000, abs=TOL)
    assert np.isinf(float(r["price_high"].sel(market="m", year=2026)))
    assert np.isinf(float(r["price_high_pv"].sel(market="m", period="P1")))


def national_scale(root):
    """The interval at national scale, where the LP counts in Mt (scale_t = 10^6 t) and a
    requirement is moved by only 1e-6 LP units (1 t) to find the ends.

    Entities A and B, BAU 10^8 t a year each in FY2026-2029, two 2-year periods, banking, r = 0.03
    (d_y = 1.03^-(y - 2026)). Steps each year: A1 10^7 t @1000, A2 2x10^7 t @5000, B1 3x10^7 t
    @2000, B2 3x10^7 t @6000. Factor 0.2: each year needs 4x10^7 t, exactly A1 + B1: every period
    is on a boundary on its own and nothing is banked (Bank = 0 at its bound, so lam1 >= lam2).
    P1: the dearest used step in PV is B1 in FY2026, 2000; the cheapest unused A2 in FY2027,
    5000 / 1.03 = 4854.37. P2: B1 in FY2028, 2000 / 1.03^2 = 1885.19; A2 in FY2029,
    5000 / 1.03^3 = 4575.71. lam1 >= lam2 removes none of these ends (2000 >= 1885.19 and
    4854.37 >= 4575.71). In each year's money FY2027: [2000 x 1.03, 5000] = [2060, 5000]."""
    big = 1e8
    return write_case(
        root,
        [ent("A", base=big), ent("B", base=big)],
        {"A": big, "B": big},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 5000), ("B", 1, 0.3, 2000), ("B", 2, 0.3, 6000)],
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {"m": {"banking": True, "compliance_factor": {"P1": {"general": 0.2}, "P2": {"general": 0.2}}}},
        discount_rate=0.03,
    )


@CASES.add(national_scale)
def interval_at_national_scale(run):
    r = run.results
    assert run.model_data.scale_t == 1e6
    assert_interval(r, "m", 2000, 5000 / 1.03, period="P1")
    assert_interval(r, "m", 2000 / 1.03**2, 5000 / 1.03**3, period="P2")
    assert float(r["price_low"].sel(market="m", year=2027)) == pytest.approx(2060, rel=1e-9)
    assert float(r["price_high"].sel(market="m", year=2027)) == pytest.approx(5000, rel=1e-9)


@engines
@pytest.mark.parametrize("case", CASES, ids=str)
def test_hand_case(case, engine, tmp_path):
    case.check(engine, tmp_path)


@engines
def test_no_interval_where_every_price_is_unique(engine, tmp_path):
    """The merit-order case of test_core_cases (price 3000 from a partly used step): price_low =
    price_high = price, in each year's money and PV, and the summary marks nothing."""
    from handcases import run_on
    from model.test_core_cases import two_firms

    from nationcap.report.summary import run_summary

    run = run_on(engine, two_firms(tmp_path))
    r = run.results
    np.testing.assert_array_equal(r["price_low"].values, r["price"].values)
    np.testing.assert_array_equal(r["price_high"].values, r["price"].values)
    np.testing.assert_array_equal(r["price_high_pv"].values, r["price_pv"].values)
    r.attrs["wall_time_s"] = 0.0
    assert "any of" not in run_summary(r)


@pytest.mark.parametrize("formulation", ["sifting", "compact", "full"])
def test_rows_fixed_by_complementary_slackness_are_not_re_solved(formulation, tmp_path):
    """A partly used step fixes its market row's dual (its reduced cost is zero at every optimal
    dual), in the full formulation through the free NetPurchase that ties the entity rows to the
    market row: the merit-order case of test_core_cases (price 3000) re-solves no row. On a
    boundary (test_core_cases.step_boundary) the market row is re-solved, once for each side."""
    from handcases import run_on
    from model.test_core_cases import step_boundary, two_firms

    unique = run_on(f"pyomo:{formulation}", two_firms(tmp_path / "u")).solution.info
    assert unique["interval_rows_perturbed"] == 0
    boundary = run_on(f"pyomo:{formulation}", step_boundary(tmp_path / "b")).solution.info
    assert boundary["interval_rows_perturbed"] >= 1
