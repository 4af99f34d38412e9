"""Monte Carlo draws on the merit-order engine's presorted groups equal a full re-sort.

With ``cost_groups`` (:class:`nationcap.engines.merit_order.MeritOrderEngine`) the engine keeps
each market's columns (and a full link's pooled columns) sorted by (group, present-value cost)
and clears a draw that scales each group's costs by one positive factor by merging those sorted
runs; a fresh engine sorts every column from scratch. Both orders are sorted by cost, so both
clear at the same step: the prices are the same numbers (a price is one column's cost), and the
quantities differ at most by the order in which a cumulative sum adds tied columns (1e-12
relative to the market's size).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest
from casebuilder import ent, write_case
from handcases import model_data
from hypothesis import given, settings
from hypothesis import strategies as st
from test_merit_order import cases, round_cases

from nationcap.engines import merit_order
from nationcap.engines.feasibility import check_feasible
from nationcap.engines.merit_order import MeritOrderEngine
from nationcap.errors import ModelError
from nationcap.model.prepare import perturb

pytestmark = pytest.mark.solver

#: factors a draw multiplies a group's costs by: repeated values and 1 make ties across groups
FACTORS = st.sampled_from([0.5, 1.0, 1.0, 1.5, 2.0, 0.8])


def _market_totals(md, sr):
    """(M, P) abatement and emissions (BAU - abatement) of each market and period, t."""
    n_m, n_p = len(md.markets), len(md.periods)
    cell = md.entity_market[md.col_entity] * n_p + md.year_period[md.col_year]
    abated = np.bincount(cell, weights=sr.values["abatement"], minlength=n_m * n_p).reshape(n_m, n_p)
    bau = np.zeros((n_m, n_p))
    for p in range(n_p):
        np.add.at(bau[:, p], md.entity_market, md.bau_t[:, md.period_years(p)].sum(axis=1))
    return abated, bau - abated


def _assert_same(md, got, ref):
    """Prices and price intervals exactly equal; every reported quantity, the market totals
    (abatement, emissions) and the total cost to 1e-12 relative, quantities measured against
    the market's size (a sum of the same tonnes added in another order differs by rounding)."""
    scale = max(1.0, float(md.col_qty_t.sum()), float(np.abs(md.bau_t).sum()))
    for key in ref.duals:
        np.testing.assert_array_equal(got.duals[key], ref.duals[key], err_msg=key)
    for key in ref.dual_low:
        np.testing.assert_array_equal(got.dual_low[key], ref.dual_low[key], err_msg=key)
        np.testing.assert_array_equal(got.dual_high[key], ref.dual_high[key], err_msg=key)
    assert got.values.keys() == ref.values.keys()
    for key in ref.values:
        np.testing.assert_allclose(got.values[key], ref.values[key], rtol=1e-12, atol=1e-12 * scale, err_msg=key)
    for a, b in zip(_market_totals(md, got), _market_totals(md, ref)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale)
    assert got.objective_jpy == pytest.approx(ref.objective_jpy, rel=1e-12, abs=1e-12 * scale)
    assert got.info["boundary_periods"] == ref.info["boundary_periods"]
    assert got.info["nonunique_prices"] == ref.info["nonunique_prices"]


@settings(max_examples=60, deadline=None)
@given(
    case=st.one_of(cases(), round_cases()),
    link=st.sampled_from([None, 0.5, 1.0, 2.0]),
    n_groups=st.integers(1, 4),
    zero_steps=st.booleans(),
    stride=st.sampled_from([1, 2, 3, merit_order.SAMPLE_STRIDE]),
    data=st.data(),
)
def test_draws_on_presorted_groups_equal_a_full_sort(case, link, n_groups, zero_steps, stride, data):
    """Random markets (negative and tied costs, requirements on step boundaries in the round
    cases, zero-size steps, every banking / borrowing rule, unlinked or a full link at several
    ratios), entities in random cost groups: three draws in a row of one engine holding its
    sorted runs equal a fresh engine's full sort of each draw. Small pivot strides make these
    small markets search over many pivots and narrow windows, as the full dataset does."""
    default = merit_order.SAMPLE_STRIDE
    merit_order.SAMPLE_STRIDE = stride
    try:
        _check_draws(case, link, n_groups, zero_steps, data)
    finally:
        merit_order.SAMPLE_STRIDE = default


