"""Small solved cases whose answers are derived by hand (HiGHS, exact to 1e-6).

Each docstring carries the derivation. Conventions: allocation = base x (1 - factor) x years, so a
factor of 0 gives the entity its base emissions each year.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.errors import ModelError
from nationcap.run import run_scenario

pytestmark = pytest.mark.solver
TOL = 1e-6


def ent(eid, market="m", base=100.0, **kw):
    return dict(entity_id=eid, market=market, base_emissions_t=base, **kw)


def test_merit_order_price_is_cost_of_partly_used_step(tmp_path):
    """Two firms, BAU 100 each, allocation 80 each: 40 t must be abated in one year.

    Merit order: A1 10 t @1000, B1 15 t @2000, A2 20 t @3000, B2 30 t @5000. After A1 and B1
    (25 t) the 15 t still needed come from A2, which is partly used: price = 3,000 JPY/t.
    A abates 25, emits 75 and sells 5; B abates 15, emits 85 and buys 5.
    Cost = 10*1000 + 15*2000 + 15*3000 = 85,000 JPY.
    """
    path = write_case(
        tmp_path,
        [ent("A"), ent("B")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}},
    )
    r = run_scenario(path)
    assert r["price"].sel(market="m", year=2026) == pytest.approx(3000, abs=TOL)
    assert r["abatement"].sel(year=2026).values == pytest.approx([25, 15], abs=TOL)
    assert r["net_purchase"].sel(period="P1").values == pytest.approx([-5, 5], abs=TOL)
    assert float(r["total_cost"].sel(market="m")) == pytest.approx(85_000, abs=1e-3)
    assert r.attrs["objective_jpy"] == pytest.approx(85_000, abs=1e-3)
    # who bears what: A pays 10*1000 + 15*3000 - 5*3000; B pays 15*2000 + 5*3000
    assert r["compliance_cost"].sel(period="P1").values == pytest.approx([40_000, 45_000], abs=1e-3)


def test_cap_that_does_not_bind_has_zero_price(tmp_path):
    """BAU 100 and allocation 100 (factor 0): nothing is required, price 0, no costly abatement.

    The no-regret step (negative cost) is still used because it saves money by itself.
    """
    path = write_case(
        tmp_path,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, -500), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2027)],
        {"m": {"compliance_factor": {"P1": {"general": 0.0}}}},
    )
    r = run_scenario(path)
    assert np.all(r["price"].values == 0.0)
    assert r["abatement"].values.ravel() == pytest.approx([10, 10], abs=TOL)
    # the surplus (2 x 10 t) is sold into the pool and banked at the end of the period
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(20, abs=TOL)


def test_banking_with_discounting_hotelling(tmp_path):
    """One firm, BAU 100/yr, FY2026 = P1 with allocation 100, FY2027 = P2 with allocation 50, r = 5%.

    Steps each year: 20 t @1000 and 30 t @2000. In FY2026 money the FY2027 steps cost
    952.38 and 1904.76. 50 t are needed over the two years; the cheapest PV steps are 20 t
    (2027, 952.38), 20 t (2026, 1000) and 10 t of the 2027 step at 1904.76, which is partly
    used: the PV price is 2000/1.05 = 1904.76 in both periods (bank of 20 t is positive), the
    FY2026 price is 1904.76 and the FY2027 price 2000 = 1904.76 x 1.05 (Hotelling).
    """
    path = write_case(
        tmp_path,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"banking": True, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}}}},
        discount_rate=0.05,
    )
    r = run_scenario(path)
    pv = 2000 / 1.05
    assert r["price_pv"].sel(market="m").values == pytest.approx([pv, pv], rel=1e-9)
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(pv, rel=1e-9)
    assert float(r["price"].sel(market="m", year=2027)) == pytest.approx(2000, rel=1e-9)
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(20, abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([20, 30], abs=TOL)


def test_year_price_rises_at_discount_rate_within_a_period(tmp_path):
    """One 3-year period, r = 10%: compliance is per period, so the PV price is one number and
    the price in each year's money grows by exactly 1.1 a year."""
    path = write_case(
        tmp_path,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2028)],
        {"m": {"compliance_factor": {"P1": {"general": 0.3}}}},
        discount_rate=0.10,
    )
    r = run_scenario(path)
    price = r["price"].sel(market="m").values
    assert price[1] / price[0] == pytest.approx(1.1, rel=1e-9)
    assert price[2] / price[1] == pytest.approx(1.1, rel=1e-9)
    # 90 t needed: three 20 t @1000 steps (60 t) + 30 t of the @2000 steps; the latest-year
    # 2000-step is cheapest in PV (2000/1.21) and is partly used -> PV price 2000/1.21
    assert float(r["price_pv"].sel(market="m", period="P1")) == pytest.approx(2000 / 1.21, rel=1e-9)
    assert float(r["price"].sel(market="m", year=2028)) == pytest.approx(2000, rel=1e-9)


