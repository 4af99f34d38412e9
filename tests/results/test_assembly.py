"""The results Dataset laid out directly equals the one xarray's merge makes, bit for bit.

``nationcap/results/assembly.py`` puts the variables of a results Dataset together without
aligning them (:func:`_laid_out`); :func:`merged` makes the same Dataset the straightforward way,
from DataArrays merged by xarray (what ``build_results`` did before). The two must agree in every
variable and coordinate: its dimensions, dtype, values (bytes), attributes, index, whether it is
a coordinate, and the order of the Dataset's variables (the order netCDF files are written in).
The results values themselves are checked by the hand cases (tests/model/) and the cost
account (tests/results/test_cost_account.py); the caches of what a held session's variants and
draws share by :func:`test_held_session_results_equal_a_fresh_session`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nationcap.config.batch import MonteCarloSpec
from nationcap.derive.draws import draw
from nationcap.results.aggregates import _SameArrays
from nationcap.results.assembly import Item, Stage, _laid_out, assemble, merged
from nationcap.results.build import result_stages
from nationcap.session import Session
from nationcap.vocab import data_array, index_coords

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "models" / "tiny.toml"


def same_bits(a: xr.Dataset, b: xr.Dataset) -> None:
    """``a`` and ``b`` agree in everything a results file holds (module doc)."""
    assert list(a.variables) == list(b.variables)
    assert list(a.coords) == list(b.coords)
    assert a.attrs == b.attrs
    for name, va in a.variables.items():
        vb = b.variables[name]
        assert va.dims == vb.dims, name
        assert va.dtype == vb.dtype, name
        assert va.attrs == vb.attrs, name
        assert np.asarray(va.values).tobytes() == np.asarray(vb.values).tobytes(), name
    assert list(a.xindexes) == list(b.xindexes)
    for name in a.indexes:
        assert a.indexes[name].dtype == b.indexes[name].dtype, name
        assert a.indexes[name].equals(b.indexes[name]), name


#: the tiny scenario with each part of the results on: program rules with their own coordinates
#: (a link's direction, a reserve's tranches), a selection (entities no market covers), a floor
#: and an auction
VARIANTS = [
    [],
    ['link.mode="full"'],
    [
        "markets.national.reserve.release=[{trigger_jpy_per_t=4300, volume_t=1e5}]",
        "markets.national.reserve.withhold=[{trigger_jpy_per_t=1700, volume_t=1e5}]",
    ],
    ['markets.regional.select={market=["regional"], min_base_t=20000}'],
    [
        "markets.national.price_floor={start_jpy_per_t=1000, growth_rate=0.03}",
        "markets.national.auction_share={P1=0.2, P2=0.3}",
    ],
]


@pytest.mark.solver
@pytest.mark.parametrize("overrides", VARIANTS, ids=lambda o: "; ".join(o) or "tiny")
@pytest.mark.parametrize("detail", ["full", "market"])
def test_laid_out_equals_merged(overrides, detail):
    run = Session.open(TINY, overrides, engine="pyomo").solve(detail=detail)
    stages, coords = result_stages(run.model_data, run.solution, detail, mac_curve=detail == "full")
    fast = _laid_out(stages, coords)  # no fallback: it raises where it cannot lay out
    same_bits(fast, merged(stages, coords))
    assert set(fast.data_vars) <= set(run.results.data_vars)


def test_a_coordinate_to_align_falls_back_to_the_merge():
    """A variable on another set of markets than the results' (xarray aligns them: NaN where it
    has no value) cannot be laid out; assemble gives the merged Dataset."""
    coords = index_coords({"market": np.array(["a", "b"]), "period": np.array(["P1"])})
    odd = xr.DataArray([5.0], dims=("market",), coords={"market": ["b"]}, attrs={"units": "t"})
    stages = [Stage("arrays", {"x": Item(("market", "period"), np.ones((2, 1)), {"units": "t"}), "odd": odd})]
    got = assemble(stages, coords)
    same_bits(got, merged(stages, coords))
    assert np.isnan(got["odd"].sel(market="a")) and float(got["odd"].sel(market="b")) == 5.0


def test_the_shared_coordinates_keep_their_attributes():
    """The Dataset's attributes are set on its own copies of the shared coordinates."""
    coords = index_coords({"market": np.array(["a", "b"])})
    ds = assemble([Stage("arrays", {"x": Item(("market",), np.ones(2), {})})], coords)
    ds["market"].attrs["long_name"] = "market (scenario key)"
    assert coords["market"].attrs == {}


@pytest.mark.solver
def test_held_session_results_equal_a_fresh_session(monkeypatch):
    """What the results keep between the solves of a held session (the cells of the columns, the
    groups, BAU's sums and coverage, kept for the very same arrays) gives every variant and draw
    the results a fresh session gives it without keeping anything, in any order: a factor
    change, a Monte Carlo draw (new BAU), the scenario as loaded again, another factor change."""
    spec = MonteCarloSpec.model_validate({"bau_growth": {"sd": 0.05}, "mac_cost": {"sd": 0.2}})
    held = Session.open(TINY, engine="fast")
    key = "markets.regional.compliance_factor.P2.general"

    def fresh(step):
        with monkeypatch.context() as m:
            m.setattr(_SameArrays, "get", lambda self, objects, content, make: make())
            if step == "draw":
                s = Session.open(TINY, engine="fast")
                return s.solve_draw(spec, draw(spec, 7, 3, s.scenario, s.dataset)).results
            return Session.open(TINY, step or (), engine="fast").solve(detail="market", mac_curve=False).results

    for step in ([f"{key}=0.25"], "draw", None, [f"{key}=0.12"]):
        if step == "draw":
            got = held.solve_draw(spec, draw(spec, 7, 3, held.scenario, held.dataset)).results
        else:
            got = held.solve(step, detail="market", mac_curve=False).results
        want = fresh(step)
        for attr in ("timings_s", "wall_time_s", "solve_time_s", "solver_info"):
            got.attrs.pop(attr, None)
            want.attrs.pop(attr, None)
        same_bits(got, want)


def test_data_array_on_shared_coordinates_equals_the_constructor():
    """nationcap.vocab.data_array puts a DataArray on index_coords' coordinates together directly;
    it equals xarray's constructor given the same coordinates (values, coordinates, indexes,
    attributes), and a size that does not fit still raises as the constructor does."""
    coords = index_coords({"market": np.array(["national", "regional"]), "year": np.arange(2026, 2029)})
    got = data_array(np.arange(6.0).reshape(2, 3), ("market", "year"), coords, "JPY", "a test", money="m")
    want = xr.DataArray(
        np.arange(6.0).reshape(2, 3),
        dims=("market", "year"),
        coords={d: coords[d] for d in ("market", "year")},
        attrs={"units": "JPY", "money": "m", "description": "a test"},
    )
    assert got.identical(want)
    assert list(got.xindexes) == list(want.xindexes)
    assert all(got.indexes[d].dtype == want.indexes[d].dtype for d in ("market", "year"))
    with pytest.raises(ValueError):
        data_array(np.zeros((3, 3)), ("market", "year"), coords, "t", "wrong size")
