"""The lower end of a price interval with banking is the dearest last step of the periods the bank
joins, which can be above the cost of the last step one period uses.

One entity A, BAU = base = 100 t a year, P1 = FY2026, P2 = FY2027, discount rate 5 %, banking on.
Steps each year: 10 t at 100 JPY/t, 10 t at 200 JPY/t and 80 t at 1,000 JPY/t (each year's
money), so in present value (FY2026 money): 2026: 100, 200, 1,000; 2027: 95.24, 190.48, 952.38.
Factors 0.05 and 0.25: P1 needs 5 t, P2 25 t, together 30 t.

The cheapest way: P1 abates its 10 t at 100 and banks 5 t; P2 abates 10 t at 95.24 (100 in 2027)
and 10 t at 190.48 (200 in 2027) and uses the 5 banked: exactly 30 t, every step used is used
fully. The bank is positive, so both periods have one PV price; every PV price from 190.48 (the
2027 step of 200, 200 / 1.05) to 200 (the 2026 step of 200, not used) clears. The lower end is
190.48 in both periods, while the last step P1 uses costs 100."""

from __future__ import annotations

import pytest
from casebuilder import ent, write_case

from nationcap.pipeline import run_scenario

pytestmark = pytest.mark.solver


@pytest.mark.parametrize("engine", ["pyomo", "fast"])
def test_lower_end_with_banking_is_the_dearest_last_step_of_the_block(tmp_path, engine):
    path = write_case(
        tmp_path,
        [ent("A")],
        {"A": 100.0},
        [("A", 1, 0.1, 100.0), ("A", 2, 0.1, 200.0), ("A", 3, 0.8, 1000.0)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {"m": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.25}}}},
        discount_rate=0.05,
    )
    res = run_scenario(path, engine=engine)
    low = res["price_low_pv"].sel(market="m").values
    high = res["price_high_pv"].sel(market="m").values
    assert low == pytest.approx([200 / 1.05, 200 / 1.05], rel=1e-6)  # 190.48
    assert high == pytest.approx([200.0, 200.0], rel=1e-6)
    assert float(res["bank"].sel(market="m", period="P1")) == pytest.approx(5.0, abs=1e-6)
    assert float(res["abatement"].sel(year=2026).sum()) == pytest.approx(10.0, abs=1e-6)  # last step 100