def _check_draws(case, link, n_groups, zero_steps, data):
    overrides = []
    if link is not None:  # a full link needs the same bank rules in both markets
        rules = case["markets"]["national"]
        for m in case["markets"].values():
            m["banking"], m["borrowing"] = rules["banking"], rules["borrowing"]
        overrides = ['link.mode="full"', f"link.ratio={link!r}"]
    with tempfile.TemporaryDirectory() as tmp:
        md = model_data(write_case(Path(tmp), **case), overrides)
    if zero_steps:  # some steps of size 0 (a share of 0 in mac.csv)
        keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(md.col_qty_t), max_size=len(md.col_qty_t))))
        md = dataclasses.replace(md, col_qty_t=md.col_qty_t * keep)
    ent_group = np.array(
        data.draw(st.lists(st.integers(0, n_groups - 1), min_size=md.n_entities, max_size=md.n_entities))
    )
    held = MeritOrderEngine(cost_groups=ent_group[md.col_entity])
    try:
        check_feasible(md)
        held.solve(md)
    except ModelError:
        return
    for _ in range(3):
        k = np.array([data.draw(FACTORS) for _ in range(n_groups)])
        bau = np.array(data.draw(st.lists(st.sampled_from([0.95, 1.0, 1.05]), min_size=1, max_size=1)) * md.bau_t.size)
        drawn = perturb(md, bau.reshape(md.bau_t.shape), k[ent_group])
        try:
            check_feasible(drawn)
        except ModelError:
            continue
        _assert_same(drawn, held.solve(drawn), MeritOrderEngine().solve(drawn))


def test_a_draw_sorts_no_market_on_the_presorted_runs(monkeypatch):
    """After the first solve, a draw of group cost factors sorts no market's columns (nor a
    full link's pooled columns): no lexsort, and every argsort is of the few columns between two
    pivots of the clearing search (tiny: 240 pooled columns in 60 runs of 4; with a pivot every
    2nd column of each run, far fewer than a quarter of them)."""
    from casebuilder import REPO

    monkeypatch.setattr(merit_order, "SAMPLE_STRIDE", 2)
    md = model_data(REPO / "models" / "tiny.toml", ['link.mode="full"', "link.ratio=1.0"])
    groups = (md.col_entity % 3).astype(np.int64)
    held = MeritOrderEngine(cost_groups=groups)
    held.solve(md)
    sizes, lexsorts = [], []
    real_argsort, real_lexsort = np.argsort, np.lexsort

    def argsort(a, *args, **kw):
        sizes.append(len(a))
        return real_argsort(a, *args, **kw)

    def lexsort(keys, *args, **kw):
        lexsorts.append(len(keys[0]))
        return real_lexsort(keys, *args, **kw)

    monkeypatch.setattr(np, "argsort", argsort)
    monkeypatch.setattr(np, "lexsort", lexsort)
    drawn = dataclasses.replace(md, col_cost=md.col_cost * np.array([0.7, 1.0, 1.3])[groups])
    got = held.solve(drawn)
    monkeypatch.setattr(np, "argsort", real_argsort)
    monkeypatch.setattr(np, "lexsort", real_lexsort)
    assert not lexsorts
    assert sizes and max(sizes) < len(md.col_cost) // 4, sizes
    _assert_same(drawn, got, MeritOrderEngine().solve(drawn))


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_a_linked_draw_on_views_equals_one_on_gathered_columns(ratio):
    """A full link's pooled columns are read as views of the model's arrays when the two markets'
    columns are adjacent slices (tiny: the national market's, then the regional one's) and the
    ratio is 1, else gathered into scratch arrays: the same numbers bit for bit, whichever way
    (the columns given as positions force the gathered way)."""
    from casebuilder import REPO

    md = model_data(REPO / "models" / "tiny.toml", ['link.mode="full"', f"link.ratio={ratio}"])
    groups = (md.col_entity % 3).astype(np.int64)
    drawn = perturb(md, np.full_like(md.bau_t, 1.02), np.array([0.7, 1.0, 1.3])[np.arange(md.n_entities) % 3])
    engines = [MeritOrderEngine(cost_groups=groups) for _ in range(2)]
    for e in engines:
        e.solve(md)
    assert engines[0]._draw is not None and engines[1]._draw is not None
    national, regional = (engines[0]._draw[3][md.markets.index(m)].cols for m in ("national", "regional"))
    assert isinstance(national, slice) and isinstance(regional, slice) and national.stop == regional.start
    for lay in engines[1]._draw[3]:
        lay.cols = lay.idx
    got, ref = (e.solve(drawn) for e in engines)
    assert got.values.keys() == ref.values.keys()
    for key in ref.values:
        np.testing.assert_array_equal(got.values[key], ref.values[key], err_msg=key)
    for key in ref.duals:
        np.testing.assert_array_equal(got.duals[key], ref.duals[key], err_msg=key)
    assert got.objective_jpy == ref.objective_jpy
    _assert_same(drawn, got, MeritOrderEngine().solve(drawn))


