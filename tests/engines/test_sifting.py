"""Sifting: the Pyomo model over the columns that can be marginal, certified against every column.

The sifting path must give the optimum of the full LP: the same objective, prices, market
emissions and costs as the full formulation (one compliance row per entity and period) and the
compact one (market rows, every column held), on the hand-derived cases (tests/handcases.py runs
them on every engine and formulation), on random instances with every rule and bank setting, and
when the price estimate it starts from is wrong: then the certification must free the columns
that price out and solve again until none does.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case
from hypothesis import given, settings
from hypothesis import strategies as st

import nationcap.engines.sifting as ph
from nationcap.errors import ModelError
from nationcap.model import prepare
from nationcap.pipeline import load, run_dataset

pytestmark = pytest.mark.solver

PERIODS = [("P1", 2026, 2027), ("P2", 2028, 2029), ("P3", 2030, 2030)]


def random_case(root, seed: int) -> tuple:
    """A two-market case with random costs and a positive discount rate (no ties between steps
    or years) and a random subset of the program rules."""
    rng = np.random.default_rng(seed)
    periods = PERIODS[: rng.integers(1, 4)]
    n_years = sum(b - a + 1 for _, a, b in periods)
    entities, bau, mac, offsets = [], {}, [], []
    for m in ("national", "regional"):
        for i in range(int(rng.integers(2, 6))):
            eid = f"{m[0].upper()}{i}"
            sector = "power_coal" if (m == "national" and i % 2 == 0) else "steel" if m == "national" else "office"
            base = float(rng.uniform(50, 500))
            extra = {"sector": sector, "electricity_share": float(rng.uniform(0.2, 0.6)) if m == "regional" else 0.0}
            if m == "national":
                extra["administrator"] = "national"
            entities.append(ent(eid, market=m, base=base, **extra))
            bau[eid] = [base * float(rng.uniform(0.9, 1.1)) for _ in range(n_years)]
            shares = rng.dirichlet(np.ones(4)) * rng.uniform(0.3, 0.9)
            for k in range(int(rng.integers(1, 5))):
                mac.append((eid, k + 1, float(shares[k]), float(rng.uniform(-300, 9000))))
    markets = {}
    for m in ("national", "regional"):
        factors = {p: {"general": float(rng.uniform(0.0, 0.3))} for p, _, _ in periods}
        cfg: dict = {"banking": bool(rng.integers(2)), "borrowing": bool(rng.integers(2)), "compliance_factor": factors}
        if rng.random() < 0.35:
            cfg["use_offsets"] = True
            cfg["offsets"] = {"outside": {"limit_fraction": float(rng.uniform(0.1, 0.6))}}
            for _, a, b in periods:
                for y in range(a, b + 1):
                    for t in ("outside", "small_mid"):
                        offsets.append((t, m, y, float(rng.uniform(5, 60)), float(rng.uniform(500, 6000))))
        if rng.random() < 0.3:
            cfg["penalty_multiplier"] = 1.3
            if rng.random() < 0.5:
                cfg["final_shortfall_price_jpy_per_t"] = float(rng.uniform(3000, 9000))
        if rng.random() < 0.3:  # a band that is never a money pump: ceiling far above the floor
            cfg["price_floor"] = {"start_jpy_per_t": float(rng.uniform(100, 1500))}
            cfg["price_ceiling"] = {"start_jpy_per_t": float(rng.uniform(4000, 8000))}
        if rng.random() < 0.25:
            cfg["external"] = {"price": {"start_jpy_per_t": float(rng.uniform(1000, 6000))}, "limit_share": 0.2}
        if rng.random() < 0.25:
            cfg["auction_share"] = {periods[0][0]: 0.3}
        markets[m] = cfg
    overrides = []
    link = rng.choice(["none", "full", "limited"])
    if link != "none":
        overrides += [f'link.mode="{link}"', f"link.ratio={rng.choice([0.5, 1.0, 2.0])}"]
        overrides.append(f'link.direction="{rng.choice(["both", "national_to_regional", "regional_to_national"])}"')
    if rng.random() < 0.3:
        overrides.append('overlap.electricity="coupled"')
    path = write_case(
        root,
        entities,
        bau,
        mac,
        periods,
        markets,
        discount_rate=float(rng.uniform(0.01, 0.05)),
        offsets=offsets or None,
    )
    return path, overrides


def solve(path, overrides, formulation: str):
    scn, ds = load(path, (*overrides, f'solver.formulation="{formulation}"'))
    return run_dataset(scn, ds, engine="pyomo")


def assert_same_optimum(ref, got) -> None:
    """The optimum is unique in objective; in these cases without ties, also in prices (and the
    interval of clearing prices, which is the full LP's on every formulation) and the
    market quantities. Entity splits of the rules' market columns are not compared (not unique)."""
    assert got.solution.objective_jpy == pytest.approx(ref.solution.objective_jpy, rel=1e-9, abs=1e-3)
    for var in ("price_pv", "price_low_pv", "price_high_pv", "market_emissions", "total_cost", "cap"):
        np.testing.assert_allclose(got.results[var].values, ref.results[var].values, rtol=1e-7, atol=1e-5, err_msg=var)


def check_random_case(root, seed: int) -> None:
    """Sifting and the compact formulation reach the full formulation's optimum, or all refuse."""
    path, overrides = random_case(root, seed)
    try:
        ref = solve(path, overrides, "full")
    except ModelError:
        with pytest.raises(ModelError):
            solve(path, overrides, "sifting")
        return
    assert_same_optimum(ref, solve(path, overrides, "sifting"))
    assert_same_optimum(ref, solve(path, overrides, "compact"))


@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1))
def test_sifting_equals_the_full_formulation_on_random_cases(tmp_path_factory, seed):
    """Sifting reaches the full LP's optimum on random cases: a few in the fast tier (many more
    in the integration tier, below)."""
    check_random_case(tmp_path_factory.mktemp("case"), seed)


