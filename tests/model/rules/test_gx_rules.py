"""GX-ETS-style rules, each with small cases whose answers are derived by hand: benchmark
allocation (with and without re-basing, the fallback decline), the direct-emissions basis, a
credit limit on the entity's own emissions, and an auctioned share by sector and year.

The cases run on every engine through :mod:`handcases`; an engine that does not implement a rule
skips its cases with the reason its ``supports()`` gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case
from handcases import TOL, Cases, engines, model_data, run_on

from nationcap.config import MonteCarloSpec, load_scenario
from nationcap.derive.draws import Draw, apply_draw
from nationcap.engines import get_engine
from nationcap.errors import InputError
from nationcap.inputs import load_dataset
from nationcap.model import prepare
from nationcap.model.prepare import perturb

pytestmark = pytest.mark.solver

CASES = Cases()

TWO_YEARS = [("P1", 2026, 2026), ("P2", 2027, 2027)]


# ---------------------------------------------------------------------------------------------
# 1. benchmark allocation
# ---------------------------------------------------------------------------------------------


def benchmark_market(root, threshold=0.075):
    """Market m allocates by benchmark, base years FY2023-2025, fallback decline 10 %/yr, no
    banking, r = 0; two one-year periods (FY2026, FY2027).

    A (group g, BAU 100/yr): activity 90, 100, 110 in the base years -> base 100; 105 in 2026
    (+5 %), 120 in 2027 (+20 %). Intensity of g: 0.8 t in 2026, 0.7 t in 2027.
    B (no group, base and BAU 50/yr): 50 x 0.9 = 45 in 2026, 50 x 0.81 = 40.5 in 2027.
    Steps every year: A 20 t @1000 and 30 t @3000; B 10 t @2000 and 20 t @4000.

    threshold 0.075: A gets 0.8 x 100 = 80 (2026, not re-based), 0.7 x 120 = 84 (2027, re-based).
      Caps 125 and 124.5; BAU 150 -> 25 t and 25.5 t to abate: 20 @1000 + the rest @2000 -> price
      2000 in both years.
    threshold 10 (never re-based): 2027 gives A 0.7 x 100 = 70, cap 110.5, 39.5 t to abate:
      20 + 10 + 9.5 @3000 -> price 3000 in 2027 (2026 as above).
    threshold 0 (output-based): A gets 0.8 x 105 = 84 and 84; caps 129 and 124.5; 21 t and 25.5 t
      to abate -> price 2000 in both years.
    """
    return write_case(
        root,
        [ent("A", benchmark="g"), ent("B", base=50.0)],
        {"A": 100, "B": 50},
        [("A", 1, 0.2, 1000), ("A", 2, 0.3, 3000), ("B", 1, 0.2, 2000), ("B", 2, 0.4, 4000)],
        TWO_YEARS,
        {
            "m": {
                "banking": False,
                "allocation": {
                    "rule": "benchmark",
                    "base_years": {"first": 2023, "last": 2025},
                    "rebase_threshold": threshold,
                    "fallback_decline": 0.1,
                },
            }
        },
        activity={"A": {2023: 90.0, 2024: 100.0, 2025: 110.0, 2026: 105.0, 2027: 120.0}},
        benchmarks={"g": {2026: 0.8, 2027: 0.7}},
    )


@CASES.add(benchmark_market)
def benchmark_allocation_rebased_when_activity_moves_by_the_threshold(run):
    r = run.results
    assert r["allocation"].sel(entity="A").values == pytest.approx([80, 84])
    assert r["allocation"].sel(entity="B").values == pytest.approx([45, 40.5])
    assert r["cap"].sel(market="m").values == pytest.approx([125, 124.5])
    assert r["price"].sel(market="m").values == pytest.approx([2000, 2000], abs=TOL)
    assert float(r["abatement"].sel(entity="B").sum()) == pytest.approx(5 + 5.5, abs=TOL)


@CASES.add(lambda root: benchmark_market(root, threshold=10.0))
def benchmark_allocation_never_rebased(run):
    r = run.results
    assert r["allocation"].sel(entity="A").values == pytest.approx([80, 70])
    assert r["price"].sel(market="m").values == pytest.approx([2000, 3000], abs=TOL)
    assert r["price_low"].sel(market="m").values == pytest.approx(r["price_high"].sel(market="m").values, abs=TOL)


@CASES.add(lambda root: benchmark_market(root, threshold=0.0))
def benchmark_allocation_output_based(run):
    r = run.results
    assert r["allocation"].sel(entity="A").values == pytest.approx([84, 84])
    assert r["cap"].sel(market="m").values == pytest.approx([129, 124.5])
    assert r["price"].sel(market="m").values == pytest.approx([2000, 2000], abs=TOL)


def two_group_market(root, groups=None):
    """:func:`benchmark_market` at threshold 0.075 with B in a second group h (activity 50 in every
    year, so its base is 50 and it is never re-based; intensity of h 1.1 t in 2026, 1.0 t in 2027)
    and ``allocation.groups = groups``.

    groups = None (every group): B gets 1.1 x 50 = 55 and 1.0 x 50 = 50; caps 80 + 55 = 135 and
      84 + 50 = 134; BAU 150 -> 15 t and 16 t to abate, inside A's 20 t @1000 -> price 1000 in both
      years.
    groups = ["g"]: h is not listed, so B falls back to 50 x 0.9 = 45 and 50 x 0.81 = 40.5: the
      caps, allocations and prices of the one-group case (125 and 124.5; 2000 in both years).
    """
    path = benchmark_market(root)
    data = root / "data"
    ents = data / "entities.csv"
    lines = ents.read_text().splitlines()
    lines[1:] = [line + "h" if line.startswith("B,") else line for line in lines[1:]]
    ents.write_text("\n".join(lines) + "\n")
    act = data / "activity.csv"
    act.write_text(act.read_text() + "".join(f"B,{y},50.0\n" for y in range(2023, 2028)))
    bm = data / "benchmarks.csv"
    bm.write_text(bm.read_text() + "h,2026,1.1\nh,2027,1.0\n")
    if groups is not None:
        text = path.read_text()
        path.write_text(text.replace("fallback_decline = 0.1 }", f"fallback_decline = 0.1, groups = {groups!r} }}"))
    return path


@CASES.add(two_group_market)
def benchmark_allocation_of_every_group(run):
    r = run.results
    assert r["allocation"].sel(entity="B").values == pytest.approx([55, 50])
    assert r["cap"].sel(market="m").values == pytest.approx([135, 134])
    assert r["price"].sel(market="m").values == pytest.approx([1000, 1000], abs=TOL)


@CASES.add(lambda root: two_group_market(root, groups=["g"]))
def benchmark_allocation_limited_to_listed_groups(run):
    r = run.results
    assert r["allocation"].sel(entity="A").values == pytest.approx([80, 84])
    assert r["allocation"].sel(entity="B").values == pytest.approx([45, 40.5])
    assert r["cap"].sel(market="m").values == pytest.approx([125, 124.5])
    assert r["price"].sel(market="m").values == pytest.approx([2000, 2000], abs=TOL)


def test_unknown_group_in_allocation_groups_is_an_input_error(tmp_path):
    """A name in ``allocation.groups`` that is no group of the dataset (a typo) is refused with
    the key and the groups there are, not silently grandfathered."""
    path = two_group_market(tmp_path, groups=["g", "hh"])
    scn = load_scenario(path)
    with pytest.raises(InputError) as err:
        prepare(scn, load_dataset(scn.inputs_path, scn))
    text = str(err.value)
    assert "markets.m.allocation.groups" in text and "'hh'" in text and "['g', 'h']" in text


def test_benchmark_without_activity_or_intensity_is_one_report(tmp_path):
    """Missing base-year activity of a grouped entity and a missing intensity of a model year are
    both named in one input error (file, entity or group, column, years)."""
    path = benchmark_market(tmp_path)
    data = tmp_path / "data"
    act = data / "activity.csv"
    act.write_text("\n".join(line for line in act.read_text().splitlines() if not line.startswith("A,2024")) + "\n")
    bm = data / "benchmarks.csv"
    bm.write_text("\n".join(line for line in bm.read_text().splitlines() if not line.startswith("g,2027")) + "\n")
    scn = load_scenario(path)
    with pytest.raises(InputError) as err:
        prepare(scn, load_dataset(scn.inputs_path, scn))
    text = str(err.value)
    assert "activity.csv" in text and "entity_id A" in text and "2024" in text
    assert "benchmarks.csv" in text and "benchmark g" in text and "2027" in text


def test_unknown_benchmark_group_is_an_input_error(tmp_path):
    path = benchmark_market(tmp_path)
    ents = tmp_path / "data" / "entities.csv"
    ents.write_text(ents.read_text().replace(",g\n", ",gg\n"))
    scn = load_scenario(path)
    with pytest.raises(InputError, match="benchmark group \\('gg'\\) not in benchmarks.csv"):
        load_dataset(scn.inputs_path, scn)


def test_grandfathering_written_out_changes_nothing(tmp_path):
    """``allocation = { rule = "grandfathering" }`` and ``emissions_basis = "as_reported"`` are
    the defaults: the model data are identical to the case without the keys."""
    base = dict(compliance_factor={"P1": {"general": 0.2}})
    md = []
    for k, extra in enumerate(({}, {"allocation": {"rule": "grandfathering"}, "emissions_basis": "as_reported"})):
        path = write_case(
            tmp_path / str(k),
            [ent("A", electricity_share=0.4), ent("B")],
            {"A": 100, "B": 80},
            [("A", 1, 0.2, 1000), ("B", 1, 0.3, 2000)],
            [("P1", 2026, 2027)],
            {"m": {**base, **extra}},
        )
        md.append(model_data(path))
    for name in ("alloc_t", "bau_t", "col_qty_t", "required_t"):
        assert np.array_equal(getattr(md[0], name), getattr(md[1], name)), name
    assert md[1].benchmark is None


def test_a_draw_moves_the_benchmark_cap_with_activity(tmp_path):
    """BAU x 1.1 in every year moves activity with it: A's 2026 activity 105 x 1.1 = 115.5 is
    15.5 % above its base of 100, so it is re-based: 0.8 x 115.5 = 92.4; 2027: 0.7 x 132 = 92.4.
    B (no group) keeps its fallback 45 and 40.5. The array path (perturb) and the table path
    (apply_draw, then prepare) agree."""
    path = benchmark_market(tmp_path)
    md = model_data(path)
    mult = np.full((2, 2), 1.1)
    out = perturb(md, mult, np.ones(2))
    assert out.alloc_full_t[0] == pytest.approx([92.4, 92.4])
    assert out.alloc_full_t[1] == pytest.approx([45, 40.5])
    assert out.cap_t()[0] == pytest.approx([137.4, 132.9])
    assert md.alloc_full_t[0] == pytest.approx([80, 84])  # the undrawn model data are unchanged
    scn = load_scenario(path)
    ds = load_dataset(scn.inputs_path, scn)
    spec = MonteCarloSpec.model_validate({"bau_growth": {"by": "all", "distribution": "normal", "sd": 0.01}})
    drawn = apply_draw(spec, Draw(0, ["all"], np.full((1, 2), 1.1), ["all"], np.ones(1)), scn, ds)
    again = prepare(scn, drawn)
    assert again.alloc_full_t == pytest.approx(out.alloc_full_t, rel=1e-12)
    assert again.bau_t == pytest.approx(out.bau_t, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# 2. direct emissions
# ---------------------------------------------------------------------------------------------


def mixed_electricity(root, basis="direct"):
    """Market m, grandfathering with factor 0.2, one year. A: base and BAU 100, electricity
    share 0.5; B: base and BAU 100, share 0. Steps (shares of BAU): A 0.1 @1000 and 0.5 @3000;
    B 0.1 @2000 and 0.5 @4000.

    direct: A counts 50 (BAU, base), B 100; allocation 40 + 80 = 120, BAU 150, 30 t to abate.
      Steps A 5 @1000, B 10 @2000, A 25 @3000: 5 + 10 + 15 @3000 -> price 3000; A abates 20,
      B 10; emissions A 30, B 90; cost 5,000 + 20,000 + 45,000 = 70,000. No purchased
      electricity is counted: double counted 0.
    as_reported: BAU 200, cap 160, 40 t: A 10 @1000, B 10 @2000, A 20 of 50 @3000 -> price 3000;
      A abates 30, emissions A 70, B 90; double counted 0.5 x 70 = 35.
    """
    return write_case(
        root,
        [ent("A", electricity_share=0.5), ent("B")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.5, 3000), ("B", 1, 0.1, 2000), ("B", 2, 0.5, 4000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}, "emissions_basis": basis}},
    )


@CASES.add(mixed_electricity)
def direct_basis_counts_only_direct_emissions(run):
    r = run.results
    assert r["allocation"].sel(period="P1").values == pytest.approx([40, 80])
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert r["emissions"].sel(year=2026).values == pytest.approx([30, 90], abs=TOL)
    assert float(r["total_cost"].sum()) == pytest.approx(70_000, abs=1e-3)
    assert float(r["double_counted"].sum()) == pytest.approx(0.0, abs=TOL)


@CASES.add(lambda root: mixed_electricity(root, "as_reported"))
def as_reported_basis_counts_purchased_electricity(run):
    r = run.results
    assert r["allocation"].sel(period="P1").values == pytest.approx([80, 80])
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert r["emissions"].sel(year=2026).values == pytest.approx([70, 90], abs=TOL)
    assert float(r["double_counted"].sum()) == pytest.approx(35, abs=TOL)


# ---------------------------------------------------------------------------------------------
# 3. credits limited by the entity's own emissions
# ---------------------------------------------------------------------------------------------


def credits_on_emissions(root):
    """One entity A: BAU 100, factor 0.3 -> allocation 70, 30 t to cover. Steps 10 @1000 and
    30 @5000; outside credits 100 t @2000, at most 10 % of A's own emissions (100 - abatement).

    Abatement x and credits c: x + c = 30 with c <= 0.1 (100 - x). After the 10 t @1000 the
    cheap route is credits, but each tonne abated also lowers the credit limit by 0.1 t: at the
    optimum the limit binds, x + 0.1 (100 - x) = 30 -> x = 22.222, c = 7.778. One more tonne to
    cover needs dx = 1/0.9 of the 5000 step and frees dc = -0.1/0.9 credits, so the price is
    (5000 - 0.1 x 2000) / 0.9 = 5333.33, above the dearest step used (5000); unique (the limit
    row and the market row bind with slack steps on both sides). Credits are not used up, so
    their price is 2000. Cost 10 x 1000 + 12.222 x 5000 + 7.778 x 2000 = 86,666.67.
    """
    cfg = {
        "use_offsets": True,
        "compliance_factor": {"P1": {"general": 0.3}},
        "offsets": {"outside": {"limit_fraction": 0.1, "limit_basis": "emissions"}},
    }
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {"m": cfg},
        offsets=[("outside", "m", 2026, 100.0, 2000.0)],
    )


@CASES.add(credits_on_emissions)
def credit_limit_on_own_emissions_shrinks_with_abatement(run):
    r = run.results
    price = (5000 - 0.1 * 2000) / 0.9
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(price, rel=1e-7)
    assert float(r["price_low"].sel(market="m", year=2026)) == pytest.approx(price, rel=1e-7)
    assert float(r["price_high"].sel(market="m", year=2026)) == pytest.approx(price, rel=1e-7)
    assert float(r["abatement"].sum()) == pytest.approx(200 / 9, abs=1e-5)
    assert float(r["offsets_used"].sum()) == pytest.approx(70 / 9, abs=1e-5)
    assert float(r["offset_price_pv"].sel(market="m", offset_type="outside", period="P1")) == pytest.approx(
        2000, rel=1e-7
    )
    assert float(r["total_cost"].sum()) == pytest.approx(10_000 + (110 / 9) * 5000 + (70 / 9) * 2000, abs=1e-2)


def two_entities_credits_on_emissions(root):
    """Two entities in one market, factor 0.3, credits 100 t @2000, at most 10 % of each one's
    own emissions. A: BAU 100 (30 t to cover), steps 10 @1000 and 30 @5000. B: BAU 200 (60 t to
    cover), one step of 50 t @6000.

    Credits are far cheaper than the steps left after A's first, so both limits bind:
    c = 0.1 (100 - x_A) + 0.1 (200 - x_B) and x_A + x_B + c = 90 -> 0.9 (x_A + x_B) = 60 ->
    x_A + x_B = 66.667: A's 40 t (the cheaper steps) and 26.667 t of B's step @6000. Credits:
    A 0.1 x 60 = 6, B 0.1 x 173.333 = 17.333, 23.333 in all (the split is fixed: each entity at its
    own limit). One more tonne to cover takes 1/0.9 t of B's step and 0.1/0.9 fewer credits:
    price (6000 - 0.1 x 2000) / 0.9 = 6444.44.
    """
    cfg = {
        "use_offsets": True,
        "compliance_factor": {"P1": {"general": 0.3}},
        "offsets": {"outside": {"limit_fraction": 0.1, "limit_basis": "emissions"}},
    }
    return write_case(
        root,
        [ent("A"), ent("B", base=200.0)],
        {"A": 100, "B": 200},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000), ("B", 1, 0.25, 6000)],
        [("P1", 2026, 2026)],
        {"m": cfg},
        offsets=[("outside", "m", 2026, 100.0, 2000.0)],
    )


@CASES.add(two_entities_credits_on_emissions)
def credit_limits_of_each_entity_on_its_own_emissions(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(5800 / 0.9, rel=1e-7)
    used = r["offsets_used"].sel(offset_type="outside", period="P1")
    assert used.sel(entity=["A", "B"]).values == pytest.approx([6, 52 / 3], abs=1e-5)
    assert r["emissions"].sel(year=2026).values == pytest.approx([60, 200 - 80 / 3], abs=1e-5)


def test_fast_engine_refuses_an_emissions_based_credit_limit(tmp_path):
    md = model_data(credits_on_emissions(tmp_path))
    missing = get_engine("fast").supports(md)
    assert any("offsets" in m and "emissions" in m for m in missing), missing


# ---------------------------------------------------------------------------------------------
# 4. auctioned share by sector and year
# ---------------------------------------------------------------------------------------------


def sector_auction(root, auction=None):
    """Two entities, one two-year period FY2026-27, factor 0.2, r = 0. A (sector power) and B
    (sector steel): base and BAU 100/yr. Steps every year: A 10 @1000, 20 @3000; B 15 @2000,
    30 @5000. Cap 160/yr; 40 t a year to abate: 10 + 15 + 15 of A's 3000 step -> price 3000.
    Over the period A abates 20 + 30 = 50, B 30 (the split of A's 3000 steps between the years is
    not unique; the period totals are). Free allocation 160 each; A sells 10, B buys 10.
    Compliance cost A: 20,000 + 90,000 - 30,000 = 80,000; B: 60,000 + 30,000 = 90,000.

    ``auction_share = { power = { 2027 = 1.0 } }``: A's allowances of 2027 (80) are auctioned: A
    gets 80 free, buys 70; revenue 80 x 3000 = 240,000; A's cost 110,000 + 210,000 = 320,000.
    Price, abatement, emissions and the total cost are unchanged; B's cost too.
    """
    cfg = {"compliance_factor": {"P1": {"general": 0.2}}}
    if auction:
        cfg["auction_share"] = auction
    return write_case(
        root,
        [ent("A", sector="power"), ent("B", sector="steel")],
        {"A": 100, "B": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.15, 2000), ("B", 2, 0.3, 5000)],
        [("P1", 2026, 2027)],
        {"m": cfg},
    )


@CASES.add(lambda root: sector_auction(root, {"power": {"2027": 1.0}}))
def auction_by_sector_and_year_moves_only_who_pays(run):
    r = run.results
    assert float(r["price"].sel(market="m", year=2026)) == pytest.approx(3000, abs=TOL)
    assert r["allocation"].sel(period="P1").values == pytest.approx([80, 160])
    assert float(r["cap"].sel(market="m", period="P1")) == pytest.approx(320)
    assert float(r["auction_revenue"].sel(market="m", period="P1")) == pytest.approx(240_000, abs=1e-3)
    assert r["compliance_cost"].sel(period="P1").values == pytest.approx([320_000, 90_000], abs=1e-3)


@engines
def test_sector_auction_leaves_prices_emissions_and_costs(engine, tmp_path):
    """The same case with and without the power auction: prices, each entity's emissions over the
    period and the total cost are the same; only A's compliance cost moves, by the revenue."""
    plain = run_on(engine, sector_auction(tmp_path / "plain"))
    sold = run_on(engine, sector_auction(tmp_path / "sold", {"power": {"2027": 1.0}}))
    a, b = plain.results, sold.results
    assert b["price"].values == pytest.approx(a["price"].values, abs=TOL)
    assert b["emissions"].sum("year").values == pytest.approx(a["emissions"].sum("year").values, abs=TOL)
    assert float(b["total_cost"].sum()) == pytest.approx(float(a["total_cost"].sum()), abs=1e-3)
    moved = b["compliance_cost"] - a["compliance_cost"]
    assert moved.sel(entity="B").values == pytest.approx([0.0], abs=1e-3)
    assert float(moved.sel(entity="A").sum()) == pytest.approx(float(b["auction_revenue"].sum()), abs=1e-3)


def test_auction_table_key_that_is_no_sector_is_an_input_error(tmp_path):
    path = sector_auction(tmp_path, {"powr": {"2033": 1.0}})
    with pytest.raises(InputError, match="'powr' is neither a period, nor a sector or benchmark group"):
        model_data(path)


@engines
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gx_rule_case(case, engine, tmp_path):
    case.check(engine, tmp_path)
