"""A price band that is unbounded across years is refused by the scenario check.

With banking, an allowance issued at the ceiling in year a and withdrawn at the floor in a later
year b earns ``d[b] x floor[b] - d[a] x ceiling[a]`` in present value (d = the discount factor to
the first model year), without limit: the LP is unbounded (HiGHS: "termination unbounded").
``nationcap/config/arbitrage.py`` (``check_band_arbitrage``) now finds it in ``nationcap validate``
and ``nationcap run`` before anything is solved (exit 2).

Before the check, ``nationcap run`` of the case below ended after the solve with "HiGHS did not
find an optimal solution for scenario 'case': termination unbounded".

The case: a band on the national market only, periods P1 = FY2026-2028 and P2 = FY2029-2030, discount rate 3 %; ceiling
5,000 JPY/t every year except 1,000 in FY2026, floor 100 every year except 2,000 in FY2030 (no
growth). PV floor in FY2030 = 2,000 / 1.03^4 = 1,776.97 > 1,000 = PV ceiling in FY2026: a pump
with banking (P1 -> P2). Without banking the two years cannot meet (different periods), and
within a period every PV floor is below every PV ceiling (100 < 5,000 / 1.03^4 = 4,442.4 and
2,000 < 5,000 / 1.03^3 = 4,575.7), so the band is bounded.
"""

from __future__ import annotations

import pytest
from casebuilder import REPO, two_market_case
from click.testing import CliRunner

from nationcap.cli import cli

CEILING = {"start_jpy_per_t": 5000.0, "growth_rate": 0.0, "by_year": {"2026": 1000.0}}
FLOOR = {"start_jpy_per_t": 100.0, "growth_rate": 0.0, "by_year": {"2030": 2000.0}}


band_case = two_market_case


def validate(path):
    return CliRunner().invoke(cli, ["validate", str(path)])


def test_ceiling_below_a_later_pv_floor_is_refused_with_banking(tmp_path):
    path = band_case(tmp_path, national={"price_ceiling": CEILING, "price_floor": FLOOR})
    out = validate(path)
    assert out.exit_code == 2, out.output
    msg = out.output
    assert "markets.national.price_ceiling" in msg
    assert "FY2026" in msg and "FY2030" in msg
    assert "1,000.00 JPY/t" in msg and "2,000.00 JPY/t" in msg
    assert "PV 1,776.97" in msg  # 2,000 / 1.03**4
    assert "banking" in msg
    assert "Traceback" not in msg


def test_run_refuses_it_before_solving(tmp_path):
    path = band_case(tmp_path, national={"price_ceiling": CEILING, "price_floor": FLOOR})
    out = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out")])
    assert out.exit_code == 2, out.output
    assert "FY2026" in out.output and "FY2030" in out.output
    assert not (tmp_path / "out").exists()


@pytest.mark.solver
def test_the_same_band_without_banking_is_accepted_and_solves(tmp_path):
    """Banking off: the two years are in different periods and cannot meet. The scenario validates
    and solves (bounded)."""
    path = band_case(tmp_path, national={"banking": False, "price_ceiling": CEILING, "price_floor": FLOOR})
    out = validate(path)
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output


def test_within_one_period_any_two_years_meet_even_without_banking(tmp_path):
    """Floor 2,000 in FY2028 against the ceiling 1,000 of FY2026, both in P1: one pool row, so
    banking does not matter."""
    floor = {**FLOOR, "by_year": {"2028": 2000.0}}
    path = band_case(tmp_path, national={"banking": False, "price_ceiling": CEILING, "price_floor": floor})
    out = validate(path)
    assert out.exit_code == 2, out.output
    assert "FY2026" in out.output and "FY2028" in out.output and "within period P1" in out.output


def test_borrowing_lets_a_later_ceiling_feed_an_earlier_floor(tmp_path):
    """Ceiling 1,000 in FY2030 and floor 2,000 in FY2026: with borrowing (even without banking)
    the allowance issued in P2 can be used in P1: PV 2,000 > 1,000 / 1.03^4 = 888.49. Without
    borrowing it cannot."""
    ceiling = {**CEILING, "by_year": {"2030": 1000.0}}
    floor = {**FLOOR, "by_year": {"2026": 2000.0}}
    band = {"price_ceiling": ceiling, "price_floor": floor}
    out = validate(band_case(tmp_path / "a", national={"banking": False, "borrowing": True, **band}))
    assert out.exit_code == 2, out.output
    assert "borrowing" in out.output and "PV 888.49" in out.output
    out = validate(band_case(tmp_path / "b", national=band))  # banking only: forward, not backward
    assert out.exit_code == 0, out.output


def test_across_a_full_link(tmp_path):
    """National ceiling 1,000 in FY2026, regional floor 2,000 in FY2026 (no pump within either
    market). A full link moves one national allowance into `ratio` regional ones: at ratio 1 it
    earns 2,000 - 1,000 > 0 (refused); at ratio 0.4 it earns 0.4 x 2,000 = 800 < 1,000 (accepted);
    one way regional -> national it cannot flow that way (accepted)."""
    national = {"price_ceiling": CEILING}
    regional = {"price_floor": {**FLOOR, "by_year": {"2026": 2000.0}}}
    out = validate(band_case(tmp_path / "a", national, regional, '[link]\nmode = "full"\n'))
    assert out.exit_code == 2, out.output
    assert "key 'link'" in out.output and "'national'" in out.output and "'regional'" in out.output
    out = validate(band_case(tmp_path / "b", national, regional, '[link]\nmode = "full"\nratio = 0.4\n'))
    assert out.exit_code == 0, out.output
    one_way = '[link]\nmode = "full"\ndirection = "regional_to_national"\n'
    out = validate(band_case(tmp_path / "c", national, regional, one_way))
    assert out.exit_code == 0, out.output
    out = validate(band_case(tmp_path / "d", national, regional, '[link]\nmode = "limited"\n'))
    assert out.exit_code == 0, out.output  # a limited link bounds the flow


def test_the_shipped_gx_band_is_accepted():
    """models/gx_band.toml: floor 1,700 and ceiling 4,300 in FY2026, both +3 %/yr, discount 3 %:
    every PV floor is 1,700 and every PV ceiling 4,300 (the growth equals the discount rate)."""

    from nationcap.config import load_scenario

    load_scenario(REPO / "models" / "gx_band.toml")
