"""Allowance reserves with finite volumes and the limits on the floor and the ceiling, with answers
derived by hand.

The cases run on every engine through :mod:`handcases`; the exact merit-order engine does not
implement reserves or band limits and skips them, naming the keys (checked separately below).

Every case has one entity A in market m with BAU 100 t/yr and two MAC steps per year: 10 t at
1,000 JPY/t and 30 t at 5,000 JPY/t. A tranche, floor or ceiling is a source (or sink) of
allowances at a fixed price, so it joins the merit order: the price is the cost of the marginal
source, which is the trigger while a tranche is partly used and the next source once it is
exhausted (the reduced-cost argument of nationcap/model/rules/reserve.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case
from click.testing import CliRunner
from handcases import TOL, Cases, engines, model_data, run_on

from nationcap.cli import cli
from nationcap.engines import get_engine
from nationcap.report.summary import run_summary

pytestmark = pytest.mark.solver

ONE_YEAR = [("P1", 2026, 2026)]
CASES = Cases()


def one_entity(root, market_cfg, periods=ONE_YEAR, discount_rate=0.0):
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)],
        periods,
        {"m": market_cfg},
        discount_rate=discount_rate,
    )


def tranche(trigger, volume, growth=0.0):
    return {"trigger_jpy_per_t": float(trigger), "volume_t": float(volume), "growth_rate": float(growth)}


def release(root, volume, trigger=3000.0):
    """Factor 0.3: 30 t needed. A release tranche at 3,000 JPY/t of ``volume`` t."""
    cfg = {"compliance_factor": {"P1": {"general": 0.3}}, "reserve": {"release": [tranche(trigger, volume)]}}
    return one_entity(root, cfg)


# ---------------------------------------------------------------------------------------------
# release tranches (a cost containment reserve)
# ---------------------------------------------------------------------------------------------


@CASES.add(lambda root: release(root, 5.0))
def release_tranche_that_runs_out_lets_the_price_rise_to_the_next_step(run):
    """Merit order: 10 t @1,000, then the tranche's 5 t @3,000, then the 5,000 step. 30 t needed:
    10 + 5 + 15 t of the 5,000 step. The tranche is exhausted and the price is 5,000 > 3,000
    (the next step's cost). Payment 5 x 3,000 = 15,000 JPY."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5000, abs=TOL)
    assert float(r["reserve_released"].sel(market="m", year=2026, tranche=0)) == pytest.approx(5, abs=TOL)
    assert float(r["reserve_released_total"].sel(market="m", year=2026)) == pytest.approx(5, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(25, abs=TOL)
    assert float(r["reserve_release_payments"].sel(market="m", period="P1")) == pytest.approx(15_000, abs=1e-3)
    assert float(r["reserve_withheld"].sel(market="m", year=2026, tranche=0)) != float(
        r["reserve_withheld"].sel(market="m", year=2026, tranche=0)
    )  # no withhold tranche: NaN


@CASES.add(lambda root: release(root, 50.0))
def release_tranche_that_does_not_run_out_holds_the_price_at_the_trigger(run):
    """10 t @1,000, then 20 of the tranche's 50 t @3,000 meet the 30 t: the tranche is partly used,
    so the price is its trigger, 3,000; the 5,000 step is unused. Payment 20 x 3,000 = 60,000."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert float(r["reserve_released"].sel(market="m", year=2026, tranche=0)) == pytest.approx(20, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(10, abs=TOL)
    assert float(r["reserve_release_payments"].sel(market="m", period="P1")) == pytest.approx(60_000, abs=1e-3)


def two_release_tranches(root):
    """Tranches 5 t @3,000 and 50 t @4,000 (in the scenario in the dearer-first order)."""
    cfg = {
        "compliance_factor": {"P1": {"general": 0.3}},
        "reserve": {"release": [tranche(4000, 50.0), tranche(3000, 5.0)]},
    }
    return one_entity(root, cfg)


@CASES.add(two_release_tranches)
def the_second_tranche_sets_the_price_once_the_first_runs_out(run):
    """10 t @1,000, 5 t @3,000 (exhausted), then 15 of the 50 t @4,000: price 4,000 (the partly used
    tranche); the 5,000 step unused. Payments 5 x 3,000 + 15 x 4,000 = 75,000."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(4000, abs=TOL)
    assert r["reserve_released"].sel(market="m", year=2026).values == pytest.approx([15, 5], abs=TOL)
    assert float(r["reserve_release_payments"].sum()) == pytest.approx(75_000, abs=1e-3)


def release_over_two_years(root, volume):
    """One period FY2026-2027 (discount 0): 60 t needed over the period; per year 10 t @1,000 and
    30 t @5,000. A release tranche of ``volume`` t per year at 3,000 in FY2026, growing 10 %/yr
    (3,300 in FY2027)."""
    cfg = {
        "compliance_factor": {"P1": {"general": 0.3}},
        "reserve": {"release": [tranche(3000, volume, growth=0.1)]},
    }
    return one_entity(root, cfg, periods=[("P1", 2026, 2027)])


@CASES.add(lambda root: release_over_two_years(root, 50.0))
def the_cheaper_year_of_a_growing_trigger_is_released_first(run):
    """20 t of abatement @1,000, then 40 t of FY2026's 50 t @3,000 (cheaper than FY2027's 3,300):
    one price per period, 3,000 in both years (discount 0); FY2027's tranche stays unused."""
    r = run.results
    assert r["reserve_release_trigger"].sel(market="m", tranche=0).values == pytest.approx([3000, 3300])
    assert r["price"].sel(market="m").values == pytest.approx([3000, 3000], abs=TOL)
    assert r["reserve_released"].sel(market="m", tranche=0).values == pytest.approx([40, 0], abs=TOL)


@CASES.add(lambda root: release_over_two_years(root, 30.0))
def the_later_year_sets_the_price_once_the_first_runs_out(run):
    """20 t @1,000, FY2026's 30 t @3,000 (exhausted), then 10 of FY2027's 30 t @3,300: price 3,300
    in both years, above FY2026's trigger."""
    r = run.results
    assert r["price"].sel(market="m").values == pytest.approx([3300, 3300], abs=TOL)
    assert r["reserve_released"].sel(market="m", tranche=0).values == pytest.approx([30, 10], abs=TOL)
    assert float(r["reserve_release_payments"].sum()) == pytest.approx(30 * 3000 + 10 * 3300, abs=1e-3)


# ---------------------------------------------------------------------------------------------
# withhold tranches (an emissions containment reserve)
# ---------------------------------------------------------------------------------------------


def withhold(root, volume):
    """Factor 0.05: 5 t needed, which the 1,000 step alone would meet at a price of 1,000. A
    withhold tranche at 1,500 JPY/t of ``volume`` t (the administrator takes allowances out of
    the market at 1,500; unused allowances can be banked after the last period at no value)."""
    cfg = {"compliance_factor": {"P1": {"general": 0.05}}, "reserve": {"withhold": [tranche(1500, volume)]}}
    return one_entity(root, cfg)


@CASES.add(lambda root: withhold(root, 20.0))
def withhold_tranche_that_does_not_run_out_holds_the_price_at_the_trigger(run):
    """Abating at 1,000 and having the surplus withheld at 1,500 is worth it for the whole 10 t
    step: 10 t abated, 5 t needed, 5 of the tranche's 20 t withheld: the tranche is partly used, so
    the price is its trigger, 1,500. Receipts 5 x 1,500 = 7,500."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(1500, abs=TOL)
    assert float(r["reserve_withheld"].sel(market="m", year=2026, tranche=0)) == pytest.approx(5, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(10, abs=TOL)
    assert float(r["reserve_withhold_receipts"].sel(market="m", period="P1")) == pytest.approx(7_500, abs=1e-3)


@CASES.add(lambda root: withhold(root, 3.0))
def withhold_tranche_that_runs_out_lets_the_price_fall_below_the_trigger(run):
    """Only 3 t can be withheld: 5 + 3 = 8 t of the 10 t step are abated, the step is partly used,
    so the price is its cost, 1,000 < 1,500 (the tranche is exhausted)."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(1000, abs=TOL)
    assert float(r["reserve_withheld"].sel(market="m", year=2026, tranche=0)) == pytest.approx(3, abs=TOL)
    assert float(r["abatement"].sum()) == pytest.approx(8, abs=TOL)
    assert float(r["reserve_withhold_receipts"].sum()) == pytest.approx(4_500, abs=1e-3)


# ---------------------------------------------------------------------------------------------
# volume limits on the unlimited floor and ceiling
# ---------------------------------------------------------------------------------------------


def floor_limited(root, limit=None):
    """The floor case of test_rules.py (5 t needed, the 10 t step @1,000, floor 1,700), with
    ``floor_volume_limit_t``."""
    cfg = {"compliance_factor": {"P1": {"general": 0.05}}, "price_floor": {}}
    if limit is not None:
        cfg["floor_volume_limit_t"] = float(limit)
    return one_entity(root, cfg)


@CASES.add(lambda root: floor_limited(root, 3.0))
def floor_stops_buying_at_its_volume_limit_and_the_price_falls_below_it(run):
    """Without a limit the floor buys back 5 t and holds 1,700. With 3 t per year: 5 + 3 = 8 t of
    the step abated, 3 t withdrawn (the limit), price 1,000 < the floor 1,700. Receipts
    3 x 1,700 = 5,100."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(1000, abs=TOL)
    assert float(r["floor_withdrawn"].sel(market="m", period="P1")) == pytest.approx(3, abs=TOL)
    assert float(r["floor_withdrawn_payments"].sum()) == pytest.approx(5_100, abs=1e-3)


@CASES.add(lambda root: floor_limited(root, 50.0))
def floor_limit_that_does_not_bind_changes_nothing(run):
    """A limit of 50 t above the 5 t withdrawn: price 1,700 and 5 t withdrawn, as without a limit."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(1700, abs=TOL)
    assert float(r["floor_withdrawn"].sel(market="m", period="P1")) == pytest.approx(5, abs=TOL)


def ceiling_limited(root, limit):
    """30 t needed, ceiling 4,300 (FY2026) limited to ``limit`` t per year."""
    cfg = {"compliance_factor": {"P1": {"general": 0.3}}, "price_ceiling": {}, "ceiling_volume_limit_t": float(limit)}
    return one_entity(root, cfg)


@CASES.add(lambda root: ceiling_limited(root, 5.0))
def ceiling_stops_selling_at_its_volume_limit_and_the_price_rises_above_it(run):
    """Without a limit: 10 t abated and 20 t bought at 4,300. With 5 t per year: 10 t @1,000, the
    5 t @4,300, then 15 t of the 5,000 step: price 5,000 > 4,300. Payments 5 x 4,300 = 21,500."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5000, abs=TOL)
    assert float(r["ceiling_issued"].sel(market="m", period="P1")) == pytest.approx(5, abs=TOL)
    assert float(r["ceiling_issued_payments"].sum()) == pytest.approx(21_500, abs=1e-3)


@CASES.add(lambda root: ceiling_limited(root, 0.0))
def ceiling_with_a_zero_limit_is_no_ceiling(run):
    """Nothing sold at the ceiling: 10 t @1,000 + 20 t @5,000, price 5,000 (the core answer)."""
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5000, abs=TOL)
    assert float(r["ceiling_issued"].sum()) == pytest.approx(0, abs=TOL)


@engines
@pytest.mark.parametrize("case", CASES, ids=str)
def test_reserve_case(case, engine, tmp_path):
    case.check(engine, tmp_path)


# ---------------------------------------------------------------------------------------------
# the unlimited band is the limiting case; the cost account; the summary; engines
# ---------------------------------------------------------------------------------------------


def band_vs_reserve(root, factor, reserve: bool):
    """Three years FY2026-2028 in one period, discount 3 %: the GX band (1,700 / 4,300, +3 %/yr),
    either as the unlimited floor and ceiling or as tranches of 10^6 t per year."""
    cfg: dict = {"compliance_factor": {"P1": {"general": factor}}}
    if reserve:
        cfg["reserve"] = {"release": [tranche(4300, 1e6, 0.03)], "withhold": [tranche(1700, 1e6, 0.03)]}
    else:
        cfg.update({"price_floor": {}, "price_ceiling": {}})
    return one_entity(root, cfg, periods=[("P1", 2026, 2028)], discount_rate=0.03)


@pytest.mark.parametrize("factor", [0.02, 0.2])
@pytest.mark.parametrize("engine", ["pyomo", "pyomo:full"])
def test_a_reserve_too_large_to_run_out_is_the_unlimited_band(tmp_path, engine, factor):
    """Tranches far larger than the market (10^6 t a year against 100 t of BAU) never run out, so
    they give the band's prices. The band grows at the discount rate: PV floor 1,700 and PV
    ceiling 4,300 in every year; the PV step costs are 1,000 / 1.03^t and 5,000 / 1.03^t (t = 0, 1,
    2; the dearer ones all above 4,300). Factor 0.02: 6 t needed of the 30 t at ~1,000, all 30 t
    are worth abating to sell 24 t back at 1,700: price at the floor. Factor 0.2: 60 t needed, 30 t
    at ~1,000 and 30 t at the ceiling rather than the 5,000 steps: price at the ceiling. Prices,
    period volumes and payments agree (which year of the period a tranche is used in is not
    unique: every year's PV trigger is the same)."""
    a = run_on(engine, band_vs_reserve(tmp_path / "band", factor, False)).results
    b = run_on(engine, band_vs_reserve(tmp_path / "res", factor, True)).results
    np.testing.assert_allclose(b["price"].values, a["price"].values, rtol=1e-9, atol=1e-6)
    released = b["reserve_released_total"].sum("year").values
    withheld = b["reserve_withheld_total"].sum("year").values
    np.testing.assert_allclose(released, a["ceiling_issued"].sum("period").values, atol=1e-6)
    np.testing.assert_allclose(withheld, a["floor_withdrawn"].sum("period").values, atol=1e-6)
    np.testing.assert_allclose(
        b["reserve_release_payments"].values, a["ceiling_issued_payments"].values, rtol=1e-9, atol=1e-6
    )


def test_the_rules_fill_the_cost_account(tmp_path):
    """``RuleReport.account_pv`` holds (M, P) non-negative PV amounts under fixed keys: the band's
    ``ceiling_payments`` / ``floor_receipts`` and the reserve's ``reserve_release_payments`` /
    ``reserve_withhold_receipts`` (zero when the rule is off)."""
    from nationcap.model.rules import price_band, reserve
    from nationcap.model.rules.base import ReportContext
    from nationcap.results.prices import present_value_prices

    run = run_on("pyomo", release(tmp_path / "a", 5.0))
    md, sr = run.model_data, run.solution
    price_pv = present_value_prices(md, sr.duals["market_balance"].reshape(1, 1))
    ctx = ReportContext(
        md, sr, {"market": np.array(["m"]), "year": np.array([2026]), "period": np.array(["P1"])}, price_pv
    )
    acc = reserve.report(ctx).account_pv
    assert set(acc) == {"reserve_release_payments", "reserve_withhold_receipts"}
    assert acc["reserve_release_payments"].shape == (1, 1)
    assert acc["reserve_release_payments"][0, 0] == pytest.approx(15_000, abs=1e-3)
    assert acc["reserve_withhold_receipts"][0, 0] == 0.0
    band = price_band.report(ctx).account_pv
    assert set(band) == {"ceiling_payments", "floor_receipts"}
    assert band["ceiling_payments"].sum() == 0.0

    run = run_on("pyomo", ceiling_limited(tmp_path / "b", 5.0))
    md, sr = run.model_data, run.solution
    price_pv = present_value_prices(md, sr.duals["market_balance"].reshape(1, 1))
    ctx = ReportContext(md, sr, ctx.coords, price_pv)
    assert price_band.report(ctx).account_pv["ceiling_payments"][0, 0] == pytest.approx(21_500, abs=1e-3)
    off = reserve.report(ctx)
    assert not off.variables  # the rule is off: no variables, no tranche dimension
    assert off.account_pv["reserve_release_payments"].tolist() == [[0.0]]


def test_summary_lists_the_reserve_volumes(tmp_path):
    run = run_on("pyomo", release(tmp_path, 5.0))
    text = run_summary(run.results)
    assert "Allowance reserves" in text and "released_Mt" in text


def test_a_run_without_reserves_has_no_tranche_dimension(tmp_path):
    run = run_on("pyomo", floor_limited(tmp_path))
    assert "tranche" not in run.results.dims
    assert not any(str(v).startswith("reserve_") for v in run.results.data_vars)


def test_the_exact_engine_refuses_reserves_and_limits_by_key(tmp_path):
    """The merit-order engine refuses every key not at its default: the message names the key."""
    eng = get_engine("fast")
    missing = eng.supports(model_data(release(tmp_path / "a", 5.0)))
    assert len(missing) == 1 and missing[0].startswith("markets.m.reserve = ")
    missing = eng.supports(model_data(ceiling_limited(tmp_path / "b", 5.0)))
    assert any(m.startswith("markets.m.ceiling_volume_limit_t = 5.0") for m in missing)
    out = CliRunner().invoke(
        cli, ["run", str(release(tmp_path / "c", 5.0)), "--engine", "fast", "--out", str(tmp_path / "out")]
    )
    assert out.exit_code == 2, out.output
    assert "key 'markets.m.reserve'" in out.output and "--engine pyomo" in out.output
    assert "Traceback" not in out.output and not (tmp_path / "out").exists()


def test_held_model_re_solves_a_reserve_scenario_like_a_fresh_run(tmp_path):
    """The reserve's bounds do not depend on the allocation, so a factor change re-solves the held
    model in place (it declares no allocation dependence) and gives the answers of a fresh run: factor 0.3 with a
    5 t tranche -> price 5,000 (above); factor 0.2 -> 10 t @1,000 + 5 t @3,000 + 5 t @5,000,
    still 5,000; factor 0.12 -> 10 + 2 of the tranche: price 3,000."""
    from nationcap.pipeline import load, run_dataset
    from nationcap.session import Session

    path = release(tmp_path, 5.0)
    full = 'solver.formulation="full"'
    session = Session.open(path, (full,), hold=True)
    assert session.in_place([full, "markets.m.compliance_factor.P1.general=0.2"]) is None
    eng = session.engine
    prices = []
    for f in (0.3, 0.2, 0.12):
        scn_f, ds_f = load(path, (full, f"markets.m.compliance_factor.P1.general={f}"))
        r = session.solve(scn_f).results
        fresh = run_dataset(scn_f, ds_f).results
        assert float(r["price"].item()) == pytest.approx(float(fresh["price"].item()), abs=1e-6)
        prices.append(float(r["price"].item()))
        np.testing.assert_allclose(r["reserve_released"].values, fresh["reserve_released"].values, atol=1e-6)
    assert prices == pytest.approx([5000, 5000, 3000], abs=1e-6)
    assert eng.builds == 1 and eng.solves == 3


def test_the_sifting_estimate_starts_from_the_triggers(tmp_path):
    """Sifting holds the columns near a price estimate: the core's price (5,000 here: 30 t needed,
    10 t @1,000 + 20 t @5,000) moved into the range the reserve holds the price in, [withhold
    trigger, release trigger] = [1,500, 3,000] in PV (discount 0): 3,000, the answer of the
    tranche that does not run out. Without a withhold tranche the range is open below."""
    from nationcap.engines.sifting import price_estimate
    from nationcap.model.rules import reserve

    md = model_data(release(tmp_path / "a", 50.0))
    lo, hi = reserve.price_range(md)
    assert lo.tolist() == [[-np.inf]] and hi.tolist() == [[3000.0]]
    assert price_estimate(md).tolist() == [[3000.0]]
    cfg = {
        "compliance_factor": {"P1": {"general": 0.3}},
        "reserve": {"release": [tranche(3000, 50.0), tranche(2000, 0.0)], "withhold": [tranche(1500, 1.0)]},
    }
    md = model_data(one_entity(tmp_path / "b", cfg))
    lo, hi = reserve.price_range(md)  # the zero-volume tranche at 2,000 is never used
    assert lo.tolist() == [[1500.0]] and hi.tolist() == [[3000.0]]