@pytest.mark.integration
@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1))
def test_sifting_equals_the_full_formulation_on_many_random_cases(tmp_path_factory, seed):
    """The same on 40 random cases."""
    check_random_case(tmp_path_factory.mktemp("case"), seed)


def test_certification_frees_wrongly_fixed_columns(tmp_path, monkeypatch):
    """A price estimate 20x too high fixes every cheap column at its bound and a zero band holds
    almost none: the first solve is wrong, the reduced-cost check must find the columns that
    price out, free them, and the loop must end at the full LP's optimum."""
    path, overrides = random_case(tmp_path, 7)
    ref = solve(path, overrides, "full")
    scn, ds = load(path, (*overrides, "solver.sifting_band=0.0"))
    md = prepare(scn, ds)
    true = ph.price_estimate(md)
    assert true is not None
    monkeypatch.setattr(ph, "price_estimate", lambda md: true * 20.0 + 5000.0)
    monkeypatch.setattr(ph, "BAND_ABS_JPY_PER_T", 0.0)
    got = run_dataset(scn, ds, engine="pyomo")
    info = got.solution.info
    assert info["rounds"] > 1 and info["columns_freed"] > 0, info
    assert_same_optimum(ref, got)


def test_a_wrong_certificate_would_be_caught(tmp_path):
    """The check itself: fix one column of the optimum at the wrong bound and the reduced costs of
    the optimum's duals flag it (so a wrongly fixed column cannot pass unnoticed)."""
    path, overrides = random_case(tmp_path, 11)
    scn, ds = load(path, overrides)
    md = prepare(scn, ds)
    run = run_dataset(scn, ds, engine="pyomo")
    from nationcap.model import build_model

    m = build_model(md, "compact")
    rc = ph.reduced_costs(md, m.registry, run.solution.duals)
    x = run.solution.values["abatement"]
    used = np.flatnonzero((x > 1e-9) & (rc < -1e-6))  # fully used because it is cheaper than the price
    assert len(used), "the case has a column that the optimum uses because it prices in"
    # fixing such a column at zero is exactly what the certification flags: rc < 0 at the lower bound
    assert (rc[used] < 0).all()


