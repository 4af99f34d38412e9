"""Market scope (``select``, ``split_by``) on small cases derived by hand, on every engine.

Selections and splits are resolved before the model is built (``nationcap/derive/scope.py``), so
each engine solves an ordinary scenario; these cases check the economics of the choice: a split
market has one price per group, the nationwide market one price between them at a total cost no
higher, and a size threshold leaves the small entities uncovered with their BAU.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case
from handcases import ENGINES, TOL, Cases, run_on

pytestmark = pytest.mark.solver

CASES = Cases()

FACTOR = {"P1": {"general": 0.2}}


def two_administrators(root, split: bool):
    """Two installations of one market, A run by administrator X and B by Y; BAU 100 each and a
    factor of 0.2 in one year: each must cover 20 t.

    A's step: 30 t @1,000. B's steps: 15 t @2,000, 30 t @4,000.

    Split by administrator (markets m/X and m/Y, no trade between them):
      m/X: A uses 20 t of its 1,000 step: price 1,000, cost 20,000.
      m/Y: B uses its 15 t @2,000 and 5 t of the 4,000 step: price 4,000,
           cost 15 x 2,000 + 5 x 4,000 = 50,000. Total 70,000.
    One market: 40 t needed; A's 30 t @1,000, then 10 t of B's 2,000 step: one price 2,000,
      between the two, at a cost of 30,000 + 20,000 = 50,000 <= 70,000 (the gain: 20,000).
      A abates 30 t and sells 10 to B: administrator X's net position is -10 t, Y's +10 t, and
      10 t move between administrators. Who bears what: A 30,000 - 10 x 2,000 = 10,000,
      B 20,000 + 10 x 2,000 = 40,000 (split: 20,000 and 50,000; both gain 10,000).
    """
    market = {"compliance_factor": FACTOR}
    if split:
        market["split_by"] = "administrator"
    return write_case(
        root,
        [ent("A", administrator="X", prefecture="Tokyo"), ent("B", administrator="Y", prefecture="Osaka")],
        {"A": 100, "B": 100},
        [("A", 1, 0.3, 1000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 4000)],
        [("P1", 2026, 2026)],
        {"m": market},
    )


@CASES.add(lambda root: two_administrators(root, split=True), id="split_by_administrator")
def split_market_has_a_price_per_administrator(run):
    r = run.results
    assert [str(m) for m in r["market"].values] == ["m/X", "m/Y"]
    assert float(r["price"].sel(market="m/X", year=2026)) == pytest.approx(1000, abs=TOL)
    assert float(r["price"].sel(market="m/Y", year=2026)) == pytest.approx(4000, abs=TOL)
    assert r["total_cost"].values == pytest.approx([20_000, 50_000], abs=1e-3)
    assert r["abatement"].sel(year=2026).values == pytest.approx([20, 20], abs=TOL)
    assert r["compliance_cost"].sel(period="P1").values == pytest.approx([20_000, 50_000], abs=1e-3)
    # one administrator per market: nothing moves between administrators
    assert r["traded_between_administrators"].values == pytest.approx([0, 0], abs=TOL)
    assert "uncovered_bau_emissions" in r and float(r["uncovered_bau_emissions"].sum()) == 0.0


@CASES.add(lambda root: two_administrators(root, split=False), id="one_market_two_administrators")
def one_market_prices_between_and_costs_less(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(2000, abs=TOL)
    assert float(r["total_cost"].sum()) == pytest.approx(50_000, abs=1e-3)
    assert r["abatement"].sel(year=2026).values == pytest.approx([30, 10], abs=TOL)
    pos = r["net_purchase_by_administrator"].sel(market="m", period="P1")
    assert float(pos.sel(administrator="X")) == pytest.approx(-10, abs=TOL)
    assert float(pos.sel(administrator="Y")) == pytest.approx(10, abs=TOL)
    assert float(r["traded_between_administrators"].sel(market="m", period="P1")) == pytest.approx(10, abs=TOL)
    assert float(r["traded_between_administrators_total"].sel(market="m")) == pytest.approx(10, abs=TOL)
    cost = r["compliance_cost_by_administrator"].sel(market="m", period="P1")
    assert cost.sel(administrator=["X", "Y"]).values == pytest.approx([10_000, 40_000], abs=1e-3)


def threshold(root, min_base_t: float):
    """A and B (base 100, BAU 100) and a small C (base 10, BAU 10) in one market; the market
    selects entities with base-year emissions >= min_base_t. National CO2: 1,000 t.

    min_base_t = 50: C is uncovered and emits its BAU of 10 t (its no-regret step is not taken:
    nothing in the program reaches it). A and B must cover 2 x 20 = 40 t: A's 30 t @1,000, then
    10 t of B's 30 t @3,000: price 3,000, cost 30,000 + 30,000 = 60,000.
    Coverage: the market covers 200 / 1,000 = 0.20 of national CO2, the uncovered entity
    10 / 1,000 = 0.01; together 0.21, the share of every entity of the dataset (210 t).
    """
    return write_case(
        root,
        [ent("A"), ent("B", sector="factory_food"), ent("C", base=10.0, sector="public", prefecture="Osaka")],
        {"A": 100, "B": 100, "C": 10},
        [("A", 1, 0.3, 1000), ("B", 1, 0.3, 3000), ("C", 1, 0.5, 0)],
        [("P1", 2026, 2026)],
        {"m": {"select": {"market": ["m"], "min_base_t": min_base_t}, "compliance_factor": FACTOR}},
        national_co2_t={2026: 1000.0},
    )


@CASES.add(lambda root: threshold(root, 50.0), id="threshold_leaves_small_entities_uncovered")
def threshold_removes_small_entities(run):
    r = run.results
    assert [str(e) for e in r["entity"].values] == ["A", "B"]
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert float(r["total_cost"].sum()) == pytest.approx(60_000, abs=1e-3)
    assert float(r["uncovered_bau_emissions"].sel(year=2026)) == pytest.approx(10, abs=TOL)
    assert int(r["uncovered_entities_by_sector"].sel(sector="public")) == 1
    assert int(r["uncovered_entities_by_sector"].sum()) == 1
    assert float(r["uncovered_bau_emissions_by_prefecture"].sel(prefecture="Osaka", year=2026)) == pytest.approx(10)
    assert float(r["uncovered_bau_emissions_by_prefecture"].sel(prefecture="Tokyo", year=2026)) == 0.0
    assert float(r["coverage_share"].sel(market="m", year=2026)) == pytest.approx(0.20)
    assert float(r["uncovered_share"].sel(year=2026)) == pytest.approx(0.01)
    # the shares add up to the share of every entity of the dataset
    total = float(r["coverage_share"].sel(year=2026).sum() + r["uncovered_share"].sel(year=2026))
    assert total == pytest.approx(210 / 1000)
    # the sector coordinate is the dataset's, covered or not: C's sector is there with 0 entities covered
    assert int(r["entities_by_sector"].sel(market="m", sector="public")) == 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_scope_case(engine, case, tmp_path):
    case.check(engine, tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
def test_nationwide_market_costs_no_more_than_its_split(engine, tmp_path):
    """The property behind the gain: splitting a market only removes trades, so the split's total
    cost is never lower (here 70,000 against 50,000, derived in :func:`two_administrators`)."""
    split = run_on(engine, two_administrators(tmp_path / "s", split=True)).results
    whole = run_on(engine, two_administrators(tmp_path / "w", split=False)).results
    assert float(whole["total_cost"].sum()) == pytest.approx(50_000, abs=1e-3)
    assert float(split["total_cost"].sum()) == pytest.approx(70_000, abs=1e-3)
    lo, hi = split["price"].sel(year=2026).min(), split["price"].sel(year=2026).max()
    assert float(lo) < float(whole["price"].sel(market="m", year=2026)) < float(hi)
    assert np.isclose(whole.attrs["objective_jpy"], 50_000) and np.isclose(split.attrs["objective_jpy"], 70_000)
