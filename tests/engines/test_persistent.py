"""Persistent re-solves: one built model, allocation variants solved with a warm start.

:class:`PersistentHighsEngine` is used through the pipeline (``run_scenario(scn, engine=eng,
dataset=ds)``); batches reach it through ``nationcap sweep --reuse`` (the worker's held engine).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from casebuilder import REPO, write_case
from click.testing import CliRunner

from nationcap.batch import worker
from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.engines import UnsupportedError
from nationcap.engines import persistent as persistent_module
from nationcap.engines.persistent import PersistentHighsEngine, eligible, structure_key
from nationcap.inputs import load_dataset
from nationcap.model import prepare
from nationcap.pipeline import run_scenario

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
    """The batch worker keeps one engine per process: start and end every test without it."""
    worker._HELD.clear()
    yield
    worker._HELD.clear()


VARIANTS = [
    ["markets.national.compliance_factor.P2.general=0.2"],
    ["markets.regional.compliance_factor.P1.general=0.09", "markets.regional.compliance_factor.P2.general=0.25"],
    ["markets.regional.top_level_multiplier.top=1.0"],
    [],
]


def test_resolves_match_fresh_runs_without_rebuilding(case, monkeypatch):
    calls = {"build": 0}
    real = persistent_module.build_model

    def counting(md, *args):
        calls["build"] += 1
        return real(md, *args)

    monkeypatch.setattr(persistent_module, "build_model", counting)
    base = load_scenario(case)
    ds = load_dataset(base.inputs_path, base)
    eng = PersistentHighsEngine()
    first = run_scenario(base, engine=eng, dataset=ds)
    assert first.attrs["reused_model"] == 0
    for overrides in VARIANTS:
        scn = load_scenario(case, overrides)
        assert eng.accepts(prepare(scn, ds))
        a = run_scenario(scn, engine=eng, dataset=ds)
        b = run_scenario(scn)  # a fresh build and solve (the Pyomo engine)
        assert "reused_model" not in b.attrs
        np.testing.assert_allclose(a["price"].values, b["price"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(a["abatement"].values, b["abatement"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(a["bank"].values, b["bank"].values, rtol=1e-8, atol=1e-6)
        assert a.attrs["objective_jpy"] == pytest.approx(b.attrs["objective_jpy"], rel=1e-9)
        assert a.attrs["reused_model"] == 1
    # the persistent model was built once (the fresh runs build theirs in the Pyomo engine and
    # are not counted) and solved once per variant
    assert calls["build"] == 1 and eng.builds == 1
    assert eng.solves == 1 + len(VARIANTS)


def test_only_allocation_changes_are_accepted(case):
    base = load_scenario(case)
    ds = load_dataset(base.inputs_path, base)
    eng = PersistentHighsEngine()
    assert not eng.accepts(prepare(base, ds))  # nothing held yet
    run_scenario(base, engine=eng, dataset=ds)
    assert eng.accepts(prepare(load_scenario(case, VARIANTS[0]), ds))
    for other in (["discount_rate=0.05"], ["markets.national.banking=false"]):
        scn = load_scenario(case, other)
        assert structure_key(scn) != structure_key(base)
        assert not eng.accepts(prepare(scn, ds))
    # the same files loaded again are another dataset: not re-solved in place
    assert not eng.accepts(prepare(base, load_dataset(base.inputs_path, base)))

    # another structure is solved by building a new model, which the engine then holds
    other = run_scenario(load_scenario(case, ["discount_rate=0.05"]), engine=eng, dataset=ds)
    assert other.attrs["reused_model"] == 0 and eng.builds == 2
    np.testing.assert_allclose(
        other["price"].values,
        run_scenario(case, overrides=["discount_rate=0.05"])["price"].values,
        rtol=1e-8,
        atol=1e-6,
    )
    assert not eng.accepts(prepare(base, ds))

    ext = load_scenario(case, ["markets.national.external={price={start_jpy_per_t=3000.0}, limit_share=0.1}"])
    assert "external" in eligible(ext)
    md = prepare(ext, ds)
    assert eng.supports(md) and "cannot be re-solved in place" in eng.supports(md)[0]
    with pytest.raises(UnsupportedError, match="cannot be re-solved in place"):
        eng.solve(md)
    assert eng.builds == 2  # the refusal built nothing


def test_solve_reusing_keeps_one_model_per_process(case, tmp_path):
    log = str(tmp_path / "solver.log")
    first = worker._solve_reusing(load_scenario(case), log)
    engine = worker._HELD["engine"]
    model = engine.model
    second = worker._solve_reusing(load_scenario(case, VARIANTS[0]), log)
    assert worker._HELD["engine"] is engine and engine.model is model
    assert engine.builds == 1 and engine.solves == 2
    assert second.attrs["reused_model"] == 1 and first.attrs["reused_model"] == 0
    third = worker._solve_reusing(load_scenario(case, ["discount_rate=0.05"]), log)  # other structure: new model
    assert third.attrs["reused_model"] == 0
    assert worker._HELD["engine"] is engine and engine.model is not model and engine.builds == 2


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
    assert worker._HELD == {}  # with --no-reuse nothing is held
    warm = runner.invoke(cli, ["--quiet", *args, "--out", str(tmp_path / "warm")])  # --reuse is the default
    assert warm.exit_code == 0, warm.output
    engine = worker._HELD["engine"]  # --workers 1 solves in this process: one build, three solves
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
    eng = PersistentHighsEngine()
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
    eng = PersistentHighsEngine()
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