def test_an_estimate_far_too_low_still_reaches_the_optimum(tmp_path, monkeypatch):
    """A price estimate of 0 fixes every costly column at zero: the held model cannot meet the
    caps (infeasible), so the engine holds every column and solves again; the answer is the full
    LP's."""
    path, overrides = random_case(tmp_path, 7)
    ref = solve(path, overrides, "full")
    scn, ds = load(path, overrides)
    md = prepare(scn, ds)
    monkeypatch.setattr(ph, "price_estimate", lambda md: np.zeros((len(md.markets), len(md.periods))))
    monkeypatch.setattr(ph, "BAND_ABS_JPY_PER_T", 0.0)
    got = run_dataset(scn, ds, engine="pyomo")
    assert got.solution.info["rounds"] >= 2 and got.solution.info["columns_held"] == len(md.col_cost)
    assert_same_optimum(ref, got)


def three_steps(root):
    """One entity, BAU 100 t in FY2026, 10 t needed (factor 0.1); steps 10 t @1000, 10 t @5000 and
    20 t @9000. The requirement is exactly the first step: the full LP's price interval is
    [1000, 5000] (the next step's cost)."""
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.1, 5000), ("A", 3, 0.2, 9000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )


def test_a_column_fixed_by_sifting_makes_no_fake_breakpoint(tmp_path):
    """Hold the 1000 and 9000 steps and fix the 5000 step at zero, as sifting may. The restricted
    LP alone would put the upper end at 9000: one more tonne from the dearest held step, a
    breakpoint that does not exist in the full LP. Its perturbed dual (9000) prices the fixed
    5000 step out, so the certification refuses it, and the sifting intervals solve that row
    again with the step held: [1000, 5000], the full formulation's interval."""
    from nationcap.engines.intervals import market_intervals
    from nationcap.model import build_model

    path = three_steps(tmp_path)
    scn, ds = load(path, ())
    md = prepare(scn, ds)
    assert list(md.col_cost) == [1000, 5000, 9000]
    m = build_model(md, "compact", np.array([0, 2]), np.zeros(3))
    opt = ph.new_solver()
    sr = ph.solve_model(m, md, opt=opt)
    fake = market_intervals(m, opt, sr.duals["market_balance"])
    assert fake.high == pytest.approx([9000])  # the restricted LP's own (wrong for the full LP)
    certified = market_intervals(
        m, opt, sr.duals["market_balance"], certify=lambda d: ph.uncertified(md, m.registry, d)
    )
    assert [(k, side, list(np.flatnonzero(out))) for k, side, out in certified.failed] == [(0, 1, [1])]
    ph.sifting_intervals(md, m, opt, sr)
    assert sr.dual_low["market_balance"] == pytest.approx([1000])
    assert sr.dual_high["market_balance"] == pytest.approx([5000])
    assert sr.info["interval_models_widened"] == 1
    ref = solve(path, (), "full").results
    assert float(ref["price_low_pv"].squeeze()) == pytest.approx(1000)
    assert float(ref["price_high_pv"].squeeze()) == pytest.approx(5000)


def test_sifting_intervals_when_the_held_columns_cannot_meet_one_more_tonne(tmp_path):
    """The default sifting run of :func:`three_steps`: the estimate (the merit order's least
    price, 1000) holds only the 1000 step (band 5 %), so one more tonne is infeasible for the held
    model; the row is solved again holding every column and the interval is the full LP's."""
    path = three_steps(tmp_path)
    got = solve(path, (), "sifting")
    assert got.solution.info["columns_held"] == 1
    assert got.solution.info["interval_models_widened"] == 1
    assert float(got.results["price_low_pv"].squeeze()) == pytest.approx(1000)
    assert float(got.results["price_high_pv"].squeeze()) == pytest.approx(5000)
