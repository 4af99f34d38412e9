"""Linked vs unlinked markets and the electricity overlap: small cases derived by hand.

Common case: national entity N (BAU 100, allocation 80 -> 20 t needed, steps 10 @1000 and
30 @5000) and regional entity R (BAU 100, allocation 80 -> 20 t needed, steps 25 @2000 and
40 @3000), one year. Unlinked: N clears at 5000 (10 t of the 5000 step), R at 2000 (20 of 25 t).

Every case runs on every engine (:mod:`handcases`); the merit-order engine implements the full
two-way link and skips limited and one-directional links and the coupled overlap.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from casebuilder import write_case
from handcases import TOL, Cases, engines

pytestmark = pytest.mark.solver

CASES = Cases()


def two_markets(
    root,
    n_mac=(("N", 1, 0.1, 1000), ("N", 2, 0.3, 5000)),
    r_mac=(("R", 1, 0.25, 2000), ("R", 2, 0.4, 3000)),
    r_factor=0.2,
    es=0.0,
    sector="steel",
):
    return write_case(
        root,
        [
            dict(entity_id="N", market="national", base_emissions_t=100.0, sector=sector, administrator="national"),
            dict(entity_id="R", market="regional", base_emissions_t=100.0, electricity_share=es),
        ],
        {"N": 100, "R": 100},
        list(n_mac) + list(r_mac),
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.2}}},
            "regional": {"compliance_factor": {"P1": {"general": r_factor}}},
        },
        national_co2_t={2026: 1000.0},
    )


def price(r, market):
    return float(r["price"].sel(market=market, year=2026))


def transfer(r, direction):
    return float(r["link_transfer"].sel(direction=direction, period="P1"))


# ---------------------------------------------------------------------------------------------
# full, limited, scaled and one-directional links
# ---------------------------------------------------------------------------------------------


@CASES.add(two_markets)
def unlinked_markets_clear_on_their_own(run):
    """Unlinked: N clears at 5000, R at 2000; cost 10,000 + 50,000 (N) + 40,000 (R) = 100,000."""
    r = run.results
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((5000, 2000), abs=TOL)
    assert float(r["total_cost"].sum()) == pytest.approx(100_000, abs=1e-3)


@CASES.add(two_markets, overrides=['link.mode="full"'])
def full_link_price_between_unlinked_prices_and_cost_not_higher(run):
    """Linked: 40 t from one merit order: 10 @1000 (N), 25 @2000 (R), then 5 t of R's 3000 step
    -> one price 3000, between the unlinked 2000 and 5000. R abates 30 and sells 10 to N.
    Cost 10,000 + 50,000 + 15,000 = 75,000, below the unlinked 100,000."""
    r = run.results
    assert price(r, "national") == pytest.approx(3000, abs=TOL)
    assert price(r, "regional") == pytest.approx(3000, abs=TOL)
    assert 2000 <= price(r, "national") <= 5000
    assert float(r["total_cost"].sum()) == pytest.approx(75_000, abs=1e-3)
    assert transfer(r, "regional_to_national") == pytest.approx(10, abs=TOL)
    assert transfer(r, "national_to_regional") == pytest.approx(0, abs=TOL)


@CASES.add(two_markets, overrides=['link.mode="limited"', "link.limit_share=0.1"])
def limited_link_binds(run):
    """Limit 10 % of the receiving (national) cap of 80 = 8 t: N gets 8, abates 10 @1000 and
    2 @5000 -> 5000; R abates 28 (25 @2000 + 3 @3000) -> 3000. The limit's rent is 5000 - 3000."""
    r = run.results
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((5000, 3000), abs=TOL)
    assert transfer(r, "regional_to_national") == pytest.approx(8, abs=TOL)
    assert float(r["link_limit_rent"].sel(direction="regional_to_national", period="P1")) == pytest.approx(
        2000, abs=TOL
    )


@CASES.add(two_markets, overrides=['link.mode="limited"', "link.limit_share=0.5"])
def limited_link_that_does_not_bind(run):
    """Limit 50 % of 80 = 40 t > the 10 t the full link moves: the full-link answer, one price
    3000, no rent."""
    r = run.results
    assert price(r, "national") == pytest.approx(price(r, "regional"), abs=TOL)
    assert price(r, "national") == pytest.approx(3000, abs=TOL)
    assert float(r["link_limit_rent"].sum()) == pytest.approx(0, abs=TOL)


@CASES.add(two_markets, overrides=['link.mode="full"', "link.ratio=2.0"])
def ratio_other_than_one_scales_prices(run):
    """ratio = 2 regional allowances per national one, so price_n = 2 x price_r.

    Guess price_n = 5000 (N on its 5000 step) -> price_r = 2500: R uses its 2000 step fully
    (25 t) and none of its 3000 step, leaving 25 - 20 = 5 regional allowances, sent to N as
    2.5 national ones. N then needs 17.5 t: 10 @1000 + 7.5 @5000, so price_n = 5000 indeed; R
    sits at a step boundary, where any price in [2000, 3000] clears, and the link pins it at
    2500. (price_n below 5000 would need N to abate only 10 t, i.e. 20 regional allowances, which
    R can only free at 3000 > 5000 / 2: no other solution.)"""
    r = run.results
    assert price(r, "national") == pytest.approx(2 * price(r, "regional"), rel=1e-9)
    assert price(r, "national") == pytest.approx(5000, abs=TOL)
    assert price(r, "regional") == pytest.approx(2500, abs=TOL)
    sent = transfer(r, "regional_to_national")
    assert sent == pytest.approx(5, abs=TOL)
    assert r["abatement"].sel(year=2026).values == pytest.approx([20 - sent / 2, 25], abs=TOL)


