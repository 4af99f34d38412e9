"""Reserve triggers grow from their ``start_year`` (default FY2026), as the price band does, not
from the first model year: a tranche and a band with the same numbers give the same price in
every year, whatever year the model starts.

The case: one entity A in market m, one period FY2028 (the model starts two years after 2026),
discount rate 0, BAU 100 t; steps 10 t at 1,000 JPY/t and 30 t at 5,000 JPY/t; factor 0.3: 30 t
needed. A release tranche of 100 t (it never runs out) with trigger 2,000 and growth 10 %:

* default ``start_year`` 2026: the trigger in FY2028 is 2,000 x 1.1^2 = 2,420 JPY/t. Merit order:
  10 t at 1,000, then the tranche at 2,420 supplies the remaining 20 t, so the price is 2,420;
  abatement 10 t, released 20 t.
* ``start_year = 2028``: the trigger is 2,000 in FY2028: price 2,000, released 20 t.
* a price ceiling of 2,000 growing 10 % from its default start year 2026 sells at 2,420 in FY2028:
  the same price as the tranche with the same numbers.
"""

from __future__ import annotations

import pytest
from casebuilder import ent, write_case

from nationcap.pipeline import run_scenario

pytestmark = pytest.mark.solver


def case(tmp_path, rule: dict):
    return write_case(
        tmp_path,
        [ent("A")],
        {"A": 100.0},
        [("A", 1, 0.1, 1000.0), ("A", 2, 0.3, 5000.0)],
        [("P1", 2028, 2028)],
        {"m": {"compliance_factor": {"P1": {"general": 0.3}}, **rule}},
    )


def price_2028(res) -> float:
    return float(res["price"].sel(market="m", year=2028))


@pytest.mark.parametrize(
    "tranche, price",
    [
        ({"trigger_jpy_per_t": 2000.0, "volume_t": 100.0, "growth_rate": 0.1}, 2420.0),
        ({"trigger_jpy_per_t": 2000.0, "volume_t": 100.0, "growth_rate": 0.1, "start_year": 2028}, 2000.0),
    ],
)
def test_trigger_grows_from_its_start_year(tmp_path, tranche, price):
    res = run_scenario(case(tmp_path, {"reserve": {"release": [tranche]}}))
    assert price_2028(res) == pytest.approx(price, rel=1e-9)
    assert float(res["reserve_release_trigger"].sel(market="m", year=2028, tranche=0)) == pytest.approx(price)
    assert float(res["reserve_released"].sel(market="m", year=2028, tranche=0)) == pytest.approx(20.0, abs=1e-6)
    assert float(res["abatement"].sum()) == pytest.approx(10.0, abs=1e-6)


def test_tranche_and_band_with_the_same_numbers_agree(tmp_path):
    band = run_scenario(case(tmp_path / "b", {"price_ceiling": {"start_jpy_per_t": 2000.0, "growth_rate": 0.1}}))
    tranche = {"trigger_jpy_per_t": 2000.0, "volume_t": 100.0, "growth_rate": 0.1}
    reserve = run_scenario(case(tmp_path / "r", {"reserve": {"release": [tranche]}}))
    assert price_2028(band) == pytest.approx(2420.0, rel=1e-9)
    assert price_2028(reserve) == pytest.approx(price_2028(band), rel=1e-9)
