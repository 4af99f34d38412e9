"""The IAMC export read as the IAMC conventions and pyam's unit registry (iam-units) read it."""

from __future__ import annotations

import re
from pathlib import Path

import iam_units
import numpy as np
import pandas as pd
import pint
import pytest
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli

INDEX = ["model", "scenario", "region", "variable", "unit"]
YEARS = ["2026", "2027", "2028", "2029"]  # batch_case: P1 FY2026-27, P2 FY2028-29
PREFECTURE_VARIABLES = ("Emissions|CO2", "Baseline Emissions|CO2", "Abatement|CO2", "Abatement Cost")
MC_TABLE = """
[montecarlo]
draws = 3
seed = 2

[montecarlo.bau_growth]
by = "market"
distribution = "normal"
sd = 0.02
"""


def registry() -> pint.UnitRegistry:
    """iam-units' definitions in a registry of our own, with JPY defined as the export's
    documentation says (nationcap/results/iamc.py), so the package's registry is left alone."""
    reg = pint.UnitRegistry()
    reg.load_definitions(str(Path(iam_units.__file__).parent / "data" / "definitions.txt"))
    reg.define("JPY = [currency_JPY]")
    return reg


def split_species(unit: str) -> tuple[str, str | None]:
    """(units, species) as pyam separates them (pyam.units.extract_species, iam_units' pattern)."""
    parts = re.split(iam_units.emissions.pattern.pattern, unit, maxsplit=1)
    return (unit, None) if len(parts) == 1 else ((parts[0] + parts[2]).strip(), parts[1])


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    root = tmp_path_factory.mktemp("iamc")
    path = batch_case(root, MC_TABLE)
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(path), "--out", str(root / "run")]).exit_code == 0
    r = runner.invoke(cli, ["export", str(root / "run"), "--out", str(root / "run.csv")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["montecarlo", str(path), "--out", str(root / "mc"), "--workers", "1"])
    assert r.exit_code == 0, r.output
    # read as any IAMC reader would: the index columns as text, the year columns as numbers
    read = lambda f: pd.read_csv(f, dtype={c: str for c in INDEX})  # noqa: E731
    return {"run": read(root / "run.csv"), "mc": read(root / "mc" / "iamc.csv")}


def test_iam_units_has_no_yen():
    """Why the export's documentation tells how to define JPY (and the test defines it)."""
    assert "JPY" not in iam_units.registry
    assert "USD_2010" in iam_units.registry


@pytest.mark.solver
@pytest.mark.parametrize("kind", ["run", "mc"])
def test_layout_follows_the_iamc_conventions(tables, kind):
    df = tables[kind]
    assert list(df.columns) == INDEX + YEARS
    assert not df[INDEX].isna().any().any()
    assert not df.duplicated(INDEX).any()
    for var in df["variable"].unique():
        parts = var.split("|")
        assert len(parts) >= 2 and all(p and p == p.strip() for p in parts), var
        assert parts[-1] in ("National Program", "Regional Program"), var
    assert set(df["region"]) == {"Japan", "Chiba", "Aichi", "Tokyo", "Saitama"}
    assert set(df.loc[df["variable"].str.startswith("Price|"), "region"]) == {"Japan"}
    if kind == "mc":
        names = set(df["scenario"])
        assert {"case/p05", "case/p50", "case/p95"} == names  # the draws themselves stay in results.nc


@pytest.mark.solver
@pytest.mark.parametrize("kind", ["run"])
def test_japan_is_the_sum_of_the_prefectures(tables, kind):
    """(A Monte Carlo exports row-wise quantiles only, where Japan need not be the sum: documented.)"""
    df = tables[kind]
    checked = 0
    for (scenario, variable), rows in df.groupby(["scenario", "variable"]):
        if not variable.startswith(PREFECTURE_VARIABLES):
            continue
        japan = rows.loc[rows["region"] == "Japan", YEARS].to_numpy(dtype=float)
        prefectures = rows.loc[rows["region"] != "Japan", YEARS].to_numpy(dtype=float)
        assert japan.shape == (1, len(YEARS)) and len(prefectures), (scenario, variable)
        np.testing.assert_allclose(japan[0], prefectures.sum(axis=0), rtol=1e-9, atol=1e-12)
        checked += 1
    assert checked >= 8
    # by hand (batch_case): national BAU is N1 1000 + N2 500 t/yr in every year = 0.0015 Mt CO2/yr,
    # Chiba (N1) 0.001 and Aichi (N2) 0.0005
    if kind == "run":
        bau = df[df["variable"] == "Baseline Emissions|CO2|National Program"].set_index("region")[YEARS]
        np.testing.assert_allclose(bau.loc["Japan"], 0.0015, rtol=1e-12)
        np.testing.assert_allclose(bau.loc["Chiba"], 0.001, rtol=1e-12)
        np.testing.assert_allclose(bau.loc["Aichi"], 0.0005, rtol=1e-12)


@pytest.mark.solver
def test_every_unit_parses_with_the_iam_units_registry(tables):
    reg = registry()
    units = set(tables["run"]["unit"]) | set(tables["mc"]["unit"])
    assert units == {"JPY/t CO2", "Mt CO2/yr", "Mt CO2", "billion JPY/yr"}
    for unit in units:
        rest, species = split_species(unit)
        assert species in (None, "CO2"), unit
        reg.parse_units(rest)  # raises for a unit iam-units (with JPY defined) does not know


def test_conversions_pyam_makes():
    """What IamDataFrame.convert_unit computes without a factor (pyam/units.py): mass units with a
    species through iam_units.convert_gwp, the others through the registry."""
    mt = iam_units.convert_gwp(None, (1.0, "Mt /yr"), "CO2", "CO2")
    assert mt.to("t/yr").magnitude == pytest.approx(1e6)
    assert iam_units.convert_gwp(None, (2.0, "Mt"), "CO2", "CO2").to("kt").magnitude == pytest.approx(2e3)
    reg = registry()
    assert reg.Quantity(1.0, "billion JPY/yr").to("million JPY/yr").magnitude == pytest.approx(1e3)
    # a price per tonne parses (JPY/t) but pyam's species route converts masses only, as for the
    # IAMC's own USD_2010/t CO2: prices are converted with factor= (documented)
    assert reg.Quantity(1.0, "JPY/t").to("JPY/kg").magnitude == pytest.approx(1e-3)
    with pytest.raises(pint.DimensionalityError):
        iam_units.convert_gwp(None, (1.0, "USD_2010/t"), "CO2", "CO2")