def test_no_borrowing_binds_later_price_below_earlier(tmp_path):
    """Base 110, BAU 100, steps 20 t @1000 and 40 t @2000 each year, r = 0.

    P1 (FY2026, factor 0.5): allocation 55, 45 t needed: 20 @1000 + 25 of the 40 t @2000 step
    -> price 2000. P2 (FY2027, factor 0): allocation 110 > BAU, 10 t spare. Without borrowing
    P1 cannot use them: P2 price 0 < P1 price 2000, bank 0 after P1, and the spare 10 t end in
    the bank. With borrowing the two years form one budget: 45 - 10 = 35 t over both years,
    met from the two 20 t @1000 steps (40 t), which are partly used: both prices 1000, and P1
    borrows at least P2's 10 spare tonnes (how the 35 t split between the years is a tie).
    """
    common = dict(
        entities=[ent("A", base=110.0)],
        bau={"A": 100},
        mac=[("A", 1, 0.2, 1000), ("A", 2, 0.4, 2000)],
        periods=[("P1", 2026, 2026), ("P2", 2027, 2027)],
    )
    factors = {"P1": {"general": 0.5}, "P2": {"general": 0.0}}
    path = write_case(
        tmp_path / "nb", markets={"m": {"banking": True, "borrowing": False, "compliance_factor": factors}}, **common
    )
    r = run_scenario(path)
    assert r["price"].sel(market="m").values == pytest.approx([2000, 0], abs=TOL)
    assert r["bank"].sel(market="m").values == pytest.approx([0, 10], abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([45, 0], abs=TOL)

    path = write_case(
        tmp_path / "b", markets={"m": {"banking": True, "borrowing": True, "compliance_factor": factors}}, **common
    )
    r = run_scenario(path)
    assert r["price"].sel(market="m").values == pytest.approx([1000, 1000], abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(35, abs=TOL)
    assert float(r["bank"].sel(market="m", period="P1")) <= -10 + TOL
    assert float(r["bank"].sel(market="m", period="P2")) == pytest.approx(0, abs=TOL)


def test_banking_off_surplus_expires(tmp_path):
    """Base 110, BAU 100, banking off: each period clears on its own.

    P1 (factor 0): allocation 110, 10 t spare that lapse at the end of P1 (price 0). P2 (factor
    0.5): allocation 55, 45 t needed: 20 @1000 + 25 of the 40 t @2000 step -> price 2000.
    """
    path = write_case(
        tmp_path,
        [ent("A", base=110.0)],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.4, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"banking": False, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}}}},
    )
    r = run_scenario(path)
    assert r["price"].sel(market="m").values == pytest.approx([0, 2000], abs=TOL)
    assert r["bank"].sel(market="m").values == pytest.approx([0, 0], abs=TOL)
    assert r["expired"].sel(market="m").values == pytest.approx([10, 0], abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([0, 45], abs=TOL)


def test_two_unlinked_markets_have_their_own_prices(tmp_path):
    """Market 'national' needs 10 t from steps 20 t @1500 -> 1500; market 'regional' needs 30 t
    from 20 t @1000 + 20 t @4000 -> 4000. A cheap national step cannot help the regional cap."""
    path = write_case(
        tmp_path,
        [ent("N", market="national", sector="steel", administrator="national"), ent("R", market="regional")],
        {"N": 100, "R": 100},
        [("N", 1, 0.2, 1500), ("N", 2, 0.5, 9000), ("R", 1, 0.2, 1000), ("R", 2, 0.2, 4000)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.1}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.3}}},
        },
    )
    r = run_scenario(path)
    assert float(r["price"].sel(market="national", year=2026)) == pytest.approx(1500, abs=TOL)
    assert float(r["price"].sel(market="regional", year=2026)) == pytest.approx(4000, abs=TOL)
    assert r["net_purchase"].values.ravel() == pytest.approx([0, 0], abs=TOL)


@pytest.fixture(scope="module")
def mixed_case(tmp_path_factory):
    """A less trivial case for invariants: 2 markets x 6 entities, 2 two-year periods, banking,
    discounting, random steps (fixed seed)."""
    rng = np.random.default_rng(7)
    tmp = tmp_path_factory.mktemp("mixed")
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
    path = write_case(
        tmp,
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
    return run_scenario(path), path


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


def test_price_equals_marginal_abatement_cost(mixed_case, tmp_path):
    """Every step cheaper than the year's price is fully used, every dearer step unused."""
    r, path = mixed_case
    import pandas as pd

    from nationcap.config import load_scenario
    from nationcap.data import load_dataset

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


def test_entity_duals_equal_market_dual(tmp_path):
    """Every entity row of a market has the market-clearing dual: one price per market."""
    from nationcap.config import load_scenario
    from nationcap.data import load_dataset
    from nationcap.model import build_model, prepare
    from nationcap.solve import solve

    path = write_case(
        tmp_path,
        [ent("A"), ent("B"), ent("C", market="n")],
        {"A": 100, "B": 100, "C": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000), ("C", 1, 0.5, 700)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}, "n": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )
    scn = load_scenario(path)
    md = prepare(scn, load_dataset(scn.inputs_path, scn))
    sr = solve(build_model(md), md)
    assert sr.duals["MarketClearing"] == pytest.approx([3000, 700], abs=TOL)
    assert sr.duals["EntityCompliance"] == pytest.approx([3000, 3000, 700], abs=TOL)


def test_unreachable_cap_names_market_and_period(tmp_path):
    """Banking off and a P2 cap 60 t below BAU with only 50 t of abatement: infeasible in P2."""
    path = write_case(
        tmp_path,
        [ent("A", market="regional")],
        {"A": 100},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 2000)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"regional": {"banking": False, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.6}}}},
    )
    with pytest.raises(ModelError, match=r"market 'regional', period P2"):
        run_scenario(path)
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "market 'regional', period P2" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    # with banking on, up to 50 t abated in P1 can be banked and cover P2's 10 t gap: feasible
    r = run_scenario(path, overrides=["markets.regional.banking=true"])
    assert r.attrs["termination"] == "convergenceCriteriaSatisfied"
