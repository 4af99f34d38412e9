"""The core model (caps, banking, borrowing, separate markets) on small cases derived by hand.

ONE list of cases (:data:`CASES`), each solved by every engine (:mod:`handcases`); the builder's
docstring carries the derivation, the decorated function the expected values. Conventions:
allocation = base x (1 - factor) x years, so a factor of 0 gives the entity its base emissions
each year; r = 0 unless stated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from casebuilder import ent, write_case
from click.testing import CliRunner
from handcases import ENGINES, TOL, Cases, engines, run_on

from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.inputs import load_dataset

pytestmark = pytest.mark.solver

CASES = Cases()


# ------------------------------------------------------------------------------------------
# one market, one period: the merit order
# ------------------------------------------------------------------------------------------


def two_firms(root):
    """Two firms, BAU 100 each, allocation 80 each: 40 t must be abated in one year.

    Merit order: A1 10 t @1000, B1 15 t @2000, A2 20 t @3000, B2 30 t @5000. After A1 and B1
    (25 t) the 15 t still needed come from A2, which is partly used: price = 3,000 JPY/t.
    A abates 25, emits 75 and sells 5; B abates 15, emits 85 and buys 5.
    Cost = 10*1000 + 15*2000 + 15*3000 = 85,000 JPY.
    Who bears what: A pays 10*1000 + 15*3000 - 5*3000 = 40,000; B pays 15*2000 + 5*3000 = 45,000.
    """
    return write_case(
        root,
        [ent("A"), ent("B")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}},
    )


@CASES.add(two_firms)
def merit_order_price_is_cost_of_partly_used_step(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert r["abatement"].sel(year=2026).values == pytest.approx([25, 15], abs=TOL)
    assert r["net_purchase"].sel(period="P1").values == pytest.approx([-5, 5], abs=TOL)
    assert float(r["total_cost"].sel(market="m").sum("period")) == pytest.approx(85_000, abs=1e-3)
    assert r.attrs["objective_jpy"] == pytest.approx(85_000, abs=1e-3)
    assert r["compliance_cost"].sel(period="P1").values == pytest.approx([40_000, 45_000], abs=1e-3)


def no_regret(root):
    """BAU 100 and allocation 100 (factor 0), two years: nothing is required, price 0, no costly
    abatement. The no-regret step (10 t at -500) is still used each year because it saves money
    by itself; the surplus (2 x 10 t) is sold into the pool and banked at the end of the period."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, -500), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2027)],
        {"m": {"compliance_factor": {"P1": {"general": 0.0}}}},
    )


@CASES.add(no_regret)
def cap_that_does_not_bind_has_zero_price(run):
    r = run.results
    assert np.all(r["price"].values == 0.0)
    assert r["abatement"].values.ravel() == pytest.approx([10, 10], abs=TOL)
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(20, abs=TOL)


def step_boundary(root):
    """40 t needed and the two cheapest steps are exactly 10 + 30 t (A1 10 @1000, B1 30 @2000):
    both are used fully and nothing else, at a cost of 10*1000 + 30*2000 = 70,000 JPY. Any price
    in [2000, 5000] clears the market (the next step is A2 @5000): the price is not unique. Every
    engine reports that interval (price_low = 2000, price_high = 5000) and its lower end as the
    price; the merit-order engine also flags the period."""
    return write_case(
        root,
        [ent("A"), ent("B")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 5000), ("B", 1, 0.3, 2000), ("B", 2, 0.3, 6000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}},
    )


@CASES.add(step_boundary)
def requirement_on_a_step_boundary(run):
    r = run.results
    sel = {"market": "m", "year": 2026}
    assert float(r["price_low"].sel(sel)) == pytest.approx(2000, abs=TOL)
    assert float(r["price_high"].sel(sel)) == pytest.approx(5000, abs=TOL)
    assert float(r["price"].sel(sel)) == float(r["price_low"].sel(sel))  # the lower end, on every engine
    assert 2000 - TOL <= float(run.solution.duals["market_balance"][0]) <= 5000 + TOL  # the dual found: either end
    assert r["abatement"].sel(year=2026).values == pytest.approx([10, 30], abs=TOL)
    assert r.attrs["objective_jpy"] == pytest.approx(70_000, abs=1e-3)
    if run.solution.engine == "fast":  # its flag (nationcap/engines/merit_order.py)
        assert run.solution.info["boundary_periods"] == 1 and run.solution.info["boundary"] == [["m", "P1"]]


