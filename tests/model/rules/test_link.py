"""Linked vs unlinked markets and the electricity overlap: small cases derived by hand.

Common case: national entity N (BAU 100, allocation 80 -> 20 t needed, steps 10 @1000 and
30 @5000) and regional entity R (BAU 100, allocation 80 -> 20 t needed, steps 25 @2000 and
40 @3000), one year. Unlinked: N clears at 5000 (10 t of the 5000 step), R at 2000 (20 of 25 t).
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import write_case

from nationcap.run import run_scenario

pytestmark = pytest.mark.solver
TOL = 1e-6


def two_markets(
    tmp_path,
    n_mac=(("N", 1, 0.1, 1000), ("N", 2, 0.3, 5000)),
    r_mac=(("R", 1, 0.25, 2000), ("R", 2, 0.4, 3000)),
    r_factor=0.2,
    es=0.0,
    sector="steel",
):
    return write_case(
        tmp_path,
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


def test_full_link_price_between_unlinked_prices_and_cost_not_higher(tmp_path):
    """Linked: 40 t from one merit order: 10 @1000 (N), 25 @2000 (R), then 5 t of R's 3000 step
    -> one price 3000, between 2000 and 5000. R abates 30 and sells 10 to N.
    Cost unlinked 10,000 + 50,000 + 40,000 = 100,000; linked 10,000 + 50,000 + 15,000 = 75,000."""
    path = two_markets(tmp_path)
    un = run_scenario(path)
    li = run_scenario(path, overrides=['link.mode="full"'])
    assert (price(un, "national"), price(un, "regional")) == pytest.approx((5000, 2000), abs=TOL)
    assert price(li, "national") == pytest.approx(3000, abs=TOL) and price(li, "regional") == pytest.approx(
        3000, abs=TOL
    )
    assert price(un, "regional") <= price(li, "national") <= price(un, "national")
    assert float(un["total_cost"].sum()) == pytest.approx(100_000, abs=1e-3)
    assert float(li["total_cost"].sum()) == pytest.approx(75_000, abs=1e-3)
    assert float(li["link_transfer"].sel(direction="regional_to_national", period="P1")) == pytest.approx(10, abs=TOL)
    assert float(li["link_transfer"].sel(direction="national_to_regional", period="P1")) == pytest.approx(0, abs=TOL)


def test_limited_link_binds(tmp_path):
    """Limit 10 % of the receiving (national) cap of 80 = 8 t: N gets 8, abates 10 @1000 and 2 @5000
    -> 5000; R abates 28 (25 @2000 + 3 @3000) -> 3000. The limit's rent is 5000 - 3000 = 2000."""
    r = run_scenario(two_markets(tmp_path), overrides=['link.mode="limited"', "link.limit_share=0.1"])
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((5000, 3000), abs=TOL)
    assert float(r["link_transfer"].sel(direction="regional_to_national", period="P1")) == pytest.approx(8, abs=TOL)
    assert float(r["link_limit_rent"].sel(direction="regional_to_national", period="P1")) == pytest.approx(
        2000, abs=TOL
    )
    # a limit that does not bind leaves one price
    r = run_scenario(two_markets(tmp_path / "loose"), overrides=['link.mode="limited"', "link.limit_share=0.5"])
    assert price(r, "national") == pytest.approx(price(r, "regional"), abs=TOL)
    assert float(r["link_limit_rent"].sum()) == pytest.approx(0, abs=TOL)


def test_ratio_other_than_one_scales_prices(tmp_path):
    """ratio = 2 regional allowances per national one, so price_n = 2 x price_r.

    Guess price_n = 5000 (N on its 5000 step) -> price_r = 2500: R uses its 2000 step fully
    (25 t) and none of its 3000 step, leaving 25 - 20 = 5 regional allowances, sent to N as
    2.5 national ones. N then needs 17.5 t: 10 @1000 + 7.5 @5000, so price_n = 5000 indeed; R
    sits at a step boundary, where any price in [2000, 3000] clears, and the link pins it at
    2500. (price_n below 5000 would need N to abate only 10 t, i.e. 20 regional allowances, which
    R can only free at 3000 > 5000 / 2: no other solution.)"""
    r = run_scenario(two_markets(tmp_path), overrides=['link.mode="full"', "link.ratio=2.0"])
    assert price(r, "national") == pytest.approx(2 * price(r, "regional"), rel=1e-9)
    assert price(r, "national") == pytest.approx(5000, abs=TOL)
    assert price(r, "regional") == pytest.approx(2500, abs=TOL)
    sent = float(r["link_transfer"].sel(direction="regional_to_national", period="P1"))
    assert sent == pytest.approx(5, abs=TOL)
    assert r["abatement"].sel(year=2026).values == pytest.approx([20 - sent / 2, 25], abs=TOL)