@CASES.add(two_markets, overrides=['link.mode="full"', 'link.direction="national_to_regional"'])
def link_against_the_flow_changes_nothing(run):
    """Allowances would flow regional -> national (R is cheaper). Allowing only national ->
    regional changes nothing: no transfer, the unlinked prices."""
    r = run.results
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((5000, 2000), abs=TOL)
    assert float(r["link_transfer"].sum()) == pytest.approx(0, abs=TOL)


@CASES.add(two_markets, overrides=['link.mode="full"', 'link.direction="regional_to_national"'])
def link_with_the_flow_is_the_full_link(run):
    """Allowing regional -> national only gives the full link's result: 3000 in both markets."""
    r = run.results
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((3000, 3000), abs=TOL)
    assert transfer(r, "regional_to_national") == pytest.approx(10, abs=TOL)


# ---------------------------------------------------------------------------------------------
# the electricity overlap
# ---------------------------------------------------------------------------------------------

OVERLAP_N_MAC = (("N", 1, 0.08, 1000), ("N", 2, 0.3, 5000))
OVERLAP_R_MAC = (("R", 1, 0.2, 2000), ("R", 2, 0.4, 9000))
#: N is a power plant (steps 8 @1000, 30 @5000); R (electricity share 0.5) has 20 t @2000 and
#: 40 t @9000; with the overlap coupled (g = 1) each tonne R abates cuts N's emissions by 0.5 t
overlap_loose = partial(
    two_markets, n_mac=OVERLAP_N_MAC, r_mac=OVERLAP_R_MAC, r_factor=0.1, es=0.5, sector="power_coal"
)
overlap_tight = partial(
    two_markets, n_mac=OVERLAP_N_MAC, r_mac=OVERLAP_R_MAC, r_factor=0.3, es=0.5, sector="power_coal"
)
COUPLED = ['overlap.electricity="coupled"']


@CASES.add(overlap_loose, overrides=COUPLED)
def coupled_overlap_loose_regional_cap(run):
    """Regional factor 0.1 (R needs 10): R uses its whole 2000 step (20 t; worth 0 + 0.5 x 5000 =
    2500 per t with the national cost passed through), saving 10 t at N: N needs 10 -> 8 @1000 +
    2 @5000: national price 5000; regional price 0 (R has 10 t spare)."""
    r = run.results
    assert price(r, "national") == pytest.approx(5000, abs=TOL)
    assert price(r, "regional") == pytest.approx(0, abs=TOL)


@CASES.add(overlap_tight, overrides=COUPLED)
def coupled_overlap_tighter_regional_cap_lowers_national_price(run):
    """Regional factor 0.3 (R needs 30): 20 @2000 + 10 @9000, saving 15 t at N: N needs 5 of its
    1000 step -> national price 1000 (< 5000); regional price 9000 - 0.5 x 1000 = 8500. N emits
    100 - 5 - 15 = 80 t."""
    r = run.results
    assert price(r, "national") == pytest.approx(1000, abs=TOL)
    assert price(r, "regional") == pytest.approx(8500, abs=TOL)
    assert float(r["grid_reduction"].sel(entity="N", year=2026)) == pytest.approx(15, abs=TOL)
    assert float(r["emissions"].sel(entity="N", year=2026)) == pytest.approx(100 - 5 - 15, abs=TOL)


def fixed_overlap_national_price(run):
    """With the overlap fixed (the default) R's abatement does not reach N: N needs 20 t from
    8 @1000 + 12 @5000 -> national price 5000, whatever the regional cap."""
    assert price(run.results, "national") == pytest.approx(5000, abs=TOL)


CASES.add(overlap_loose, id="fixed_overlap_loose_regional_cap")(fixed_overlap_national_price)
CASES.add(overlap_tight, id="fixed_overlap_tight_regional_cap")(fixed_overlap_national_price)


@CASES.add(partial(two_markets, es=0.5))
def double_counting_and_coverage_reported(run):
    """R (electricity share 0.5) emits 80 after abating 20: 40 t are counted in both programs.
    Coverage (BAU, national total 1000): national 10 %, regional 10 %, double counted 5 %,
    combined 15 %. The overlap is fixed: no grid reduction."""
    r = run.results
    assert float(r["double_counted"].sel(period="P1")) == pytest.approx(40, abs=TOL)
    assert r["coverage_share"].sel(year=2026).values == pytest.approx([0.1, 0.1])
    assert float(r["double_counted_share"].sel(year=2026)) == pytest.approx(0.05)
    assert float(r["combined_coverage_share"].sel(year=2026)) == pytest.approx(0.15)
    np.testing.assert_allclose(r["grid_reduction"].values, 0.0)


@engines
@pytest.mark.parametrize("case", CASES, ids=str)
def test_link_case(case, engine, tmp_path):
    case.check(engine, tmp_path)