def three_firms_two_markets(root):
    """Market m is the merit-order case of :func:`two_firms` (price 3000); market n has one firm C
    that needs 10 t (factor 0.1) from a 50 t step @700, partly used: price 700. NetPurchase is
    free, so every entity row's dual is its market's price: one price per market."""
    return write_case(
        root,
        [ent("A"), ent("B"), ent("C", market="n")],
        {"A": 100, "B": 100, "C": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000), ("C", 1, 0.5, 700)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}, "n": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )


@CASES.add(three_firms_two_markets)
def entity_duals_equal_market_dual(run):
    sr = run.solution
    assert sr.duals["market_balance"] == pytest.approx([3000, 700], abs=TOL)
    assert sr.duals["entity_compliance"] == pytest.approx([3000, 3000, 700], abs=TOL)


def two_unlinked_markets(root):
    """Market 'national' needs 10 t from steps 20 t @1500 -> 1500; market 'regional' needs 30 t
    from 20 t @1000 + 20 t @4000 -> 4000. A cheap national step cannot help the regional cap:
    nobody trades."""
    return write_case(
        root,
        [ent("N", market="national", sector="steel", administrator="national"), ent("R", market="regional")],
        {"N": 100, "R": 100},
        [("N", 1, 0.2, 1500), ("N", 2, 0.5, 9000), ("R", 1, 0.2, 1000), ("R", 2, 0.2, 4000)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.1}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.3}}},
        },
    )


@CASES.add(two_unlinked_markets)
def two_unlinked_markets_have_their_own_prices(run):
    r = run.results
    assert float(r["price"].sel(market="national", year=2026)) == pytest.approx(1500, abs=TOL)
    assert float(r["price"].sel(market="regional", year=2026)) == pytest.approx(4000, abs=TOL)
    assert r["net_purchase"].values.ravel() == pytest.approx([0, 0], abs=TOL)


# ------------------------------------------------------------------------------------------
# several years and periods: discounting, banking, borrowing, expiry
# ------------------------------------------------------------------------------------------


def hotelling(root):
    """One firm, BAU 100/yr, FY2026 = P1 with allocation 100, FY2027 = P2 with allocation 50, r = 5%.

    Steps each year: 20 t @1000 and 30 t @2000. In FY2026 money the FY2027 steps cost 952.38 and
    1904.76. 50 t are needed over the two years; the cheapest PV steps are 20 t (2027, 952.38),
    20 t (2026, 1000) and 10 t of the 2027 step at 1904.76, which is partly used: the PV price is
    2000/1.05 = 1904.76 in both periods (bank of 20 t is positive), the FY2026 price is 1904.76
    and the FY2027 price 2000 = 1904.76 x 1.05 (Hotelling).
    """
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"banking": True, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}}}},
        discount_rate=0.05,
    )


