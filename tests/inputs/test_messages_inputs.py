"""Dataset messages: an entities.csv without rows, missing columns (what was expected and what was
found, with the near match), a ';'-separated file and a file that is not UTF-8.

No test here solves an LP: the dataset is only loaded and validated.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.errors import InputError
from nationcap.inputs import load_dataset


def _case(tmp_path: Path) -> Path:
    # 2 entities x 4 model years: bau.csv has 8 rows and mac.csv 4, all naming N1 / R1
    return write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0, administrator="national"),
            dict(entity_id="R1", market="regional", base_emissions_t=50.0),
        ],
        {"N1": 100.0, "R1": 50.0},
        [("N1", 1, 0.2, 1000.0), ("N1", 2, 0.2, 3000.0), ("R1", 1, 0.5, 2000.0), ("R1", 2, 0.1, 4000.0)],
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.10}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.10}}},
        },
    )


def _problems(scenario: Path) -> list:
    scn = load_scenario(scenario)
    with pytest.raises(InputError) as info:
        load_dataset(scn.inputs_path, scn)
    return info.value.problems


def _entities(tmp_path: Path) -> Path:
    return tmp_path / "data" / "entities.csv"


def test_header_only_entities_is_one_problem(tmp_path):
    path = _case(tmp_path)
    ent = _entities(tmp_path)
    ent.write_text(ent.read_text().splitlines()[0] + "\n")
    problems = _problems(path)
    # without the fix: 8 unknown ids in bau.csv and 4 in mac.csv as well
    assert len(problems) == 1
    (p,) = problems
    assert p.file == str(ent)
    assert "entities.csv has no rows" in p.message
    assert "add one row per covered entity" in p.message
    r = CliRunner().invoke(cli, ["validate", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "unknown entity_id" not in r.output
    assert "1 problem in the dataset" in r.output


def test_header_only_bau_is_one_problem(tmp_path):
    path = _case(tmp_path)
    bau = tmp_path / "data" / "bau.csv"
    bau.write_text("entity_id,year,bau_emissions_t\n")
    (p,) = _problems(path)
    assert p.file == str(bau)
    assert "bau.csv has no rows" in p.message


def test_empty_file_says_it_needs_a_header(tmp_path):
    path = _case(tmp_path)
    _entities(tmp_path).write_text("")
    (p,) = _problems(path)
    assert p.file == str(_entities(tmp_path))
    assert "the file is empty; it needs a header line (entity_id,market," in p.message


def test_missing_column_shows_expected_and_found_with_the_case_fix(tmp_path):
    path = _case(tmp_path)
    ent = _entities(tmp_path)
    lines = ent.read_text().splitlines()
    ent.write_text("\n".join([lines[0].replace("entity_id", "Entity_ID"), *lines[1:]]) + "\n")
    (p,) = _problems(path)
    assert p.file == str(ent)
    assert p.where == "header"
    assert p.column == "entity_id"
    assert "found 'Entity_ID'" in p.message
    assert "rename it to 'entity_id'" in p.message
    assert "expected the columns ['entity_id', 'market'," in p.message
    assert "found ['Entity_ID', 'market'," in p.message


def test_missing_column_with_a_typo_and_without_a_match(tmp_path):
    path = _case(tmp_path)
    mac = tmp_path / "data" / "mac.csv"
    lines = mac.read_text().splitlines()
    header = lines[0].replace("abatement_share", "abatement_shares").replace("cost_jpy_per_t", "price")
    mac.write_text("\n".join([header, *lines[1:]]) + "\n")
    problems = {p.column: p for p in _problems(path)}
    assert set(problems) == {"abatement_share", "cost_jpy_per_t"}
    assert "found 'abatement_shares': a typo? rename it to 'abatement_share'" in problems["abatement_share"].message
    # no near match for cost_jpy_per_t: both lists, no guess
    msg = problems["cost_jpy_per_t"].message
    assert "rename" not in msg
    assert "expected the columns ['entity_id', 'step', 'abatement_share', 'cost_jpy_per_t']" in msg
    assert "found ['entity_id', 'step', 'abatement_shares', 'price']" in msg


def test_semicolon_separated_file(tmp_path):
    path = _case(tmp_path)
    ent = _entities(tmp_path)
    df = pd.read_csv(ent)
    df.to_csv(ent, sep=";", index=False)
    (p,) = _problems(path)
    assert p.file == str(ent)
    assert "the file seems to be separated by ';'" in p.message
    assert "use commas" in p.message
    r = CliRunner().invoke(cli, ["validate", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "separated by ';'" in r.output


def test_shift_jis_file_gets_the_fix(tmp_path):
    path = _case(tmp_path)
    ent = _entities(tmp_path)
    df = pd.read_csv(ent)
    df.loc[1, "name"] = "東京本社ビル"  # row 2 of the data: line 3 of the file (header = line 1)
    df.to_csv(ent, index=False, encoding="cp932")
    (p,) = _problems(path)
    assert p.file == str(ent)
    assert p.where == "line 3"
    assert "not UTF-8" in p.message
    assert "Shift-JIS" in p.message
    assert "save entities.csv as UTF-8" in p.message
    r = CliRunner().invoke(cli, ["validate", str(path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "save entities.csv as UTF-8" in r.output


def test_utf8_with_japanese_text_is_fine(tmp_path):
    path = _case(tmp_path)
    ent = _entities(tmp_path)
    df = pd.read_csv(ent)
    df.loc[1, "name"] = "東京本社ビル"
    df.to_csv(ent, index=False, encoding="utf-8-sig")  # Excel's "CSV UTF-8" writes a byte-order mark
    scn = load_scenario(path)
    ds = load_dataset(scn.inputs_path, scn)
    assert ds.entities.loc["R1", "name"] == "東京本社ビル"
