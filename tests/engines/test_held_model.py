"""A held model: one built Pyomo model, allocation variants re-solved in place with a warm start.

The Pyomo engine holds its model when asked (``PyomoHighsEngine(hold=True)``, or a
``Session(..., hold=True)``); batches reach it through ``nationcap sweep --reuse`` (the worker's
session). Which variants are re-solved in place is an allow-list of the rules'
``allocation_dependence`` declarations (:mod:`nationcap.model.variants`).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from casebuilder import REPO, write_case
from click.testing import CliRunner

from nationcap.batch import worker
from nationcap.batch.plan import Job
from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.engines.pyomo_highs import PyomoHighsEngine
from nationcap.inputs import load_dataset
from nationcap.model import rules as rules_package
from nationcap.model.variants import in_place_reason, structure_key
from nationcap.pipeline import run_scenario
from nationcap.session import Session

pytestmark = pytest.mark.solver


@pytest.fixture()
def case(tmp_path):
    """Two markets, two 2-year periods, banking, distinct step costs (no ties)."""
    rng = np.random.default_rng(3)
    ents, bau, mac = [], {}, []
    for i in range(8):
        eid = f"E{i}"
        market = "national" if i < 4 else "regional"
        base = float(rng.integers(80, 300))
        ents.append(dict(entity_id=eid, market=market, base_emissions_t=base, top_level="top" if i == 5 else "none"))
        bau[eid] = [base, base * 0.99, base * 0.98, base * 0.97]
        costs = np.sort(rng.uniform(100, 9000, 3)).round(1)
        mac += [(eid, k + 1, 0.1 + 0.05 * k, float(c)) for k, c in enumerate(costs)]
    fac = {"P1": {"general": 0.05}, "P2": {"general": 0.12}}
    path = write_case(
        tmp_path,
        ents,
        bau,
        mac,
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {
            "national": {"compliance_factor": fac},
            "regional": {"compliance_factor": fac, "top_level_multiplier": {"top": 0.5}},
        },
        discount_rate=0.03,
    )
    # the held full model: every allocation variant is re-solved in place (the sifting model is
    # tested below: it re-sifts when a variant's price leaves its band)
    path.write_text(path.read_text() + '\n[solver]\nformulation = "full"\n')
    return path


@pytest.fixture(autouse=True)
def no_held_model():
    """The batch worker keeps one session per process: start and end every test without it."""
    worker._SESSION.clear()
    yield
    worker._SESSION.clear()


def held_engine():
    (session,) = worker._SESSION.values()
    return session.engine


VARIANTS = [
    ["markets.national.compliance_factor.P2.general=0.2"],
    ["markets.regional.compliance_factor.P1.general=0.09", "markets.regional.compliance_factor.P2.general=0.25"],
    ["markets.regional.top_level_multiplier.top=1.0"],
    [],
]


def test_resolves_match_fresh_runs_without_rebuilding(case):
    session = Session.open(case, hold=True)
    eng = session.engine
    first = session.solve().results
    assert first.attrs["reused_model"] == 0
    model = eng.model
    for overrides in VARIANTS:
        scn = load_scenario(case, overrides)
        assert session.in_place(overrides) is None and eng.accepts(session.prepare(scn))
        a = session.solve(overrides).results
        b = run_scenario(scn)  # a fresh build and solve (the Pyomo engine)
        assert "reused_model" not in b.attrs
        np.testing.assert_allclose(a["price"].values, b["price"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(a["abatement"].values, b["abatement"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(a["bank"].values, b["bank"].values, rtol=1e-8, atol=1e-6)
        assert a.attrs["objective_jpy"] == pytest.approx(b.attrs["objective_jpy"], rel=1e-9)
        assert a.attrs["reused_model"] == 1 and eng.model is model
    # the held model was built once (the fresh runs build their own engines' models) and solved
    # once per variant
    assert eng.builds == 1
    assert eng.solves == 1 + len(VARIANTS)


def test_only_allocation_changes_are_accepted(case):
    base = load_scenario(case)
    ds = load_dataset(base.inputs_path, base)
    session = Session(base, ds, hold=True)
    eng = session.engine
    assert not eng.accepts(session.prepare(base))  # nothing held yet
    session.solve()
    assert eng.accepts(session.prepare(load_scenario(case, VARIANTS[0])))
    for other in (["discount_rate=0.05"], ["markets.national.banking=false"]):
        scn = load_scenario(case, other)
        assert structure_key(scn) != structure_key(base)
        assert not eng.accepts(session.prepare(scn))
        assert "more than the allocation keys" in session.in_place(other)
    # the same files loaded again are another dataset: not re-solved in place
    assert not eng.accepts(Session(base, hold=True).prepare(base))

    # another structure is solved by building a new model, which the engine then holds
    other = session.solve(["discount_rate=0.05"]).results
    assert other.attrs["reused_model"] == 0 and eng.builds == 2
    np.testing.assert_allclose(
        other["price"].values,
        run_scenario(case, overrides=["discount_rate=0.05"])["price"].values,
        rtol=1e-8,
        atol=1e-6,
    )
    assert not eng.accepts(session.prepare(base))

    # a rule whose limit depends on the cap: its variants are rebuilt, never re-solved in place
    ext = ["markets.national.external={price={start_jpy_per_t=3000.0}, limit_share=0.1}"]
    assert "external" in in_place_reason(load_scenario(case, ext))
    first = session.solve(ext).results
    again = session.solve([*ext, "markets.national.compliance_factor.P2.general=0.2"]).results
    assert first.attrs["reused_model"] == 0 and again.attrs["reused_model"] == 0 and eng.builds == 4
    assert "external" in session.in_place(ext)


def job(case, overrides=(), reuse=True, key="k"):
    raw = load_scenario(case, list(overrides)).model_dump(mode="json")
    return Job(key, key, raw, str(case), reuse=reuse)


def test_worker_keeps_one_held_model_per_process(case):
    first = worker.solve_job(job(case, key="a"))
    engine = held_engine()
    model = engine.model
    second = worker.solve_job(job(case, VARIANTS[0], key="b"))
    assert held_engine() is engine and engine.model is model
    assert engine.builds == 1 and engine.solves == 2
    assert second.results.attrs["reused_model"] == 1 and first.results.attrs["reused_model"] == 0
    third = worker.solve_job(job(case, ["discount_rate=0.05"], key="c"))  # other structure: new model
    assert third.results.attrs["reused_model"] == 0
    assert held_engine() is engine and engine.model is not model and engine.builds == 2


class Undeclared:
    """A throwaway program rule that is always on and adds nothing to the model, and does not
    declare whether its parameters depend on the allocation (no ``allocation_dependence``)."""

    NAME, STAGE, ACCOUNT = "undeclared", "pool", ()

    @staticmethod
    def active(scn):
        return True


def test_a_rule_that_does_not_declare_itself_forces_a_rebuild(case, tmp_path, monkeypatch):
    """A factor sweep with --reuse re-solves the held model in place; with a rule on that does not
    declare itself independent of the allocation, the same sweep builds the model for every point
    instead, and gives the same prices."""
    args = ["--quiet", "sweep", str(case), "--param", "markets.regional.compliance_factor.P2.general"]
    args += ["--values", "0.10,0.14,0.18", "--workers", "1"]
    runner = CliRunner()
    plain = runner.invoke(cli, [*args, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    assert (held_engine().builds, held_engine().solves) == (1, 3)
    worker._SESSION.clear()
    monkeypatch.setattr("nationcap.model.variants.RULES", (*rules_package.RULES, Undeclared))
    assert "'undeclared' does not declare" in in_place_reason(load_scenario(case))
    rebuilt = runner.invoke(cli, [*args, "--out", str(tmp_path / "rebuilt")])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (held_engine().builds, held_engine().solves) == (3, 3)  # one build per point
    with (
        xr.open_dataset(tmp_path / "plain" / "results.nc") as a,
        xr.open_dataset(tmp_path / "rebuilt" / "results.nc") as b,
    ):
        np.testing.assert_allclose(b["price"].values, a["price"].values, rtol=1e-8, atol=1e-6)


def test_sweep_with_reuse_matches_sweep_without(case, tmp_path):
    runner = CliRunner()
    args = [
        "sweep",
        str(case),
        "--param",
        "markets.regional.compliance_factor.P2.general",
        "--values",
        "0.10,0.14,0.18",
        "--workers",
        "1",
    ]
    cold = runner.invoke(cli, ["--quiet", *args, "--no-reuse", "--out", str(tmp_path / "cold")])
    assert cold.exit_code == 0, cold.output
    assert not held_engine().hold and held_engine().model is None  # with --no-reuse no model is held
    warm = runner.invoke(cli, ["--quiet", *args, "--out", str(tmp_path / "warm")])  # --reuse is the default
    assert warm.exit_code == 0, warm.output
    engine = held_engine()  # --workers 1 solves in this process: one build, three solves
    assert engine.builds == 1 and engine.solves == 3
    with xr.open_dataset(tmp_path / "cold" / "results.nc") as a, xr.open_dataset(tmp_path / "warm" / "results.nc") as b:
        np.testing.assert_allclose(b["price"].values, a["price"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(b["total_cost"].values, a["total_cost"].values, rtol=1e-8)
        assert (b["status"].values == "ok").all()


def test_sifting_model_is_resolved_in_place_or_sifted_afresh(tmp_path):
    """The default formulation: a small change of a factor keeps the marginal columns inside the
    held model, which is re-solved with a hot start and re-certified against every column; a
    large one moves the price out of the band, the certification fails and the engine sifts
    afresh. Either way the result equals a cold run (prices, costs and market quantities to 1e-9)."""
    path = REPO / "models" / "tiny.toml"
    base = load_scenario(path)
    ds = load_dataset(base.inputs_path, base)
    eng = PyomoHighsEngine(hold=True)
    reused = []
    for v in (0.17, 0.1701, 0.1702, 0.25, 0.2501):
        scn = load_scenario(path, [f"markets.regional.compliance_factor.P2.general={v}"])
        a = run_scenario(scn, engine=eng, dataset=ds)
        b = run_scenario(scn, dataset=ds)  # a cold sifting run
        reused.append(a.attrs["reused_model"])
        for var in ("price_pv", "total_cost", "market_emissions", "bank"):
            np.testing.assert_allclose(a[var].values, b[var].values, rtol=1e-9, atol=1e-6, err_msg=var)
        assert a.attrs["objective_jpy"] == pytest.approx(b.attrs["objective_jpy"], rel=1e-9)
    assert reused[0] == 0 and reused[1] == 1 and reused[2] == 1  # in place after small changes
    assert reused[3] == 0  # a large change: sifted afresh


@pytest.mark.parametrize("formulation", ["full", "compact", "sifting"])
def test_resolves_report_the_interval_of_a_fresh_run(tmp_path, formulation):
    """One entity, BAU 100 t in FY2026, steps 10 t @1000, 10 t @5000 and 20 t @9000; a sweep of the
    factor re-solved in place. Factor 0.05: 5 t inside the first step, price 1000 (unique); 0.1:
    10 t, exactly the first step, every price in [1000, 5000] clears; 0.15: inside the second
    step, 5000; 0.2: 20 t, exactly the first two steps, [5000, 9000]; back to 0.1. Every re-solve
    reports the hand-derived interval, as a fresh run does, and its lower end as the price."""
    path = write_case(
        tmp_path,
        [dict(entity_id="A", market="m", base_emissions_t=100.0)],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.1, 5000), ("A", 3, 0.2, 9000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )
    path.write_text(path.read_text() + f'\n[solver]\nformulation = "{formulation}"\n')
    base = load_scenario(path)
    ds = load_dataset(base.inputs_path, base)
    eng = PyomoHighsEngine(hold=True)
    expected = {0.05: (1000, 1000), 0.1: (1000, 5000), 0.15: (5000, 5000), 0.2: (5000, 9000)}
    reused = []
    for f in (0.05, 0.1, 0.15, 0.2, 0.1):
        scn = load_scenario(path, [f"markets.m.compliance_factor.P1.general={f}"])
        a = run_scenario(scn, engine=eng, dataset=ds)
        b = run_scenario(scn, dataset=ds)
        reused.append(a.attrs["reused_model"])
        for r in (a, b):
            got = (float(r["price_low_pv"].squeeze()), float(r["price_high_pv"].squeeze()))
            assert got == pytest.approx(expected[f], abs=1e-6), (f, formulation)
            assert float(r["price_pv"].squeeze()) == got[0]
    assert reused[1:].count(1) >= 1  # at least one variant re-solved in place


def test_the_duality_gap_certificate_tells_an_optimum_from_a_worse_point():
    """min 2x + 3y s.t. x + y >= 4, x <= 3, y <= 10 (by hand: x = 3, y = 1, objective 9, row dual
    3, reduced cost of x -1 at its upper bound; dual bound 3 * 4 - 1 * 3 = 9). HiGHS's optimum
    passes with a zero gap; the feasible x = 1, y = 3 (objective 11) has the same duals' bound 9,
    a relative gap of 2 / 11, and fails; so does an infeasible x = y = 1."""
    import highspy

    from nationcap.engines.certify import certify, lp_arrays

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(2, np.array([0.0, 0.0]), np.array([3.0, 10.0]))
    h.changeColsCost(2, np.array([0, 1]), np.array([2.0, 3.0]))
    h.addRow(4.0, highspy.kHighsInf, 2, np.array([0, 1]), np.array([1.0, 1.0]))
    h.run()
    arrays = lp_arrays(h)
    good = certify(arrays)
    assert good.passed and good.primal_objective == pytest.approx(9.0) and good.dual_objective == pytest.approx(9.0)
    worse = certify({**arrays, "x": np.array([1.0, 3.0])})
    assert not worse.passed and worse.primal_infeasibility == 0.0
    assert worse.gap == pytest.approx(2.0 / 11.0)
    assert not certify({**arrays, "x": np.array([1.0, 1.0])}).passed


def test_a_warm_resolve_that_fails_the_certificate_is_solved_cold(case, monkeypatch):
    """A warm re-solve whose solution does not pass the duality-gap certificate (forced: the
    primal HiGHS returns is replaced by a worse point, all columns at their upper bounds, as a
    warm start that stops "optimal" at a worse vertex would) is solved again cold, and the result
    is that of a fresh build; a warm re-solve that passes is kept (no cold solve)."""
    from nationcap.engines import pyomo_highs

    session = Session.open(case, hold=True)
    session.solve()
    overrides = VARIANTS[0]
    ok = session.solve(overrides)
    assert ok.results.attrs["reused_model"] == 1
    assert ok.solution.info["cold_resolve"] == 0 and ok.solution.info["warm_gap"] <= 1e-7

    real = pyomo_highs.lp_arrays
    calls = []

    def corrupted(highs):
        arrays = real(highs)
        calls.append(1)
        return {**arrays, "x": np.where(np.isfinite(arrays["col_upper"]), arrays["col_upper"], arrays["x"])}

    monkeypatch.setattr(pyomo_highs, "lp_arrays", corrupted)
    tight = VARIANTS[1]
    got = session.solve(tight)
    assert calls and got.results.attrs["reused_model"] == 1
    assert got.solution.info["cold_resolve"] == 1 and got.solution.info["warm_gap"] > 1e-7
    fresh = run_scenario(load_scenario(case, tight))
    np.testing.assert_allclose(got.results["price"].values, fresh["price"].values, rtol=1e-8, atol=1e-6)
    assert got.results.attrs["objective_jpy"] == pytest.approx(fresh.attrs["objective_jpy"], rel=1e-9)
