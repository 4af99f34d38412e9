"""Program rules of the Tokyo design: each with small cases whose answers are derived by hand.

The cases (:data:`CASES`) run on every engine through :mod:`handcases`; an engine that does not
implement a rule skips its cases with the reason its ``supports()`` gives. The allocation-only
rules (top-level multipliers, base year) are also tested without a solver in
tests/derive/test_allocation.py.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from casebuilder import ent, write_case
from handcases import TOL, Cases, engines, supported

from nationcap.config import load_scenario
from nationcap.errors import InputError
from nationcap.inputs import load_dataset
from nationcap.pipeline import run_dataset, run_scenario

pytestmark = pytest.mark.solver

ONE_YEAR = [("P1", 2026, 2026)]
TWO_YEARS = [("P1", 2026, 2026), ("P2", 2027, 2027)]

CASES = Cases()


def one_entity(
    root,
    market_cfg,
    periods=ONE_YEAR,
    mac=(("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)),
    offsets=None,
    discount_rate=0.0,
    base=100.0,
):
    """One entity A in market m, BAU 100/yr (steps 10 t @1000 and 30 t @5000 unless given)."""
    return write_case(
        root,
        [ent("A", base=base)],
        {"A": 100},
        list(mac),
        periods,
        {"m": market_cfg},
        discount_rate=discount_rate,
        offsets=offsets,
    )


# ---------------------------------------------------------------------------------------------
# 1. offsets
# ---------------------------------------------------------------------------------------------


def outside_credits(root):
    """BAU 100, factor 0.3 -> allocation 70, 30 t needed. Steps 10 @1000, 30 @5000; outside
    credits 100 t @2000.

    No limit: 10 @1000, then 20 t of credits @2000 -> allowance price 2000.
    Limit 1/3 of the required reduction = 1/3 x 100 x 0.3 x 1 yr = 10 t: 10 @1000 + 10 credits
    + 10 t of the 5000 step -> allowance price 5000, credit price 2000 (supply partly used);
    cost 10 x 1000 + 10 x 5000 of abatement + 10 x 2000 of credits = 80,000.
    With basis "base_emissions" the limit is 1/3 x 100 x 1 yr = 33.3 t: back to 2000.
    """
    cfg = {"use_offsets": True, "compliance_factor": {"P1": {"general": 0.3}}}
    return one_entity(root, cfg, offsets=[("outside", "m", 2026, 100.0, 2000.0)])


@CASES.add(outside_credits)
def offsets_without_limit(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(2000, abs=TOL)
    assert float(r["offsets_used"].sum()) == pytest.approx(20, abs=TOL)


@CASES.add(outside_credits, overrides=["markets.m.offsets.outside.limit_fraction=0.3333333333333333"])
def offset_limit_one_third_of_required_reduction(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5000, abs=TOL)
    assert float(r["offsets_used"].sel(entity="A", offset_type="outside", period="P1")) == pytest.approx(10, abs=TOL)
    assert float(r["offset_price_pv"].sel(market="m", offset_type="outside", period="P1")) == pytest.approx(
        2000, abs=TOL
    )
    assert float(r["abatement"].sum()) == pytest.approx(20, abs=TOL)
    assert float(r["total_cost"].sel(market="m").sum("period")) == pytest.approx(80_000, abs=1e-3)


@CASES.add(outside_credits, overrides=['markets.m.offsets.outside.limit_basis="base_emissions"'])
def offset_limit_on_base_emissions(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(2000, abs=TOL)
    assert float(r["offsets_used"].sum()) == pytest.approx(20, abs=TOL)


def renewable_credits_with_banking(root):
    """The bug other ETS models shipped: offsets ignored when banking is on.

    BAU 100; P1 = FY2026 with allocation 100, P2 = FY2027 with allocation 50; r = 5 %; steps
    each year 20 @1000 and 40 @3000; 15 renewable credits @500 offered in FY2026 (usable in P1).
    50 t are needed over both years. Cheapest in PV: 15 credits (500), 20 t in 2027 (952.4),
    then 15 of the 20 t @1000 in 2026 -> PV price 1000 in both periods (bank > 0): 1000 in 2026,
    1050 in 2027. P1 surrenders 85 - 15 = 70 allowances and banks 30 for P2 (80 - 50 = 30).
    The credits' price is the allowance price (1000): the supply is used up.
    Without offsets: 20 t in 2027 (952.4), 20 t in 2026 (1000), then 10 t of the 3000 step of
    2027 (2857.1 in PV, cheaper than 2026's): PV price 3000/1.05 in both periods (bank 20 > 0).
    """
    cfg = {"use_offsets": True, "banking": True, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}}}
    return one_entity(
        root,
        cfg,
        periods=TWO_YEARS,
        mac=(("A", 1, 0.2, 1000), ("A", 2, 0.4, 3000)),
        offsets=[("renewable", "m", 2026, 15.0, 500.0)],
        discount_rate=0.05,
    )


@CASES.add(renewable_credits_with_banking)
def offsets_together_with_banking(run):
    r = run.results
    assert r["price"].sel(market="m").values == pytest.approx([1000, 1050], rel=1e-9)
    assert float(r["offsets_used"].sel(entity="A", offset_type="renewable", period="P1")) == pytest.approx(15, abs=TOL)
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(30, abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([15, 20], abs=TOL)
    assert float(r["offset_price_pv"].sel(market="m", offset_type="renewable", period="P1")) == pytest.approx(
        1000, rel=1e-9
    )


@CASES.add(renewable_credits_with_banking, overrides=["markets.m.use_offsets=false"])
def banking_without_the_offsets(run):
    assert float(run.results["price_pv"].sel(market="m", period="P1")) == pytest.approx(3000 / 1.05, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# 2. shortfall
# ---------------------------------------------------------------------------------------------


def short_in_p1(root):
    """BAU 100; P1 allocation 50 (factor 0.5), P2 allocation 100; steps each year 20 @1000 and
    40 @4000; banking on, r = 0, penalty 1.3.

    Without shortfall P1 clears at 4000 (20 + 30 of the 40 t step) and P2 at 0. Falling short by
    one tonne in P1 costs 1.3 t in P2, where the 20 t @1000 step is idle: worth it up to
    20 / 1.3 = 15.385 t. Then P1 still needs 50 - 20 - 15.385 = 14.615 t of the 4000 step (price
    4000) and P2 uses its 1000 step fully with price_pv[P2] = 4000 / 1.3 = 3076.9 (an entity is
    indifferent between a tonne now and 1.3 t later). One non-compliant entity in P1: fine
    500,000 JPY. With a multiplier of 1000 making up a tonne costs more than any step: no
    shortfall at all.
    """
    cfg = {"penalty_multiplier": 1.3, "compliance_factor": {"P1": {"general": 0.5}, "P2": {"general": 0.0}}}
    return one_entity(root, cfg, periods=TWO_YEARS, mac=(("A", 1, 0.2, 1000), ("A", 2, 0.4, 4000)))


@CASES.add(short_in_p1)
def shortfall_made_up_1_3x_in_next_period(run):
    r = run.results
    assert r["price"].sel(market="m").values == pytest.approx([4000, 4000 / 1.3], rel=1e-9)
    assert r["shortfall"].sel(entity="A").values == pytest.approx([20 / 1.3, 0], abs=TOL)
    assert r["abatement"].values.ravel() == pytest.approx([50 - 20 / 1.3, 20], abs=TOL)
    assert r["noncompliant_entities"].sel(market="m").values.tolist() == [1, 0]
    assert r["fines"].sel(market="m").values == pytest.approx([500_000, 0])


@CASES.add(short_in_p1, overrides=["markets.m.penalty_multiplier=1000.0"])
def prohibitive_multiplier_no_shortfall(run):
    assert float(run.results["shortfall"].sum()) == pytest.approx(0, abs=TOL)


def short_in_the_last_period(root):
    """One year, 30 t needed, steps 10 @1000 and 30 @5000, penalty 1.3 and a last-period price of
    3000: the administrator buys the 20 t beyond the 1000 step at 3000, which caps the price at
    3000; cost 10,000 + 60,000. With a last-period price of 9000 (above every step) no shortfall
    is worth it: price 5000."""
    cfg = {
        "penalty_multiplier": 1.3,
        "final_shortfall_price_jpy_per_t": 3000.0,
        "compliance_factor": {"P1": {"general": 0.3}},
    }
    return one_entity(root, cfg)


@CASES.add(short_in_the_last_period)
def last_period_shortfall_bought_by_administrator(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert float(r["shortfall"].sel(entity="A", period="P1")) == pytest.approx(20, abs=TOL)
    assert float(r["final_shortfall_cost"].sel(market="m")) == pytest.approx(60_000, abs=1e-3)
    assert r.attrs["objective_jpy"] == pytest.approx(10_000 + 60_000, abs=1e-3)


@CASES.add(short_in_the_last_period, overrides=["markets.m.final_shortfall_price_jpy_per_t=9000.0"])
def last_period_shortfall_dearer_than_abatement(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5000, abs=TOL)
    assert float(r["shortfall"].sum()) == pytest.approx(0, abs=TOL)


# ---------------------------------------------------------------------------------------------
# 4. base year
# ---------------------------------------------------------------------------------------------


def base_year_history(root):
    """History FY2019..2025 = 90, 120, 110, 100, 130, 95, 80: 3-year averages 106.7, 110, 113.3,
    108.3, 101.7 -> the highest is FY2021-2023 = 113.33 t. Factor 0.1, one year: allocation
    102 t; BAU 100 -> nothing to abate (steps cost 1000 and 5000), price 0 and a surplus of 2 t
    banked."""
    path = one_entity(
        root,
        {
            "compliance_factor": {"P1": {"general": 0.1}},
            "base_year": {"rule": "max_3yr_average", "first": 2019, "last": 2025},
        },
    )
    hist = [90, 120, 110, 100, 130, 95, 80]
    pd.DataFrame({"entity_id": "A", "fiscal_year": range(2019, 2026), "emissions_t": hist}).to_csv(
        root / "data" / "history.csv", index=False
    )
    return path


@CASES.add(base_year_history)
def base_year_highest_three_year_average(run):
    r = run.results
    assert float(r["allocation"].sel(entity="A", period="P1")) == pytest.approx(340 / 3 * 0.9)
    assert int(r["base_year_first"].sel(entity="A")) == 2021
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(0, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(0, abs=TOL)
    assert float(r["bank"].sel(market="m", period="P1")) == pytest.approx(340 / 3 * 0.9 - 100, abs=TOL)


def test_base_year_window_without_history_through_the_pipeline(tmp_path):
    """A window with no 3 consecutive years of history is an input error naming the entity."""
    path = base_year_history(tmp_path)
    with pytest.raises(InputError, match="entity_id A"):
        run_scenario(path, overrides=["markets.m.base_year.first=2024", "markets.m.base_year.last=2027"])


# ---------------------------------------------------------------------------------------------
# 5. trading from the 2nd year (a property of the Pyomo formulation)
# ---------------------------------------------------------------------------------------------


def test_trading_from_second_year_does_not_bind(tmp_path):
    """Two entities with different costs, one 3-year period: they trade. Forbidding trades in the
    first year changes nothing — compliance is on the period total, so the trades move into years
    2-3 (see nationcap/model/rules/trading.py). The explicit Trade variables exist only in the
    Pyomo formulation, so this is a test of that formulation."""
    from nationcap.engines.highs import solve_model
    from nationcap.model import build_model, prepare
    from nationcap.model.rules.trading import add_explicit_trades

    path = write_case(
        tmp_path,
        [ent("A"), ent("B")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000)],
        [("P1", 2026, 2028)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}},
        discount_rate=0.03,
    )

    def solved(overrides, explicit):
        scn = load_scenario(path, overrides)
        md = prepare(scn, load_dataset(scn.inputs_path, scn))
        m = build_model(md)
        if explicit:
            add_explicit_trades(m, md)
        return m, solve_model(m, md)

    _, base = solved([], explicit=False)
    m, rule = solved(["markets.m.trading_from_year=2"], explicit=True)
    assert len(m.Trade) == 2 * 2  # two entities x years 2 and 3
    for name in ("abatement", "net_purchase", "bank"):
        np.testing.assert_allclose(rule.values[name], base.values[name], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(rule.duals["market_balance"], base.duals["market_balance"], rtol=1e-9)
    assert rule.objective_jpy == pytest.approx(base.objective_jpy, rel=1e-12)
    assert abs(float(base.values["net_purchase"][0])) > 1  # they do trade, all of it in years 2-3
    trades = np.array([m.Trade[k].value for k in m.Trade])
    assert np.abs(trades).sum() > 1e-7
    with pytest.raises(InputError, match="trading_from_year"):
        run_scenario(path, overrides=["markets.m.trading_from_year=4"])


# ---------------------------------------------------------------------------------------------
# 6. price floor and ceiling
# ---------------------------------------------------------------------------------------------


def with_ceiling(root):
    """30 t needed, steps 10 @1000 and 30 @5000, ceiling 4300 (FY2026): abate 10, buy 20 at the
    ceiling (86,000 JPY); price 4300."""
    return one_entity(root, {"compliance_factor": {"P1": {"general": 0.3}}, "price_ceiling": {}})


@CASES.add(with_ceiling)
def price_ceiling_issues_allowances(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(4300, abs=TOL)
    assert float(r["ceiling_issued"].sel(market="m", period="P1")) == pytest.approx(20, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(10, abs=TOL)
    assert float(r["ceiling_issued_payments"].sum()) == pytest.approx(86_000, abs=1e-3)


def with_floor(root):
    """5 t needed (factor 0.05) from a 10 t step @1000 would clear at 1000; the floor of 1700 lifts
    the price to 1700: the whole 10 t step is used and the 5 t surplus withdrawn at the floor."""
    return one_entity(root, {"compliance_factor": {"P1": {"general": 0.05}}, "price_floor": {}})


@CASES.add(with_floor)
def price_floor_withdraws_allowances(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(1700, abs=TOL)
    assert float(r["floor_withdrawn"].sel(market="m", period="P1")) == pytest.approx(5, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(10, abs=TOL)


def band(root, rate, factor):
    """A 3-year period with the default floor (1700 in FY2026) and ceiling (4300), both rising
    3 %/yr, discount rate ``rate``, compliance factor ``factor``."""
    cfg = {"compliance_factor": {"P1": {"general": factor}}, "price_floor": {}, "price_ceiling": {}}
    return one_entity(root, cfg, periods=[("P1", 2026, 2028)], discount_rate=rate)


@CASES.add(partial(band, rate=0.03, factor=0.02))
def band_rises_three_percent(run):
    """Floor 1700 rising 3 %/yr with r = 3 %: the PV floor is 1700 in every year, and 6 t needed
    over the period are less than the 10 t @1000 steps: a floor that binds gives the prices 1700,
    1751, 1803.53 exactly."""
    assert run.results["price"].sel(market="m").values == pytest.approx([1700, 1751, 1803.53], rel=1e-9)


def price_inside_band(run):
    """With r = 10 % the year prices rise faster than the band: the price still never leaves
    [floor, ceiling] in any year (the reduced costs of issuing and withdrawing, see
    model/rules/price_band.py); so too at r = 0 and with a binding cap."""
    r = run.results
    p, lo, hi = (r[v].sel(market="m").values for v in ("price", "price_floor", "price_ceiling"))
    assert np.all(p >= lo - 1e-6) and np.all(p <= hi + 1e-6)


for _rate, _factor in ((0.10, 0.02), (0.10, 0.35), (0.0, 0.2)):
    CASES.add(partial(band, rate=_rate, factor=_factor), id=f"price_inside_band_r{_rate}_f{_factor}")(price_inside_band)


# ---------------------------------------------------------------------------------------------
# 7. external link
# ---------------------------------------------------------------------------------------------


def foreign_allowances(root):
    """Cap 70, 30 t needed, steps 10 @1000 and 30 @5000; foreign allowances at 3000.

    Limit 10 % of the cap = 7 t: 10 @1000 + 7 imported + 13 t of the 5000 step -> price 5000.
    Limit 100 %: 10 @1000 + 20 imported -> price 3000 (the foreign price).
    """
    cfg = {
        "compliance_factor": {"P1": {"general": 0.3}},
        "external": {"price": {"start_jpy_per_t": 3000.0}, "limit_share": 0.1},
    }
    return one_entity(root, cfg)


@CASES.add(foreign_allowances)
def external_imports_with_volume_limit(run):
    r = run.results
    assert float(r["imports"].sel(market="m", period="P1")) == pytest.approx(7, abs=TOL)
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5000, abs=TOL)
    assert float(r["total_cost"].sel(market="m").sum("period")) == pytest.approx(
        10_000 + 7 * 3000 + 13 * 5000, abs=1e-3
    )


@CASES.add(foreign_allowances, overrides=["markets.m.external.limit_share=1.0"])
def external_imports_at_the_foreign_price(run):
    r = run.results
    assert float(r["imports"].sel(market="m", period="P1")) == pytest.approx(20, abs=TOL)
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)


# ---------------------------------------------------------------------------------------------
# 8. auctioned share
# ---------------------------------------------------------------------------------------------


def half_auctioned(root):
    """The merit-order case of the core tests (price 3000, cap 160) with half the cap auctioned:
    the price and abatement do not change; each entity gets 40 t free instead of 80 and buys the
    rest at 3000; auction revenue 80 x 3000 = 240,000 JPY. Compliance cost of A: 40,000 ->
    40,000 + 40 x 3000 = 160,000; of B: 45,000 -> 165,000."""
    return write_case(
        root,
        [ent("A"), ent("B")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000)],
        ONE_YEAR,
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}, "auction_share": {"P1": 0.5}}},
    )


@CASES.add(half_auctioned)
def auction_share_keeps_price_and_moves_the_burden(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert float(r["cap"].sel(market="m", period="P1")) == pytest.approx(160)
    assert r["allocation"].sel(period="P1").values == pytest.approx([40, 40])
    assert r["net_purchase"].sel(period="P1").values == pytest.approx([35, 45], abs=TOL)
    assert float(r["auction_revenue"].sel(market="m", period="P1")) == pytest.approx(240_000, abs=1e-3)
    assert r["compliance_cost"].sel(period="P1").values == pytest.approx([160_000, 165_000], abs=1e-3)


@engines
@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_case(case, engine, tmp_path):
    case.check(engine, tmp_path)


# ---------------------------------------------------------------------------------------------
# every rule off = the core model
# ---------------------------------------------------------------------------------------------
CORE_VARS = (
    "price",
    "price_pv",
    "emissions",
    "abatement",
    "abatement_cost",
    "allocation",
    "net_purchase",
    "compliance_cost",
    "cap",
    "bank",
    "expired",
    "total_cost",
)


@engines
def test_every_rule_off_reproduces_the_core_model(engine, tmp_path):
    """The same case with (a) no rule keys and no offsets/history files and (b) offsets.csv and
    history.csv present and every rule key written out at its 'off' value gives identical results."""
    ents = [ent("A", top_level="top"), ent("B", category="dhc"), ent("C", market="n", base=500.0, sector="steel")]
    bau = {"A": [100, 98, 97, 95], "B": [100, 99, 99, 98], "C": [500, 490, 480, 470]}
    mac = [
        ("A", 1, 0.1, -200),
        ("A", 2, 0.3, 3000),
        ("B", 1, 0.15, 2000),
        ("B", 2, 0.3, 5000),
        ("C", 1, 0.2, 1500),
        ("C", 2, 0.2, 6000),
    ]
    periods = [("P1", 2026, 2027), ("P2", 2028, 2029)]
    factors = {"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.2, "dhc": 0.15}}
    n_factors = {"P1": {"general": 0.08}, "P2": {"general": 0.2}}  # n has no dhc entity
    core = write_case(
        tmp_path / "core",
        ents,
        bau,
        mac,
        periods,
        {"m": {"compliance_factor": factors}, "n": {"compliance_factor": n_factors}},
        discount_rate=0.03,
    )
    off = {
        "compliance_factor": factors,
        "top_level_multiplier": {},
        "use_offsets": False,
        "trading_from_year": 1,
        "auction_share": {"P1": 0.0, "P2": 0.0},
        "base_year": {"rule": "file"},
    }
    rules_off = write_case(
        tmp_path / "off",
        ents,
        bau,
        mac,
        periods,
        {"m": off, "n": {**off, "compliance_factor": n_factors}},
        discount_rate=0.03,
        offsets=[("outside", "m", 2026, 50.0, 100.0), ("renewable", "n", 2028, 50.0, 100.0)],
    )
    pd.DataFrame({"entity_id": ["A"] * 3, "fiscal_year": [2023, 2024, 2025], "emissions_t": [300, 300, 300]}).to_csv(
        tmp_path / "off" / "data" / "history.csv", index=False
    )
    a = run_dataset(*supported(engine, core)).results
    b = run_dataset(*supported(engine, rules_off)).results
    for var in CORE_VARS:
        np.testing.assert_allclose(b[var].values, a[var].values, rtol=1e-12, atol=1e-9, err_msg=var)
    assert b.attrs["objective_jpy"] == pytest.approx(a.attrs["objective_jpy"], rel=1e-12)
    assert float(b["shortfall"].sum()) == 0 and float(b["ceiling_issued"].sum()) == 0
