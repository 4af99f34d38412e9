"""results.nc follows the netCDF (CF) conventions: long_name everywhere, units a units library
parses, the money of every JPY amount in its own attribute, and fingerprints of the inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pint
import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.inputs import dataset_fingerprint
from nationcap.results.conventions import CONVENTIONS

MC_TABLE = """
[montecarlo]
draws = 2
seed = 3

[montecarlo.bau_growth]
by = "market"
distribution = "normal"
sd = 0.02
"""
KEY = "markets.regional.compliance_factor.P2.general"
EACH_YEAR = "each year's money"
PV = "present value at FY2026"

#: pint's default registry knows t (tonne) and 1; the currency is defined once, as pint's
#: documentation suggests for currencies
UNITS = pint.UnitRegistry()
UNITS.define("JPY = [currency_JPY]")

#: numeric variables that are labels, not quantities: no units (a fiscal year is not a time
#: since an epoch, a draw number or a point index is not an amount)
LABELS = {"year", "draw", "mac_point", "base_year_first"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("conv")
    path = batch_case(root, MC_TABLE)
    runner = CliRunner()
    out = {"run": root / "run", "sweep": root / "sweep", "mc": root / "mc"}
    for args in (
        ["run", str(path), "--out", str(out["run"])],
        ["sweep", str(path), "--param", KEY, "--values", "0.1,0.12", "--out", str(out["sweep"]), "--workers", "1"],
        ["montecarlo", str(path), "--out", str(out["mc"]), "--workers", "1"],
    ):
        r = runner.invoke(cli, args)
        assert r.exit_code == 0, r.output
    return path, out


def check_conventions(ds: xr.Dataset) -> None:
    assert ds.attrs["Conventions"] == CONVENTIONS == "CF-1.10"
    swept = set(json.loads(ds.attrs.get("sweep_params", "[]")))
    for name, var in ds.variables.items():
        attrs = var.attrs
        assert attrs.get("long_name"), f"{name} has no long_name"
        units = attrs.get("units")
        if var.dtype.kind in "fiu" and name not in LABELS and name not in swept:
            assert units is not None, f"{name} has no units"
        if units is None:
            assert "money" not in attrs, name
            continue
        assert units in {"t", "JPY", "JPY/t", "1"}, f"{name}: units {units!r}"
        UNITS.parse_units(units)  # raises for anything pint does not know
        if "JPY" in units:
            assert attrs["money"] in {EACH_YEAR, PV}, f"{name}: money {attrs.get('money')!r}"
        else:
            assert "money" not in attrs, name
    # what money the main amounts are in (batch members keep no per-entity variables, a Monte
    # Carlo draw no MAC curve: those are checked where they are)
    for name, money in {
        "price": EACH_YEAR,
        "price_pv": PV,
        "abatement_cost": EACH_YEAR,
        "abatement_cost_by_sector": EACH_YEAR,
        "compliance_cost": PV,
        "total_cost": PV,
        "mac_curve_cost_pv": PV,
    }.items():
        if name not in ds:
            assert (
                name in ("abatement_cost", "compliance_cost", "mac_curve_cost_pv")
                and "batch" in ds.attrs
                or (ds.attrs.get("member") is not None or "entity" not in ds.dims)
            ), name
            continue
        assert ds[name].attrs["units"] in ("JPY", "JPY/t") and ds[name].attrs["money"] == money, name
    assert ds["year"].attrs["long_name"] == "fiscal year" and "units" not in ds["year"].attrs
    assert ds["price"].attrs["long_name"] == "allowance price"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_provenance(ds: xr.Dataset, scenario: Path) -> None:
    data = scenario.parent / "data"
    expected = {scenario.name: sha256(scenario)} | {f"data/{f.name}": sha256(f) for f in sorted(data.iterdir())}
    assert json.loads(ds.attrs["inputs_sha256"]) == expected
    assert ds.attrs["dataset_sha256"] == dataset_fingerprint(data)


@pytest.mark.solver
def test_single_run_follows_the_conventions(outputs):
    path, out = outputs
    with xr.open_dataset(out["run"] / "results.nc") as ds:
        check_conventions(ds)
        check_provenance(ds, path)
        assert ds["noncompliant_entities"].attrs["units"] == "1"  # a count (was "entities")


@pytest.mark.solver
@pytest.mark.parametrize("kind", ["sweep", "mc"])
def test_batch_results_keep_the_attributes_of_their_members(outputs, kind):
    """Combining members used to drop every variable's units and description."""
    path, out = outputs
    with xr.open_dataset(out[kind] / "results.nc") as ds:
        check_conventions(ds)
        check_provenance(ds, path)
        assert ds["objective"].attrs["money"] == PV and ds["status"].attrs["long_name"]
    for member in (out[kind] / "runs").glob("*.nc"):
        with xr.open_dataset(member) as ds:
            check_conventions(ds)
            check_provenance(ds, path)


@pytest.mark.solver
def test_a_changed_input_file_shows_in_the_next_runs_fingerprints(tmp_path):
    """Fingerprints are remembered per file only while its size and modification time stay."""
    from nationcap.pipeline import run_scenario

    path = batch_case(tmp_path)
    first = run_scenario(path, engine="fast")
    readme = tmp_path / "data" / "README.md"
    readme.write_text("a note added after the first run\n")
    second = run_scenario(path, engine="fast")
    before, after = (json.loads(r.attrs["inputs_sha256"]) for r in (first, second))
    assert "data/README.md" not in before and after["data/README.md"] == sha256(readme)
    assert first.attrs["dataset_sha256"] != second.attrs["dataset_sha256"]
    assert second.attrs["dataset_sha256"] == dataset_fingerprint(tmp_path / "data")


def test_units_with_their_money_after_a_comma_are_split():
    """Rules write present-value amounts as "JPY, present value at FY2026" (ReportContext.pv_units)."""
    from nationcap.model.rules.base import variable_attrs

    assert variable_attrs("JPY, present value at FY2026", "d") == {"units": "JPY", "money": PV, "description": "d"}
    assert variable_attrs("JPY/t", "d")["money"] == EACH_YEAR
    assert "units" not in variable_attrs("", "a label") and "money" not in variable_attrs("t", "d")