def test_one_directional_link(tmp_path):
    """Allowances would flow regional -> national (R is cheaper). Allowing only national -> regional
    changes nothing (no transfer, unlinked prices); allowing regional -> national gives the full
    link result."""
    path = two_markets(tmp_path)
    r = run_scenario(path, overrides=['link.mode="full"', 'link.direction="national_to_regional"'])
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((5000, 2000), abs=TOL)
    assert float(r["link_transfer"].sum()) == pytest.approx(0, abs=TOL)
    r = run_scenario(path, overrides=['link.mode="full"', 'link.direction="regional_to_national"'])
    assert (price(r, "national"), price(r, "regional")) == pytest.approx((3000, 3000), abs=TOL)


def test_coupled_overlap_tighter_regional_cap_lowers_national_price(tmp_path):
    """N is a power plant (steps 8 @1000, 30 @5000); R (electricity share 0.5) has 20 t @2000 and
    40 t @9000; coupled with g = 1, each tonne R abates cuts N's emissions by 0.5 t.

    Regional factor 0.1 (R needs 10): R uses its whole 2000 step (20 t; worth 0 + 0.5 x 5000 =
    2500 per t with the national cost passed through), saving 10 t at N: N needs 10 -> 8 @1000 +
    2 @5000: national price 5000; regional price 0 (R has 10 t spare).
    Regional factor 0.3 (R needs 30): 20 @2000 + 10 @9000, saving 15 t: N needs 5 of its 1000 step
    -> national price 1000 (< 5000); regional price 9000 - 0.5 x 1000 = 8500.
    With overlap fixed the national price is 5000 in both cases."""
    n_mac = (("N", 1, 0.08, 1000), ("N", 2, 0.3, 5000))
    r_mac = (("R", 1, 0.2, 2000), ("R", 2, 0.4, 9000))
    loose = two_markets(tmp_path / "a", n_mac, r_mac, r_factor=0.1, es=0.5, sector="power_coal")
    tight = two_markets(tmp_path / "b", n_mac, r_mac, r_factor=0.3, es=0.5, sector="power_coal")
    coupled = ['overlap.electricity="coupled"']
    a, b = run_scenario(loose, overrides=coupled), run_scenario(tight, overrides=coupled)
    assert price(a, "national") == pytest.approx(5000, abs=TOL) and price(a, "regional") == pytest.approx(0, abs=TOL)
    assert price(b, "national") == pytest.approx(1000, abs=TOL) and price(b, "regional") == pytest.approx(8500, abs=TOL)
    assert float(b["grid_reduction"].sel(entity="N", year=2026)) == pytest.approx(15, abs=TOL)
    assert float(b["emissions"].sel(entity="N", year=2026)) == pytest.approx(100 - 5 - 15, abs=TOL)
    for path in (loose, tight):
        assert price(run_scenario(path), "national") == pytest.approx(5000, abs=TOL)


def test_double_counting_and_coverage_reported(tmp_path):
    """R (electricity share 0.5) emits 80 after abating 20: 40 t are counted in both programs.
    Coverage (BAU, national total 1000): national 10 %, regional 10 %, double counted 5 %,
    combined 15 %."""
    r = run_scenario(two_markets(tmp_path, es=0.5))
    assert float(r["double_counted"].sel(period="P1")) == pytest.approx(40, abs=TOL)
    assert r["coverage_share"].sel(year=2026).values == pytest.approx([0.1, 0.1])
    assert float(r["double_counted_share"].sel(year=2026)) == pytest.approx(0.05)
    assert float(r["combined_coverage_share"].sel(year=2026)) == pytest.approx(0.15)
    np.testing.assert_allclose(r["grid_reduction"].values, 0.0)
