"""nationcap/results/prices.py: duals -> prices, the interval of clearing prices included.

Solver-free: a SolveResult is written by hand and the conversion checked against numbers worked
out in the docstrings.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from nationcap.engines.base import SolveResult, Status
from nationcap.errors import ModelError
from nationcap.results.prices import price_interval_pv, year_prices


def fake_md(rate: float = 0.1):
    """Two markets, two periods: P1 = FY2026-2027, P2 = FY2028; discount factors (1 + r)^-(y - 2026)."""
    years = np.array([2026, 2027, 2028])
    return SimpleNamespace(
        markets=["national", "regional"],
        periods=["P1", "P2"],
        year_period=np.array([0, 0, 1]),
        discount=(1 + rate) ** -(years - 2026.0),
    )


def result(point, low=None, high=None) -> SolveResult:
    sr = SolveResult(Status.OPTIMAL, 0.0, 0.0, {}, {"market_balance": np.asarray(point, dtype=float)}, "test")
    if low is not None:
        sr.dual_low["market_balance"] = np.asarray(low, dtype=float)
    if high is not None:
        sr.dual_high["market_balance"] = np.asarray(high, dtype=float)
    return sr


def test_interval_in_present_value_and_each_years_money():
    """Row order a * P + p. national P1: duals in [1000, 3000] (the solver found 3000), P2 unique
    1210; regional P1 [0, 500], P2 unique 0. PV prices are the duals; each year's money divides
    by the discount factor: FY2027 (d = 1/1.1) 1000 x 1.1 = 1100 and 3000 x 1.1 = 3300; FY2028
    (d = 1/1.21) 1210 x 1.21 = 1464.1."""
    md = fake_md()
    sr = result([3000, 1210, 0, 0], low=[1000, 1210, 0, 0], high=[3000, 1210, 500, 0])
    low, high = price_interval_pv(md, sr)
    np.testing.assert_array_equal(low, [[1000, 1210], [0, 0]])
    np.testing.assert_array_equal(high, [[3000, 1210], [500, 0]])
    np.testing.assert_allclose(year_prices(md, low)[0], [1000, 1100, 1464.1])
    np.testing.assert_allclose(year_prices(md, high)[0], [3000, 3300, 1464.1])
    np.testing.assert_allclose(year_prices(md, high)[1], [500, 550, 0])


def test_an_engine_without_an_interval_reports_its_dual_as_both_ends():
    md = fake_md()
    low, high = price_interval_pv(md, result([10, 20, 30, 40]))
    np.testing.assert_array_equal(low, [[10, 20], [30, 40]])
    np.testing.assert_array_equal(high, low)


def test_solver_noise_is_zero_and_rounding_never_inverts_the_interval():
    """Ends within ZERO_TOL (1e-6) of zero are zero; an upper end a rounding error below the lower
    end is raised to it (low <= high always)."""
    md = fake_md()
    sr = result([5e-7, 100, 0, 0], low=[-5e-7, 100, 0, 0], high=[5e-7, 100 - 1e-9, 0, 0])
    low, high = price_interval_pv(md, sr)
    assert low[0, 0] == 0.0 and high[0, 0] == 0.0
    assert high[0, 1] == low[0, 1] == 100


def test_an_upper_end_that_no_tonne_can_meet_is_infinite():
    """dual_high = inf (not one more tonne could be met): price_high is inf in every year."""
    md = fake_md()
    low, high = price_interval_pv(md, result([7, 0, 0, 0], low=[7, 0, 0, 0], high=[np.inf, 0, 0, 0]))
    assert low[0, 0] == 7 and np.isinf(high[0, 0])
    assert np.isinf(year_prices(md, high)[0, :2]).all()


def test_a_negative_end_is_a_broken_sign_convention():
    md = fake_md()
    with pytest.raises(ModelError, match="negative allowance price .* market 'regional', period P2"):
        price_interval_pv(md, result([0, 0, 0, 5], low=[0, 0, 0, -5], high=[0, 0, 0, 5]))