@CASES.add(hotelling)
def banking_with_discounting_hotelling(run):
    r = run.results
    pv = 2000 / 1.05
    rel = 1e-12
    assert r["price_pv"].sel(market="m").values == pytest.approx([pv, pv], rel=rel)
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(pv, rel=rel)
    assert float(r["price"].sel(market="m", year=2027)) == pytest.approx(2000, rel=rel)
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(20, abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([20, 30], abs=TOL)


def three_year_period(root):
    """One 3-year period, r = 10%, steps 20 t @1000 and 30 t @2000 each year, factor 0.3: 90 t
    needed over the period. Compliance is per period, so the PV price is one number and the price
    in each year's money grows by exactly 1.1 a year. Three 20 t @1000 steps (60 t) + 30 t of the
    @2000 steps; the latest-year 2000-step is the cheapest of those in PV (2000/1.21) and is
    partly used -> PV price 2000/1.21, FY2028 price 2000."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2028)],
        {"m": {"compliance_factor": {"P1": {"general": 0.3}}}},
        discount_rate=0.10,
    )


@CASES.add(three_year_period)
def year_price_rises_at_discount_rate_within_a_period(run):
    r = run.results
    price = r["price"].sel(market="m").values
    assert price[1] / price[0] == pytest.approx(1.1, rel=1e-9)
    assert price[2] / price[1] == pytest.approx(1.1, rel=1e-9)
    assert float(r["price_pv"].sel(market="m", period="P1")) == pytest.approx(2000 / 1.21, rel=1e-9)
    assert float(r["price"].sel(market="m", year=2028)) == pytest.approx(2000, rel=1e-9)


def tight_then_loose(root):
    """Base 110, BAU 100, steps 20 t @1000 and 40 t @2000 each year, r = 0, banking on.

    P1 (FY2026, factor 0.5): allocation 55, 45 t needed. P2 (FY2027, factor 0): allocation 110 >
    BAU, 10 t spare. The ``borrowing`` override decides whether P1 may use them (see the cases).
    """
    return write_case(
        root,
        [ent("A", base=110.0)],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.4, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"banking": True, "compliance_factor": {"P1": {"general": 0.5}, "P2": {"general": 0.0}}}},
    )


@CASES.add(tight_then_loose, overrides=["markets.m.borrowing=false"])
def no_borrowing_binds_later_price_below_earlier(run):
    """Without borrowing P1 cannot use P2's spare tonnes: 45 t from 20 @1000 + 25 of the 40 t
    @2000 step -> price 2000; P2 price 0 < 2000, bank 0 after P1, the spare 10 t end in the bank."""
    r = run.results
    assert r["price"].sel(market="m").values == pytest.approx([2000, 0], abs=TOL)
    assert r["bank"].sel(market="m").values == pytest.approx([0, 10], abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([45, 0], abs=TOL)


@CASES.add(tight_then_loose, overrides=["markets.m.borrowing=true"])
def borrowing_joins_the_periods(run):
    """With borrowing the two years form one budget: 45 - 10 = 35 t over both years, met from the
    two 20 t @1000 steps (40 t), which are partly used: both prices 1000. How the 35 t split
    between the years is a tie, so only its consequence is required: P1 abates at most 20 t, so
    it borrows at least P2's 10 spare tonnes (bank <= -10), and the last bank is 0."""
    r = run.results
    assert r["price"].sel(market="m").values == pytest.approx([1000, 1000], abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(35, abs=TOL)
    assert float(r["bank"].sel(market="m", period="P1")) <= -10 + TOL
    assert float(r["bank"].sel(market="m", period="P2")) == pytest.approx(0, abs=TOL)


def loose_then_tight(root):
    """Base 110, BAU 100, banking off: each period clears on its own.

    P1 (factor 0): allocation 110, 10 t spare that lapse at the end of P1 (price 0). P2 (factor
    0.5): allocation 55, 45 t needed: 20 @1000 + 25 of the 40 t @2000 step -> price 2000.
    """
    return write_case(
        root,
        [ent("A", base=110.0)],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.4, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"banking": False, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}}}},
    )


