"""`nationcap run`: files written, results.nc schema, no silent overwrite, atomic writes."""

from __future__ import annotations

import json

import pytest
import xarray as xr
from casebuilder import NATIONAL_SUPPLIERS, write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.results import io

pytestmark = pytest.mark.solver

REQUIRED_VARS = {
    "price": ("market", "year"),
    "emissions": ("entity", "year"),
    "abatement": ("entity", "year"),
    "abatement_cost": ("entity", "year"),
    "allocation": ("entity", "period"),
    "net_purchase": ("entity", "period"),
    "compliance_cost": ("entity", "period"),
    "cap": ("market", "period"),
    "bank": ("market", "period"),
    "total_cost": ("market", "period"),
    "net_cost_covered": ("market", "period"),
}


@pytest.fixture()
def case(tmp_path):
    return write_case(
        tmp_path,
        [
            NATIONAL_SUPPLIERS[0],
            dict(
                entity_id="R1",
                market="regional",
                base_emissions_t=100.0,
                sector="office",
                prefecture="Tokyo",
                administrator="Tokyo",
                electricity_share=0.7,
            ),
            dict(
                entity_id="R2",
                market="regional",
                base_emissions_t=100.0,
                sector="factory",
                prefecture="Saitama",
                administrator="Saitama City",
                category="dhc",
            ),
        ],
        {"N1": 1000.0, "R1": 100.0, "R2": 100.0},
        [("N1", 1, 0.1, 1500), ("N1", 2, 0.3, 4000), ("R1", 1, 0.1, -300), ("R1", 2, 0.2, 2500), ("R2", 1, 0.2, 1800)],
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.08}, "P2": {"general": 0.17}}},
            "regional": {
                "compliance_factor": {"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.17, "dhc": 0.15}}
            },
        },
        discount_rate=0.03,
        national_co2_t={2026: 2000.0, 2027: 2000.0, 2028: 2000.0, 2029: 2000.0},
    )


def test_run_writes_results_with_schema(case, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Allowance price" in result.output and "Cost account" in result.output
    for f in ("results.nc", "run.json", "market_year.csv", "entity_year.csv", "entity_period.csv", "entities.csv"):
        assert (out / f).is_file(), f
    with xr.open_dataset(out / "results.nc") as r:
        for var, dims in REQUIRED_VARS.items():
            assert r[var].dims == dims, var
        for name in list(r.data_vars) + ["entity_market", "entity_sector", "entity_prefecture", "entity_administrator"]:
            assert r[name].attrs.get("long_name") and r[name].attrs.get("description"), name
        # every quantity has units; labels and fiscal years (base_year_first) have none
        unitless = {"base_year_first", "entity_market", "entity_sector", "entity_prefecture", "entity_administrator"}
        for name in set(r.data_vars) - unitless:
            assert r[name].attrs.get("units") in ("t", "JPY", "JPY/t", "1"), name
        assert r["year"].dtype.kind == "i"
        assert set(r["market"].values) == {"national", "regional"}
        assert list(r["entity_administrator"].values) == ["national", "Tokyo", "Saitama City"]
        assert "net_purchase_by_prefecture" in r and r["net_purchase_by_prefecture"].dims == (
            "market",
            "prefecture",
            "period",
        )
        cfg = json.loads(r.attrs["config"])
        assert cfg["name"] == "case" and cfg["markets"]["regional"]["compliance_factor"]["P1"]["dhc"] == 0.06
        for key in (
            "nationcap_version",
            "pyomo_version",
            "highspy_version",
            "python_version",
            "termination",
            "termination_detail",
            "objective_jpy",
        ):
            assert key in r.attrs, key
        assert "solver_info" not in r.attrs and "timings_s" not in r.attrs  # run-specific: in run.json
        # nationcap's own status; the solver's label is kept beside it
        assert r.attrs["termination"] == "optimal" and r.attrs["engine"] == "pyomo"
        assert r.attrs["termination_detail"] == "convergenceCriteriaSatisfied"
        # aggregates are sums of the entity values
        by_pref = r["emissions_by_prefecture"].sum(["market", "prefecture"])
        assert by_pref.values == pytest.approx(r["emissions"].sum("entity").values)
    meta = json.loads((out / "run.json").read_text())
    assert meta["config"]["name"] == "case" and "pyomo_version" in meta
    assert json.loads(meta["solver_info"])["formulation"] == "sifting" and "solve" in json.loads(meta["timings_s"])


def test_run_refuses_to_overwrite_without_force(case, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(case), "--out", str(out)]).exit_code == 0
    marker = out / "results.nc"
    before = marker.stat().st_mtime_ns
    result = runner.invoke(cli, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 4
    assert "--force" in result.output
    assert marker.stat().st_mtime_ns == before
    result = runner.invoke(
        cli,
        ["run", str(case), "--out", str(out), "--force", "--set", "markets.national.compliance_factor.P1.general=0.12"],
    )
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out / "results.nc") as r:
        assert json.loads(r.attrs["config"])["markets"]["national"]["compliance_factor"]["P1"]["general"] == 0.12


def test_failed_write_leaves_no_partial_output_and_keeps_old(case, tmp_path, monkeypatch):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(case), "--out", str(out)]).exit_code == 0
    old = sorted(p.name for p in out.iterdir())

    def boom(ds):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(io, "csv_tables", boom)
    result = runner.invoke(cli, ["run", str(case), "--out", str(out), "--force"])
    assert result.exit_code != 0
    assert sorted(p.name for p in out.iterdir()) == old  # old results intact
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no temp left
    fresh = tmp_path / "fresh"
    result = runner.invoke(cli, ["run", str(case), "--out", str(fresh)])
    assert result.exit_code != 0 and not fresh.exists()


def test_version_and_help():
    runner = CliRunner()
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and "nationcap" in result.output
    result = runner.invoke(cli, ["--help"])
    assert "run" in result.output and "validate" in result.output and "generate" in result.output