def _hand_case():
    """National N0 (steps of 10 t at 100 and 300 JPY/t, cost group 0) and N1 (10 t at 200,
    group 1); regional R0 (10 t at 1000, group 1); one year, discount rate 0, banking on."""
    case = dict(
        entities=[ent("N0", market="national"), ent("N1", market="national"), ent("R0", market="regional")],
        bau={"N0": [100.0], "N1": [100.0], "R0": [100.0]},
        mac=[("N0", 1, 0.1, 100.0), ("N0", 2, 0.1, 300.0), ("N1", 1, 0.1, 200.0), ("R0", 1, 0.1, 1000.0)],
        periods=[("P1", 2026, 2026)],
        markets={
            "national": {"banking": True, "borrowing": False, "compliance_factor": {"P1": {"general": 0.1}}},
            "regional": {"banking": True, "borrowing": False, "compliance_factor": {"P1": {"general": 0.05}}},
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        md = model_data(write_case(Path(tmp), **case))
    return md, np.array([0, 1, 1])  # cost group of each entity


def test_a_hand_draw_on_a_step_boundary():
    """Requirements (cap = base x (1 - factor)): national 200 - 180 = 20 t, regional 100 - 95 =
    5 t. The draw doubles group 0's costs: N0's steps cost 200 and 600, N1's 200. National: the
    two 200 steps give exactly 20 t, so the requirement sits on a step boundary: the least price
    is 200 and every price up to the next step's 600 clears (interval [200, 600]); both 200
    steps are used fully (10 t each), the 600 step not at all. Regional: 5 t of R0's 10 t step
    at 1000, a unique price. Total cost 20 x 200 + 5 x 1000 = 9,000 JPY; one period, no bank.
    The held engine (sorted once before the draw, by the undrawn costs) and a cold one agree."""
    md, group = _hand_case()
    held = MeritOrderEngine(cost_groups=group[md.col_entity])
    held.solve(md)
    drawn = perturb(md, np.ones_like(md.bau_t), np.array([2.0, 1.0, 1.0]))
    got = held.solve(drawn)
    _assert_same(drawn, got, MeritOrderEngine().solve(drawn))
    np.testing.assert_array_equal(got.duals["market_balance"], [200.0, 1000.0])
    np.testing.assert_array_equal(got.dual_low["market_balance"], [200.0, 1000.0])
    np.testing.assert_array_equal(got.dual_high["market_balance"], [600.0, 1000.0])
    np.testing.assert_allclose(got.values["abatement"], [10.0, 0.0, 10.0, 5.0])
    np.testing.assert_allclose(got.values["bank"], 0.0, atol=1e-9)
    assert got.objective_jpy == pytest.approx(9000.0, rel=1e-12)
    assert got.info["boundary_periods"] == 1


def test_a_draw_that_breaks_the_groups_is_sorted_again():
    """Costs that do not scale by group (N0's two steps swap order: 100 -> 500, 300 -> 300)
    are found out of order and sorted again: national merit order 200 (N1, 10 t), 300 (N0 step
    2, 10 t), 500; the 20 t requirement is met exactly by the first two: price 300, interval
    [300, 500]; regional unchanged at 1000. Same as a cold engine."""
    md, group = _hand_case()
    held = MeritOrderEngine(cost_groups=group[md.col_entity])
    held.solve(md)
    drawn = dataclasses.replace(md, col_cost=np.array([500.0, 300.0, 200.0, 1000.0]))
    got = held.solve(drawn)
    _assert_same(drawn, got, MeritOrderEngine().solve(drawn))
    np.testing.assert_array_equal(got.duals["market_balance"], [300.0, 1000.0])
    np.testing.assert_array_equal(got.dual_high["market_balance"], [500.0, 1000.0])
    np.testing.assert_allclose(got.values["abatement"], [0.0, 10.0, 10.0, 5.0])


def test_an_infeasible_draw_names_the_market_like_the_feasibility_check():
    """A draw whose BAU is 3x (national requirement 600 - 180 = 420 t > the 90 t of steps) is
    refused with the pre-solve check's message (market, period, tonnes short), as before."""
    md, group = _hand_case()
    held = MeritOrderEngine(cost_groups=group[md.col_entity])
    held.solve(md)
    drawn = perturb(md, np.full_like(md.bau_t, 3.0), np.ones(3))
    with pytest.raises(ModelError) as expected:
        check_feasible(drawn)
    with pytest.raises(ModelError) as got:
        held.solve(drawn)
    assert str(got.value) == str(expected.value)
    assert "market 'national', period P1" in str(got.value)


def test_a_draw_beyond_the_plausible_costs_is_refused_naming_the_step_owner():
    """The column checks of a perturbed draw (finite costs within +/- MAX_PRICE_JPY_PER_T, finite
    quantities and PV cost x quantity) are decided from the extremes when every column passes;
    one cost beyond the bound (N1's 200 JPY/t x a multiplier of MAX / 100 = 2 x MAX) still names
    mac.csv and N1 only, and an infinite one too; a multiplier of MAX / 400 (N0's dearest step:
    300 x MAX / 400 = 0.75 MAX) passes."""
    from nationcap.config.schema import MAX_PRICE_JPY_PER_T
    from nationcap.errors import InputError

    md, _ = _hand_case()
    ones = np.ones_like(md.bau_t)
    perturb(md, ones, np.array([MAX_PRICE_JPY_PER_T / 400, 1.0, 1.0]))
    for k in (MAX_PRICE_JPY_PER_T / 100, np.inf):
        with pytest.raises(InputError) as err:
            perturb(md, ones, np.array([1.0, k, 1.0]))
        text = str(err.value)
        assert "mac.csv" in text and "N1" in text and "N0" not in text and "R0" not in text