@CASES.add(loose_then_tight)
def banking_off_surplus_expires(run):
    r = run.results
    assert r["price"].sel(market="m").values == pytest.approx([0, 2000], abs=TOL)
    assert r["bank"].sel(market="m").values == pytest.approx([0, 0], abs=TOL)
    assert r["expired"].sel(market="m").values == pytest.approx([10, 0], abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([0, 45], abs=TOL)


def borrowing_without_banking(root):
    """Banking off, borrowing on, r = 5%, base 110, BAU 100, steps 20 t @1000 and 40 t @2000 each
    year. P1 (factor 0) has 10 spare t, which expire (nothing carries forward). P2 (factor 0.5)
    needs 45 t, P3 (factor 0.1) 1 t: P3 may lend to P2, and its FY2028 steps are the cheaper in PV,
    so the two periods clear together: 20 + 20 t @1000, then 6 t of FY2028's 2000 step (PV
    2000/1.05^2 < FY2027's 2000/1.05). P3 abates 26 t and lends 25 t to P2 (bank -25), P2 abates
    20 t; PV prices 0, 2000/1.05^2, 2000/1.05^2."""
    return write_case(
        root,
        [ent("A", base=110.0)],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.4, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027), ("P3", 2028, 2028)],
        {
            "m": {
                "banking": False,
                "borrowing": True,
                "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}, "P3": {"general": 0.1}},
            }
        },
        discount_rate=0.05,
    )


@CASES.add(borrowing_without_banking)
def borrowing_without_banking_lends_backwards(run):
    r = run.results
    pv = 2000 / 1.05**2
    rel = 1e-12
    assert r["price_pv"].sel(market="m").values == pytest.approx([0, pv, pv], rel=rel)
    assert r["abatement"].values.ravel() == pytest.approx([0, 20, 26], abs=TOL)
    assert r["bank"].sel(market="m").values == pytest.approx([0, -25, 0], abs=TOL)
    assert r["expired"].sel(market="m").values == pytest.approx([10, 0, 0], abs=TOL)


# ------------------------------------------------------------------------------------------
# a cap no abatement can meet
# ------------------------------------------------------------------------------------------


def unreachable(root):
    """Banking off and a P2 cap 60 t below BAU (factor 0.6) with only 20 + 30 = 50 t of abatement:
    infeasible in P2, named by market and period."""
    return write_case(
        root,
        [ent("A", market="regional")],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"regional": {"banking": False, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.6}}}},
    )


CASES.add_error("unreachable_cap_names_market_and_period", unreachable, r"market 'regional', period P2")


@CASES.add(unreachable, overrides=["markets.regional.banking=true"])
def unreachable_cap_met_by_banking(run):
    """With banking on, P1 (need 0) can abate and bank for P2's 10 t gap: 60 t over the two years
    from 2 x 20 t @1000 and 20 of the 2 x 30 t @2000 steps (r = 0: the 2000 steps of both years
    tie), so the PV price is 2000 in both periods (the bank is positive) and the cost
    2 x 20,000 + 20 x 2000 = 80,000 JPY. P1 abates 20 t plus between 0 and 20 t of its 2000 step:
    the bank after P1 lies in [20, 40] (the tie), and P2 abates 60 t minus that bank."""
    r = run.results
    assert r["price"].sel(market="regional").values == pytest.approx([2000, 2000], abs=TOL)
    assert r.attrs["objective_jpy"] == pytest.approx(80_000, abs=1e-3)
    bank = float(r["bank"].sel(market="regional", period="P1"))
    assert 20 - TOL <= bank <= 40 + TOL
    assert r["abatement"].values.ravel() == pytest.approx([bank, 60 - bank], abs=TOL)


# ------------------------------------------------------------------------------------------
# every case on every engine
# ------------------------------------------------------------------------------------------


@engines
@pytest.mark.parametrize("case", CASES, ids=str)
def test_hand_case(case, engine, tmp_path):
    case.check(engine, tmp_path)


