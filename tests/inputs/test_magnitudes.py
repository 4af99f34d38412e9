"""Implausible magnitudes and non-finite numbers are refused with exit 2.

Before: with base and BAU emissions of 1e30 t the Pyomo engine crashed (``IndexError`` inside
Pyomo's dual loader, exit 1: HiGHS takes bounds >= 1e20 as infinite) and the merit-order engine
exited 0 with emissions above the cap. Now ``nationcap/inputs/tables.py`` bounds emissions of one
entity and offset quantities at 1e9 t (Japan's national total is about 1e9 t CO2/yr:
1,310 Mt in FY2013, 969.6 Mt in FY2024, ``inputs/japan/README.md``) and costs at +/-1e7 JPY/t,
reports non-finite numbers as such, and ``nationcap/model/prepare.py`` checks the derived arrays
again before any solver sees them. Every problem is reported at once, naming file, row, column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.errors import InputError
from nationcap.model import prepare
from nationcap.pipeline import load

REPO = Path(__file__).resolve().parents[2]


def small_case(tmp_path: Path, extra_markets: dict | None = None) -> Path:
    f = {"P1": {"general": 0.1}}
    return write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0),
            dict(entity_id="R1", market="regional", base_emissions_t=50.0),
        ],
        {"N1": 100.0, "R1": 50.0},
        [("N1", 1, 0.3, 1000.0), ("R1", 1, 0.3, 2000.0)],
        [("P1", 2026, 2027)],
        {"national": {"compliance_factor": f, **(extra_markets or {})}, "regional": {"compliance_factor": f}},
        offsets=[("outside", "national", 2026, 10.0, 1500.0)],
    )


def set_cell(path: Path, file: str, row: int, column: str, value: str) -> None:
    """Set the cell of CSV line ``row`` (header = line 1) to the text ``value``."""
    csv = path.parent / "data" / file
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    df.loc[row - 2, column] = value
    df.to_csv(csv, index=False)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_names(output: str, *parts: tuple[str, str, str]) -> None:
    for file, row, column in parts:
        assert any(file in line and row in line and f"column '{column}'" in line for line in output.splitlines()), (
            file,
            row,
            column,
            output,
        )


def test_1e30_emissions_are_refused_by_validate_and_by_run_on_every_engine(tmp_path):
    path = small_case(tmp_path)
    set_cell(path, "entities.csv", 2, "base_emissions_t", "1e30")
    set_cell(path, "bau.csv", 2, "bau_emissions_t", "1e30")
    set_cell(path, "bau.csv", 3, "bau_emissions_t", "1e30")
    expected = [
        ("entities.csv", "row 2 (entity_id N1)", "base_emissions_t"),
        ("bau.csv", "row 2 (entity_id N1)", "bau_emissions_t"),
        ("bau.csv", "row 3 (entity_id N1)", "bau_emissions_t"),
    ]
    out = invoke("validate", path)
    assert out.exit_code == 2, out.output
    assert_names(out.output, *expected)
    assert "above 1e+09 t CO2/yr" in out.output and "inputs/japan/README.md" in out.output
    for engine in ("pyomo", "fast"):
        out = invoke("run", path, "--out", tmp_path / f"out_{engine}", "--engine", engine)
        assert out.exit_code == 2, (engine, out.output)
        assert_names(out.output, *expected)
        assert "Traceback" not in out.output
        assert not (tmp_path / f"out_{engine}").exists()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "1e400"])
def test_non_finite_numbers_are_reported_as_such(tmp_path, value):
    path = small_case(tmp_path)
    set_cell(path, "bau.csv", 4, "bau_emissions_t", value)
    for args in (("validate", path), ("run", path, "--out", tmp_path / "out")):
        out = invoke(*args)
        assert out.exit_code == 2, out.output
        assert_names(out.output, ("bau.csv", "row 4 (entity_id R1)", "bau_emissions_t"))
        assert "non-finite number" in out.output and "expected a finite number" in out.output


def test_every_problem_is_reported_at_once(tmp_path):
    """Implausible, non-finite and non-numeric cells in four files: one report, exit 2."""
    path = small_case(tmp_path)
    set_cell(path, "entities.csv", 3, "base_emissions_t", "2e9")
    set_cell(path, "bau.csv", 2, "bau_emissions_t", "inf")
    set_cell(path, "mac.csv", 2, "cost_jpy_per_t", "-3e7")
    set_cell(path, "mac.csv", 3, "cost_jpy_per_t", "abc")
    set_cell(path, "offsets.csv", 2, "quantity_t", "5e9")
    set_cell(path, "offsets.csv", 2, "cost_jpy_per_t", "nan")
    out = invoke("validate", path)
    assert out.exit_code == 2, out.output
    assert "6 problems" in out.output
    assert_names(
        out.output,
        ("entities.csv", "row 3 (entity_id R1)", "base_emissions_t"),
        ("bau.csv", "row 2 (entity_id N1)", "bau_emissions_t"),
        ("mac.csv", "row 2 (entity_id N1)", "cost_jpy_per_t"),
        ("mac.csv", "row 3 (entity_id R1)", "cost_jpy_per_t"),
        ("offsets.csv", "row 2", "quantity_t"),
        ("offsets.csv", "row 2", "cost_jpy_per_t"),
    )
    assert "below -1e+07 JPY/t CO2" in out.output and "not a number; expected a number" in out.output


def test_values_at_the_bounds_are_accepted(tmp_path):
    path = small_case(tmp_path)
    set_cell(path, "mac.csv", 2, "cost_jpy_per_t", "1e7")
    set_cell(path, "mac.csv", 3, "cost_jpy_per_t", "-1e7")
    set_cell(path, "offsets.csv", 2, "quantity_t", "1e9")
    out = invoke("validate", path)
    assert out.exit_code == 0, out.output


def test_scenario_numbers_must_be_finite_and_prices_plausible(tmp_path):
    """TOML allows inf and nan; a growth rate can overflow a price path (1,000 x 10^6 per year)."""
    path = small_case(
        tmp_path,
        {
            "price_ceiling": {"start_jpy_per_t": 1000.0, "growth_rate": 1e6},
            "external": {"price": {"start_jpy_per_t": 5000.0}, "limit_share": 0.1},
        },
    )
    text = path.read_text().replace("limit_share = 0.1", "limit_share = nan")
    path.write_text(text + '\n[link]\nmode = "limited"\nratio = inf\n')
    out = invoke("validate", path)
    assert out.exit_code == 2, out.output
    assert "key 'link.ratio': non-finite number (inf)" in out.output
    assert "key 'markets.national.external.limit_share': non-finite number (nan)" in out.output
    assert "key 'markets.national.price_ceiling'" in out.output and "FY2027" in out.output


def test_derived_values_are_checked_before_the_solve(tmp_path):
    """The tables passed, but a value derived from them (here BAU changed after loading, as a
    Monte Carlo draw does) is absurd: prepare refuses it, naming file, entity and column."""
    scn, ds = load(small_case(tmp_path))
    ds.bau.loc[ds.bau["entity_id"] == "R1", "bau_emissions_t"] = 1e30
    ds.mac.loc[ds.mac["entity_id"] == "N1", "cost_jpy_per_t"] = float("inf")
    with pytest.raises(InputError) as info:
        prepare(scn, ds)
    got = {(Path(p.file).name, p.where, p.column) for p in info.value.problems}
    assert got == {("bau.csv", "entity_id R1", "bau_emissions_t"), ("mac.csv", "entity_id N1", "cost_jpy_per_t")}


@pytest.mark.integration
def test_the_shipped_dataset_still_validates():
    """inputs/japan (full scale) is within every bound above."""
    out = invoke("validate", REPO / "models" / "baseline.toml")
    assert out.exit_code == 0, out.output
