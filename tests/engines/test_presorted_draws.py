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
from casebuilder import write_case
from handcases import model_data
from hypothesis import given, settings
from hypothesis import strategies as st
from test_merit_order import cases, round_cases

from nationcap.engines.feasibility import check_feasible
from nationcap.engines.merit_order import MeritOrderEngine
from nationcap.errors import ModelError
from nationcap.model.prepare import perturb

pytestmark = pytest.mark.solver

#: factors a draw multiplies a group's costs by: repeated values and 1 make ties across groups
FACTORS = st.sampled_from([0.5, 1.0, 1.0, 1.5, 2.0, 0.8])


def _assert_same(md, got, ref):
    """Prices and every reported number equal; quantities to 1e-12 of the market's size."""
    scale = max(1.0, float(md.col_qty_t.sum()))
    for key in ref.duals:
        np.testing.assert_array_equal(got.duals[key], ref.duals[key], err_msg=key)
    for key in ref.dual_low:
        np.testing.assert_array_equal(got.dual_low[key], ref.dual_low[key], err_msg=key)
        np.testing.assert_array_equal(got.dual_high[key], ref.dual_high[key], err_msg=key)
    assert got.values.keys() == ref.values.keys()
    for key in ref.values:
        np.testing.assert_allclose(got.values[key], ref.values[key], rtol=1e-12, atol=1e-12 * scale, err_msg=key)
    assert got.objective_jpy == pytest.approx(ref.objective_jpy, rel=1e-12, abs=1e-9)


@settings(max_examples=40)
@given(
    case=st.one_of(cases(), round_cases()),
    link=st.sampled_from([None, 0.5, 1.0, 2.0]),
    n_groups=st.integers(1, 4),
    data=st.data(),
)
def test_draws_on_presorted_groups_equal_a_full_sort(case, link, n_groups, data):
    """Random markets (negative and tied costs, every banking / borrowing rule, unlinked or a
    full link at several ratios), entities in random cost groups: three draws in a row of one
    engine holding its sorted runs equal a fresh engine's full sort of each draw."""
    overrides = []
    if link is not None:  # a full link needs the same bank rules in both markets
        rules = case["markets"]["national"]
        for m in case["markets"].values():
            m["banking"], m["borrowing"] = rules["banking"], rules["borrowing"]
        overrides = ['link.mode="full"', f"link.ratio={link!r}"]
    with tempfile.TemporaryDirectory() as tmp:
        md = model_data(write_case(Path(tmp), **case), overrides)
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


def test_a_draw_merges_the_presorted_runs_and_never_sorts_from_scratch(monkeypatch):
    """After the first solve, a draw of group cost factors sorts nothing from scratch: every
    sort is a stable merge of the kept runs (a full link's pooled columns too)."""
    from casebuilder import REPO

    md = model_data(REPO / "models" / "tiny.toml", ['link.mode="full"', "link.ratio=1.0"])
    groups = (md.col_entity % 3).astype(np.int64)
    held = MeritOrderEngine(cost_groups=groups)
    held.solve(md)
    kinds = []
    real = np.argsort

    def spy(a, *args, **kw):
        kinds.append(kw.get("kind"))
        return real(a, *args, **kw)

    monkeypatch.setattr(np, "argsort", spy)
    drawn = dataclasses.replace(md, col_cost=md.col_cost * np.array([0.7, 1.0, 1.3])[groups])
    got = held.solve(drawn)
    monkeypatch.setattr(np, "argsort", real)
    assert kinds and all(k == "stable" for k in kinds), kinds
    _assert_same(drawn, got, MeritOrderEngine().solve(drawn))
