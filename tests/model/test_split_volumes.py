"""A split table's volumes (reserve tranches, band volume limits) are shared among its markets in
proportion to base-year emissions, as its offsets are: the markets together have the table's
volume once, not one copy each.

The case (one year, FY2026, discount rate 0), one table ``m`` split by administrator:

* A (administrator Tokyo): base = BAU = 100 t, factor 0.5 -> cap 50 t, needs 50 t; steps 20 t at
  1,000 JPY/t and 80 t at 10,000 JPY/t.
* B (administrator Osaka): base = BAU = 300 t, factor 0.5 -> cap 150 t, needs 150 t; steps 60 t
  at 1,000 and 240 t at 10,000.

Shares of the table's base-year emissions: A 100 / 400 = 1/4, B 3/4. A volume of 40 t per year
written on the table gives m/Tokyo 10 t and m/Osaka 30 t.

* Release tranche (trigger 3,000, 40 t): m/Tokyo abates 20 t at 1,000, takes its 10 t from the
  reserve at 3,000 and abates the last 20 t at 10,000: price 10,000, released 10 t. m/Osaka: 60 t
  at 1,000, 30 t released, 60 t at 10,000: price 10,000, released 30 t. Together 40 t, the
  table's volume. (With a copy of 40 t each, m/Tokyo would stop at 20 + 30 = 50 t with the price
  held at the trigger, 3,000.)
* Ceiling 4,300 with ``ceiling_volume_limit_t = 40``: the same with 4,300 in place of 3,000:
  ceiling sales 10 t and 30 t, prices 10,000 (a copy each: m/Tokyo's price would be 4,300).
"""

from __future__ import annotations

import pytest
from casebuilder import ent, write_case

from nationcap.derive.scope import resolve
from nationcap.pipeline import load, run_scenario

pytestmark = pytest.mark.solver


def case(tmp_path, rule: dict):
    return write_case(
        tmp_path,
        [ent("A", base=100.0, administrator="Tokyo"), ent("B", base=300.0, administrator="Osaka")],
        {"A": 100.0, "B": 300.0},
        [("A", 1, 0.2, 1000.0), ("A", 2, 0.8, 10000.0), ("B", 1, 0.2, 1000.0), ("B", 2, 0.8, 10000.0)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.5}}, "split_by": "administrator", **rule}},
    )


RELEASE = {"reserve": {"release": [{"trigger_jpy_per_t": 3000.0, "volume_t": 40.0}]}}
CEILING = {"price_ceiling": {}, "ceiling_volume_limit_t": 40.0}


def test_split_markets_get_shares_of_the_tables_volumes(tmp_path):
    scn, ds = load(case(tmp_path, {**RELEASE, "floor_volume_limit_t": 8.0, "price_floor": {}}))
    scope = resolve(scn, ds)
    assert scope.shares == pytest.approx({"m/Osaka": 0.75, "m/Tokyo": 0.25})
    tokyo, osaka = scope.scenario.markets["m/Tokyo"], scope.scenario.markets["m/Osaka"]
    assert [tr.volume_t for tr in tokyo.reserve.release] == pytest.approx([10.0])
    assert [tr.volume_t for tr in osaka.reserve.release] == pytest.approx([30.0])
    assert (tokyo.floor_volume_limit_t, osaka.floor_volume_limit_t) == pytest.approx((2.0, 6.0))
    assert tokyo.reserve.release[0].trigger_jpy_per_t == 3000.0  # prices are not shared
    assert scn.markets["m"].reserve.release[0].volume_t == 40.0  # the table as written


def test_release_tranche_of_a_split_table_is_shared(tmp_path):
    res = run_scenario(case(tmp_path, RELEASE))
    released = res["reserve_released_total"].sum("year")
    assert float(released.sel(market="m/Tokyo")) == pytest.approx(10.0, abs=1e-6)
    assert float(released.sel(market="m/Osaka")) == pytest.approx(30.0, abs=1e-6)
    assert float(released.sum()) == pytest.approx(40.0, abs=1e-6)
    assert res["price"].sel(market="m/Tokyo", year=2026).item() == pytest.approx(10000.0, rel=1e-9)
    assert res["price"].sel(market="m/Osaka", year=2026).item() == pytest.approx(10000.0, rel=1e-9)


def test_ceiling_volume_limit_of_a_split_table_is_shared(tmp_path):
    res = run_scenario(case(tmp_path, CEILING))
    issued = res["ceiling_issued"].sum("year") if "year" in res["ceiling_issued"].dims else res["ceiling_issued"]
    issued = issued.sum([d for d in issued.dims if d != "market"])
    assert float(issued.sel(market="m/Tokyo")) == pytest.approx(10.0, abs=1e-6)
    assert float(issued.sel(market="m/Osaka")) == pytest.approx(30.0, abs=1e-6)
    assert res["price"].sel(market="m/Tokyo", year=2026).item() == pytest.approx(10000.0, rel=1e-9)