@engines
def test_unreachable_cap_through_the_cli(engine, tmp_path):
    """The infeasible case through ``nationcap run``: exit code 3, the market and period named,
    no traceback and no output folder."""
    path = unreachable(tmp_path)
    name, _, formulation = engine.partition(":")
    extra = ["--set", f'solver.formulation="{formulation}"'] if formulation else []
    result = CliRunner().invoke(cli, ["run", str(path), "--engine", name, *extra, "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "market 'regional', period P2" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------
# invariants on a less trivial case, on every engine
# ------------------------------------------------------------------------------------------


def mixed(root):
    """2 markets x 6 entities, 2 two-year periods, banking, discounting, random steps (fixed seed)."""
    rng = np.random.default_rng(7)
    ents, bau, mac = [], {}, []
    for i in range(12):
        market = "national" if i < 6 else "regional"
        eid = f"E{i:02d}"
        base = float(rng.integers(50, 500))
        ents.append(
            ent(
                eid,
                market=market,
                base=base,
                category="dhc" if i % 5 == 0 else "general",
                prefecture=["Tokyo", "Osaka", "Aichi"][i % 3],
                sector=["power", "steel", "office"][i % 3],
            )
        )
        bau[eid] = [round(base * g, 3) for g in (1.0, 0.98, 0.97, 0.95)]
        costs = np.sort(rng.uniform(-500, 8000, 3))
        shares = rng.dirichlet(np.ones(4))[:3] * 0.8
        mac += [(eid, k + 1, round(float(s), 4), round(float(c), 2)) for k, (s, c) in enumerate(zip(shares, costs))]
    factors = {"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.2, "dhc": 0.15}}
    return write_case(
        root,
        ents,
        bau,
        mac,
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {
            "national": {"banking": True, "compliance_factor": factors},
            "regional": {"banking": True, "compliance_factor": factors},
        },
        discount_rate=0.03,
    )


@pytest.fixture(scope="module", params=ENGINES)
def mixed_case(request, tmp_path_factory):
    path = mixed(tmp_path_factory.mktemp("mixed"))
    return run_on(request.param, path).results, path


def test_invariants_caps_balances_and_costs(mixed_case):
    r, _ = mixed_case
    mk = r["entity_market"].values
    for m in r["market"].values:
        bank_prev = 0.0
        for p in r["period"].values:
            years = [2026, 2027] if p == "P1" else [2028, 2029]
            sel = mk == m
            em = float(r["emissions"].sel(year=years).values[sel].sum())
            bank = float(r["bank"].sel(market=m, period=p))
            cap = float(r["cap"].sel(market=m, period=p))
            # emissions <= cap + bank drawn (equality up to expiry, none with banking on)
            assert em <= cap + bank_prev - bank + 1e-6
            assert em == pytest.approx(cap + bank_prev - bank, abs=1e-6)
            # net purchases + bank change = 0
            npur = float(r["net_purchase"].sel(period=p).values[sel].sum())
            assert npur + (bank - bank_prev) == pytest.approx(0, abs=1e-6)
            bank_prev = bank
    # reported costs equal the objective
    assert float(r["total_cost"].sum()) == pytest.approx(r.attrs["objective_jpy"], rel=1e-9)
    # allocation + net purchase = emissions per entity and period
    for p, years in (("P1", [2026, 2027]), ("P2", [2028, 2029])):
        lhs = r["emissions"].sel(year=years).sum("year").values
        rhs = r["allocation"].sel(period=p).values + r["net_purchase"].sel(period=p).values
        assert lhs == pytest.approx(rhs, abs=1e-6)


def test_price_equals_marginal_abatement_cost(mixed_case):
    """Every step cheaper than the year's price is fully used, every dearer step unused."""
    r, path = mixed_case
    scn = load_scenario(path)
    ds = load_dataset(scn.inputs_path, scn)
    mac = ds.mac.merge(ds.entities[["market"]], left_on="entity_id", right_index=True)
    bau = ds.bau.set_index(["entity_id", "year"])["bau_emissions_t"]
    checked = 0
    for y in r["year"].values:
        for m in r["market"].values:
            price = float(r["price"].sel(market=m, year=y))
            sub = mac[mac["market"] == m]
            for eid, g in sub.groupby("entity_id"):
                used = float(r["abatement"].sel(entity=eid, year=y))
                q = g["abatement_share"].to_numpy() * bau[(eid, int(y))]
                c = g["cost_jpy_per_t"].to_numpy()
                lo = q[c < price - 1e-6].sum()
                hi = q[c <= price + 1e-6].sum()
                assert lo - 1e-6 <= used <= hi + 1e-6
                checked += 1
    assert checked == 12 * 4
    assert pd.notna(r["price"].values).all()
