"""The session: one loaded scenario, its variants made from its prepared model data.

Solver-free except where marked: a variant that changes only the allocation keys is made from
the session's model data (``nationcap.model.prepare.reallocate``) and must equal preparing it
from the tables, also when rules whose parameters depend on the allocation are on (their slice is
prepared again); any other variant is prepared from the tables.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from casebuilder import REPO

from nationcap.model import prepare
from nationcap.session import Session

TOKYO_ON_TINY = ['inputs="../inputs/tiny"']
VARIANTS = [
    ["markets.regional.compliance_factor.P2.general=0.25"],
    ["markets.national.compliance_factor.P1.general=0.02", "markets.regional.top_level_multiplier.top=1.0"],
]


def assert_same_model_data(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
    assert a.scenario == b.scenario and a.scale_t == b.scale_t
    assert a.rule_data.keys() == b.rule_data.keys()
    for name in a.rule_data:
        x, y = a.rule_data[name], b.rule_data[name]
        for f in dataclasses.fields(x) if dataclasses.is_dataclass(x) else ():
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, np.ndarray):
                np.testing.assert_array_equal(u, v, err_msg=f"{name}.{f.name}")


@pytest.mark.parametrize("variant", VARIANTS, ids=["factor", "factor+multiplier"])
@pytest.mark.parametrize(
    "extra",
    [[], ["markets.regional.auction_share={P2=0.3}"]],
    ids=["tokyo_rules", "tokyo_rules+auction"],
)
def test_an_allocation_variant_equals_preparing_it_from_the_tables(variant, extra):
    """models/tokyo_rules.toml on the tiny data (offsets limited by the required reduction,
    shortfalls, top-level multipliers; with an auctioned share too): the session's variant is made
    without preparing the tables (its BAU array is the loaded scenario's) and equals the model
    data prepared from the tables in every array, the scenario, the scale and every rule's slice
    (the offset limits and the auctioned allocation follow the new factors)."""
    s = Session.open(REPO / "models" / "tokyo_rules.toml", [*TOKYO_ON_TINY, *extra])
    base = s.model_data
    scn = s.variant(variant)
    fast = s.prepare(scn)
    assert fast.bau_t is base.bau_t  # made from the session's model data
    ref = prepare(scn, s.dataset)
    assert_same_model_data(fast, ref)
    assert not np.array_equal(fast.alloc_t, base.alloc_t)


def test_the_first_variant_of_a_session_is_made_from_the_loaded_scenario():
    """A session whose first solve is an allocation variant (the explorer's controls, a sweep's
    first point) prepares the scenario as loaded once and makes the variant from it: the variant
    shares its BAU array and equals preparing the variant from the tables; the next variant too."""
    s = Session.open(REPO / "models" / "tokyo_rules.toml", TOKYO_ON_TINY)
    first, second = (s.prepare(s.variant(v)) for v in VARIANTS)
    base = s.model_data
    assert first.bau_t is base.bau_t and second.bau_t is base.bau_t
    assert_same_model_data(first, prepare(s.variant(VARIANTS[0]), s.dataset))
    assert_same_model_data(second, prepare(s.variant(VARIANTS[1]), s.dataset))


def test_another_variant_is_prepared_from_the_tables():
    """A change of the discount rate is no allocation variant: the columns are prepared again."""
    s = Session.open(REPO / "models" / "tiny.toml")
    base = s.model_data
    md = s.prepare(s.variant(["discount_rate=0.05"]))
    assert md.bau_t is not base.bau_t
    assert_same_model_data(md, prepare(s.variant(["discount_rate=0.05"]), s.dataset))


@pytest.mark.solver
def test_variants_of_a_session_solve_as_fresh_runs():
    """Solving a factor variant in a session gives the results of a fresh run of that variant."""
    from nationcap.pipeline import run_scenario

    path = REPO / "models" / "tokyo_rules.toml"
    s = Session.open(path, TOKYO_ON_TINY)
    s.solve()
    got = s.solve(VARIANTS[0]).results
    ref = run_scenario(path, [*TOKYO_ON_TINY, *VARIANTS[0]])
    for var in ("price", "total_cost", "bank", "offsets_used"):
        np.testing.assert_allclose(got[var].values, ref[var].values, rtol=1e-9, atol=1e-6, err_msg=var)
