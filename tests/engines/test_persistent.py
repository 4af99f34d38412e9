"""Persistent re-solves: one built model, allocation variants solved with a warm start."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from casebuilder import write_case
from click.testing import CliRunner

from nationcap import persistent
from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.errors import ModelError
from nationcap.persistent import PersistentModel, eligible
from nationcap.run import run_scenario

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
    return write_case(
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


VARIANTS = [
    ["markets.national.compliance_factor.P2.general=0.2"],
    ["markets.regional.compliance_factor.P1.general=0.09", "markets.regional.compliance_factor.P2.general=0.25"],
    ["markets.regional.top_level_multiplier.top=1.0"],
    [],
]


def test_resolves_match_fresh_runs_without_rebuilding(case, monkeypatch):
    calls = {"build": 0}
    import nationcap.model as model

    real = model.build_model

    def counting(md):
        calls["build"] += 1
        return real(md)

    monkeypatch.setattr(model, "build_model", counting)
    pm = PersistentModel(load_scenario(case))
    for overrides in VARIANTS:
        scn = load_scenario(case, overrides)
        assert pm.accepts(scn)
        a = pm.result(scn)
        b = run_scenario(scn)
        np.testing.assert_allclose(a["price"].values, b["price"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(a["abatement"].values, b["abatement"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(a["bank"].values, b["bank"].values, rtol=1e-8, atol=1e-6)
        assert a.attrs["objective_jpy"] == pytest.approx(b.attrs["objective_jpy"], rel=1e-9)
        assert a.attrs["reused_model"] == 1
    # the persistent model was built once (run.py's fresh runs hold their own build_model
    # reference and are not counted) and solved once per variant
    assert calls["build"] == 1
    assert pm.solves == 1 + len(VARIANTS)


def test_only_allocation_changes_are_accepted(case):
    pm = PersistentModel(load_scenario(case))
    assert not pm.accepts(load_scenario(case, ["discount_rate=0.05"]))
    assert not pm.accepts(load_scenario(case, ["markets.national.banking=false"]))
    with pytest.raises(ModelError, match="changes more than allocations"):
        pm.result(load_scenario(case, ["discount_rate=0.05"]))
    ext = load_scenario(case, ["markets.national.external={price={start_jpy_per_t=3000.0}, limit_share=0.1}"])
    assert "external" in eligible(ext)
    with pytest.raises(ModelError, match="cannot be re-solved in place"):
        PersistentModel(ext)


def test_solve_reusing_keeps_one_model_per_process(case):
    persistent._CACHE.clear()
    first = persistent.solve_reusing(load_scenario(case))
    model = next(iter(persistent._CACHE.values()))
    second = persistent.solve_reusing(load_scenario(case, VARIANTS[0]))
    assert next(iter(persistent._CACHE.values())) is model and model.solves == 2
    assert second.attrs["reused_model"] == 1 and first.attrs["reused_model"] == 0
    persistent.solve_reusing(load_scenario(case, ["discount_rate=0.05"]))  # other structure: new model
    assert next(iter(persistent._CACHE.values())) is not model and len(persistent._CACHE) == 1
    persistent._CACHE.clear()


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
    cold = runner.invoke(cli, ["--quiet", *args, "--out", str(tmp_path / "cold")])
    assert cold.exit_code == 0, cold.output
    warm = runner.invoke(cli, ["--quiet", *args, "--reuse", "--out", str(tmp_path / "warm")])
    assert warm.exit_code == 0, warm.output
    with xr.open_dataset(tmp_path / "cold" / "results.nc") as a, xr.open_dataset(tmp_path / "warm" / "results.nc") as b:
        np.testing.assert_allclose(b["price"].values, a["price"].values, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(b["total_cost"].values, a["total_cost"].values, rtol=1e-8)
        assert (b["status"].values == "ok").all()
    persistent._CACHE.clear()
