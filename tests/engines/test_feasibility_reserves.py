"""The pre-solve feasibility check with allowance reserves and band limits.

Release tranches and a ceiling with ``ceiling_volume_limit_t`` are *finite* supply: the check
counts at most ``volume_t`` (or the limit) per year of the period, so a market short by more is
refused before the solve, and one short by less is left to the solver. Withholding and the floor
only take allowances out of the market: a relaxation may leave them unused, so they never make
the check refuse a scenario.

The case (one period per year, FY2026 and FY2027, discount rate 0): regional R1, BAU 100 t,
factor 0.5 in FY2026 -> cap 50 t, needs 50 t with one 20 t step at 3,000 JPY/t: 30 t short on its
own abatement; FY2027 needs nothing. National N1 needs 10 t with a 50 t step at 1,000.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import write_case

from nationcap.engines import get_engine
from nationcap.engines.feasibility import check_feasible, relaxations
from nationcap.errors import ModelError
from nationcap.model import prepare
from nationcap.pipeline import load, run_dataset


def short_case(tmp_path, regional: dict, national: dict | None = None):
    return write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0, sector="power"),
            dict(entity_id="R1", market="regional", base_emissions_t=100.0),
        ],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.5, 1000.0), ("R1", 1, 0.2, 3000.0)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.1}, "P2": {"general": 0.1}}, **(national or {})},
            "regional": {"compliance_factor": {"P1": {"general": 0.5}, "P2": {"general": 0.0}}, **regional},
        },
    )


def tranche(trigger, volume):
    return {"trigger_jpy_per_t": float(trigger), "volume_t": float(volume), "growth_rate": 0.0}


def solve(path):
    scn, ds = load(path)
    return run_dataset(scn, ds, engine=get_engine("pyomo")).results


def refused(path, *needles):
    scn, ds = load(path)
    with pytest.raises(ModelError) as info:
        check_feasible(prepare(scn, ds))
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))
    with pytest.raises(ModelError, match="30 t short|20 t short"):  # the engine refuses it the same way
        run_dataset(scn, ds, engine=get_engine("pyomo"))


@pytest.mark.solver
def test_a_release_tranche_large_enough_is_counted_and_the_case_solves(tmp_path):
    """40 t per year at 5,000 >= the 30 t missing: the check lets it through; the solve uses the
    20 t step and 30 of the 40 t: price 5,000 (the partly used tranche)."""
    res = solve(short_case(tmp_path, {"reserve": {"release": [tranche(5000, 40.0)]}}))
    assert float(res["price"].sel(market="regional", year=2026)) == pytest.approx(5000, abs=1e-6)
    assert float(res["reserve_released"].sel(market="regional", year=2026, tranche=0)) == pytest.approx(30, abs=1e-6)


@pytest.mark.solver
def test_a_release_tranche_too_small_is_refused_before_the_solve(tmp_path):
    """10 t per year against 30 t missing: 20 t short, and the message counts the tranche."""
    path = short_case(tmp_path, {"reserve": {"release": [tranche(5000, 10.0)]}})
    refused(path, "market 'regional'", "period P1", "20 t short", "allowances released from the reserve (at most 10 t)")


@pytest.mark.solver
def test_a_limited_ceiling_is_finite_supply(tmp_path):
    """Ceiling 5,000 limited to 40 t a year: solves at 5,000; limited to 10 t: 20 t short."""
    ceiling = {"price_ceiling": {"start_jpy_per_t": 5000.0, "growth_rate": 0.0}}
    res = solve(short_case(tmp_path / "a", {**ceiling, "ceiling_volume_limit_t": 40.0}))
    assert float(res["price"].sel(market="regional", year=2026)) == pytest.approx(5000, abs=1e-6)
    assert float(res["ceiling_issued"].sel(market="regional", period="P1")) == pytest.approx(30, abs=1e-6)
    path = short_case(tmp_path / "b", {**ceiling, "ceiling_volume_limit_t": 10.0})
    refused(path, "20 t short", "allowances at the price ceiling (at most 10 t)")


def test_the_relaxation_counts_volume_times_years(tmp_path):
    """A two-year period: a tranche of 7 t per year and a ceiling limited to 3 t per year supply at
    most 2 x (7 + 3) = 20 t in it; an unlimited ceiling is unbounded supply."""
    path = write_case(
        tmp_path,
        [dict(entity_id="A", market="m", base_emissions_t=100.0)],
        {"A": 100.0},
        [("A", 1, 0.1, 1000.0)],
        [("P1", 2026, 2027)],
        {
            "m": {
                "compliance_factor": {"P1": {"general": 0.1}},
                "reserve": {"release": [tranche(5000, 7.0)], "withhold": [tranche(100, 50.0)]},
                "price_ceiling": {"start_jpy_per_t": 6000.0},
                "ceiling_volume_limit_t": 3.0,
            }
        },
    )
    scn, ds = load(path)
    (rel,) = relaxations(prepare(scn, ds))
    assert rel.extra_t.tolist() == pytest.approx([20.0])
    scn2 = scn.model_copy(
        update={"markets": {"m": scn.markets["m"].model_copy(update={"ceiling_volume_limit_t": None})}}
    )
    (rel,) = relaxations(prepare(scn2, ds))
    assert np.isinf(rel.extra_t).all()


@pytest.mark.solver
def test_withholding_never_makes_the_check_refuse_a_feasible_scenario(tmp_path):
    """Large withhold tranches and a limited floor on both markets of a feasible case (the regional
    gap closed by a release tranche): the check passes and HiGHS solves it. National: 10 t needed,
    the 50 t step @1,000 is worth abating in full to have 40 t withheld at 2,000 (volume 100):
    price 2,000 (the partly used tranche)."""
    national = {"reserve": {"withhold": [tranche(2000, 100.0)]}}
    regional = {
        "reserve": {"release": [tranche(5000, 40.0)], "withhold": [tranche(100, 100.0)]},
        "price_floor": {"start_jpy_per_t": 50.0},
        "floor_volume_limit_t": 5.0,
    }
    res = solve(short_case(tmp_path, regional, national))
    assert res.attrs["termination"] == "optimal"
    assert float(res["price"].sel(market="national", year=2026)) == pytest.approx(2000, abs=1e-6)
    assert float(res["reserve_withheld"].sel(market="national", year=2026, tranche=0)) == pytest.approx(40, abs=1e-6)


def _random_reserve_case(root, rng):
    """One market, 1-3 entities, two periods of one or two years, random factors and bank rules,
    0-2 release tranches (triggers >= 5,000), maybe a limited ceiling at 6,000, withhold tranches
    and a limited floor (<= 1,000, below every selling price: no arbitrage)."""
    periods, y = [], 2026
    for p in range(2):
        n_y = int(rng.integers(1, 3))
        periods.append((f"P{p + 1}", y, y + n_y - 1))
        y += n_y
    ents, bau, mac = [], {}, []
    for i in range(int(rng.integers(1, 4))):
        eid = f"E{i}"
        base = float(rng.integers(50, 200))
        ents.append(dict(entity_id=eid, market="m", base_emissions_t=base))
        bau[eid] = base * float(rng.uniform(0.8, 1.2))
        mac.append((eid, 1, float(rng.uniform(0.05, 0.4)), float(rng.integers(1, 50)) * 100.0))
    cfg: dict = {
        "banking": bool(rng.random() < 0.7),
        "borrowing": bool(rng.random() < 0.3),
        "compliance_factor": {p: {"general": float(rng.choice([0.1, 0.3, 0.5, 0.7]))} for p, *_ in periods},
        "reserve": {
            "release": [tranche(5000 + 1000 * k, float(rng.integers(0, 60))) for k in range(int(rng.integers(0, 3)))],
            "withhold": [tranche(500, float(rng.integers(0, 60)))],
        },
    }
    if rng.random() < 0.5:
        cfg.update({"price_ceiling": {"start_jpy_per_t": 6000.0}, "ceiling_volume_limit_t": float(rng.integers(0, 40))})
    if rng.random() < 0.5:
        cfg.update({"price_floor": {"start_jpy_per_t": 800.0}, "floor_volume_limit_t": float(rng.integers(0, 40))})
    return write_case(root, ents, bau, mac, periods, {"m": cfg}, discount_rate=0.03)


@pytest.mark.solver
def test_with_reserves_the_check_refuses_exactly_what_highs_cannot_solve(tmp_path, monkeypatch):
    """30 random one-market cases (fixed seed). With one market and only finite supply the check's
    bank recursion is exact (module docstring of nationcap/engines/feasibility.py): it refuses a
    case if and only if HiGHS, without the check, finds it infeasible. Some cases of each kind."""
    import nationcap.engines.highs as hd
    import nationcap.engines.pyomo_highs as ph

    rng = np.random.default_rng(20261201)
    refused = passed = 0
    for k in range(30):
        scn, ds = load(_random_reserve_case(tmp_path / f"c{k}", rng))
        md = prepare(scn, ds)
        try:
            check_feasible(md)
            ok = True
        except ModelError:
            ok = False
        with monkeypatch.context() as mp:
            mp.setattr(hd, "check_feasible", lambda md: None)
            if ok:
                passed += 1
                assert ph.PyomoHighsEngine().solve(md).status.value == "optimal", k
            else:
                refused += 1
                with pytest.raises(ModelError, match="HiGHS did not find an optimal solution"):
                    ph.PyomoHighsEngine().solve(md)
    assert refused >= 3 and passed >= 3, (refused, passed)
