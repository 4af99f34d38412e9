"""Scenario keys whose names come from the data are checked against the data.

A compliance-factor category that no entity of the market has, an offset type that offsets.csv
does not offer to the market, or a power-sector prefix that no sector of the supplier market
starts with would apply to nothing: the run would silently use other values (the fallback
``general`` factor, no offset limit). They are refused with exit code 2, the names that exist and
the closest one, whether they come from the scenario file, a ``--set`` (reported against that
``--set``) or a swept ``--param`` (the sweep is refused before anything is solved or written).
"""

from __future__ import annotations

import pytest
from casebuilder import ent, write_case
from click.testing import CliRunner

from nationcap.cli import EXIT_INPUT, cli
from nationcap.errors import InputError
from nationcap.pipeline import load

PERIODS = [("P1", 2026, 2027)]
FACTORS = {"P1": {"general": 0.1, "dhc": 0.05}}


def make_case(root, regional: dict | None = None, overlap: str = ""):
    """Two markets: national (N1 power, N2 steel; general) and regional (R1 general, R2 dhc);
    offsets.csv offers 'outside' to regional and 'jcredit' to national."""
    path = write_case(
        root,
        [
            ent("N1", market="national", base=1000.0, sector="power_coal"),
            ent("N2", market="national", base=500.0, sector="steel"),
            ent("R1", market="regional", base=100.0, sector="office"),
            ent("R2", market="regional", base=80.0, sector="office", category="dhc"),
        ],
        {"N1": 1000.0, "N2": 500.0, "R1": 100.0, "R2": 80.0},
        [(e, 1, 0.5, 1000.0) for e in ("N1", "N2", "R1", "R2")],
        PERIODS,
        {
            "national": {"compliance_factor": {"P1": {"general": 0.1}}},
            "regional": regional or {"compliance_factor": FACTORS},
        },
        offsets=[("outside", "regional", 2026, 10.0, 500.0), ("jcredit", "national", 2026, 10.0, 400.0)],
    )
    if overlap:
        path.write_text(path.read_text() + "\n" + overlap)
    return path


def problems_of(path, overrides=()) -> str:
    with pytest.raises(InputError) as err:
        load(path, overrides)
    return str(err.value)


def test_names_that_the_data_has_are_accepted(tmp_path):
    regional = {"compliance_factor": FACTORS, "use_offsets": True, "offsets": {"outside": {"limit_fraction": 0.1}}}
    coupled = '[overlap]\nelectricity = "coupled"\npower_sector_prefix = "power"\n'
    scn, ds = load(make_case(tmp_path, regional, coupled))
    assert set(scn.markets["regional"].offsets) == {"outside"}


def test_a_misspelt_category_in_the_file(tmp_path):
    path = make_case(tmp_path, {"compliance_factor": {"P1": {"general": 0.1, "dhcc": 0.05}}})
    text = problems_of(path)
    assert "key 'markets.regional.compliance_factor.P1.dhcc'" in text
    assert "no entity of market 'regional' has category 'dhcc'" in text and "dhc, general" in text
    assert "did you mean 'dhc'?" in text


def test_a_category_of_another_market_only(tmp_path):
    """national has no dhc entity: its dhc factor would apply to nothing."""
    path = make_case(tmp_path)
    res = CliRunner().invoke(cli, ["validate", str(path), "--set", "markets.national.compliance_factor.P1.dhc=0.05"])
    assert res.exit_code == EXIT_INPUT
    assert "no entity of market 'national' has category 'dhc'" in res.output
    assert "--set markets.national.compliance_factor.P1.dhc=0.05, key" in res.output


def test_a_misspelt_offset_type(tmp_path):
    regional = {"compliance_factor": FACTORS, "use_offsets": True, "offsets": {"outsde": {"limit_fraction": 0.01}}}
    text = problems_of(make_case(tmp_path, regional))
    assert "key 'markets.regional.offsets.outsde'" in text
    assert "offsets.csv has no offset type 'outsde' for market 'regional'" in text and "it offers outside" in text
    assert "did you mean 'outside'?" in text


def test_an_offset_type_of_another_market_only(tmp_path):
    regional = {"compliance_factor": FACTORS, "use_offsets": True, "offsets": {"jcredit": {"limit_fraction": 0.01}}}
    text = problems_of(make_case(tmp_path, regional))
    assert "no offset type 'jcredit' for market 'regional'" in text and "it offers outside" in text


def test_a_power_sector_prefix_no_sector_starts_with(tmp_path):
    coupled = '[overlap]\nelectricity = "coupled"\npower_sector_prefix = "powr"\n'
    text = problems_of(make_case(tmp_path, overlap=coupled))
    assert "key 'overlap.power_sector_prefix'" in text and "no sector of market 'national' starts with 'powr'" in text


def test_every_problem_in_one_report(tmp_path):
    regional = {
        "compliance_factor": {"P1": {"general": 0.1, "generl": 0.2}},
        "use_offsets": True,
        "offsets": {"outsde": {"limit_fraction": 0.01}},
    }
    text = problems_of(make_case(tmp_path, regional))
    assert text.startswith("2 problems") and "'generl'" in text and "'outsde'" in text


def test_cli_run_with_a_misspelt_set_is_2_and_writes_nothing(tmp_path):
    path = make_case(tmp_path / "case")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["run", str(path), "--out", str(out), "--set", "markets.regional.compliance_factor.P1.generl=0.2"]
    )
    assert res.exit_code == EXIT_INPUT, res.output
    assert "Traceback" not in res.output
    assert "--set markets.regional.compliance_factor.P1.generl=0.2, key" in res.output
    assert "did you mean 'general'?" in res.output
    assert not out.exists()


def test_cli_validate_reports_a_selection_typo_against_its_set(tmp_path):
    path = make_case(tmp_path)
    res = CliRunner().invoke(cli, ["validate", str(path), "--set", 'markets.regional.select.sector=["offce"]'])
    assert res.exit_code == EXIT_INPUT, res.output
    assert "--set markets.regional.select.sector=" in res.output and "did you mean 'office'?" in res.output


def test_a_sweep_over_a_misspelt_key_is_refused_before_solving(tmp_path):
    path = make_case(tmp_path / "case")
    out = tmp_path / "sw"
    key = "markets.regional.compliance_factor.P1.generl"
    res = CliRunner().invoke(cli, ["sweep", str(path), "--param", key, "--values", "0.1,0.2", "--out", str(out)])
    assert res.exit_code == EXIT_INPUT, res.output
    assert f"--param {key}, key '{key}'" in res.output and "did you mean 'general'?" in res.output
    assert res.output.count("no entity of market") == 1  # one problem, not one per sweep point
    assert not out.exists()
