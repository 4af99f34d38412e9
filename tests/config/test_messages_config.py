"""Scenario messages: ``--set`` problems are blamed on the override, typos in names are refused
with the closest known name, and a number in quotes is refused.

No test here solves an LP: the scenario is only loaded and validated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.config import load_scenario, parse_montecarlo
from nationcap.errors import InputError

REPO = Path(__file__).resolve().parents[2]

MARKETS = {
    "national": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.10}}},
    "regional": {"compliance_factor": {"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.17}}},
}


def _case(tmp_path: Path, discount_rate: float = 0.03) -> Path:
    return write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0, administrator="national"),
            dict(entity_id="R1", market="regional", base_emissions_t=50.0),
        ],
        {"N1": 100.0, "R1": 50.0},
        [("N1", 1, 0.5, 1000.0), ("R1", 1, 0.5, 2000.0)],
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        MARKETS,
        discount_rate=discount_rate,
    )


def _problems(path: Path, overrides=()) -> list:
    with pytest.raises(InputError) as info:
        load_scenario(path, overrides)
    return info.value.problems


def _cli(*args: str):
    return CliRunner().invoke(cli, ["validate", *args])


def _replace(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


# -- --set problems name the override ------------------------------------------------------


def test_market_typo_in_set_is_an_unknown_market(tmp_path):
    path = _case(tmp_path)
    (p,) = _problems(path, ["markets.regionl.banking=false"])
    assert p.file == "--set markets.regionl.banking=false"
    assert p.where == "key 'markets.regionl'"
    assert "unknown market 'regionl' (known: national, regional)" in p.message
    assert "did you mean 'regional'?" in p.message
    assert "general" not in p.message


def test_market_typo_in_set_cli(tmp_path):
    path = _case(tmp_path)
    r = _cli(str(path), "--set", "markets.regionl.banking=false")
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "1 problem in the scenario" in r.output
    assert "--set markets.regionl.banking=false, key 'markets.regionl': unknown market 'regionl' " in r.output
    assert "(known: national, regional); did you mean 'regional'?" in r.output
    assert "a 'general' factor is required" not in r.output


def test_set_value_problem_is_blamed_on_the_override_not_the_file(tmp_path):
    path = _case(tmp_path)
    (p,) = _problems(path, ["discount_rate=2"])
    assert p.file == "--set discount_rate=2"
    assert p.where == "key 'discount_rate'"
    assert "must be in [0, 1), got 2.0" in p.message
    r = _cli(str(path), "--set", "discount_rate=2")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{path}, key 'discount_rate'" not in r.output
    assert "--set discount_rate=2, key 'discount_rate': must be in [0, 1)" in r.output


def test_one_report_lists_file_and_override_problems(tmp_path):
    path = _replace(_case(tmp_path), "P2 = { general = 0.1 }", "P2 = { general = 1.5 }")
    problems = _problems(path, ["markets.regionl.banking=false", "discount_rate=2"])
    by_file = {p.file: p for p in problems}
    assert set(by_file) == {str(path), "--set markets.regionl.banking=false", "--set discount_rate=2"}
    assert by_file[str(path)].where == "key 'markets.national.compliance_factor.P2.general'"
    # a typo in a key (the schema) and a typo in a market name (the override) in one report too
    problems = _problems(path, ["markets.regionl.banking=false", "markets.regional.bankng=false"])
    # ... with the file's factor out of its bounds, which the schema finds in the same pass
    assert [p.file for p in problems] == [
        "--set markets.regionl.banking=false",
        str(path),
        "--set markets.regional.bankng=false",
    ]
    assert problems[1].where == "key 'markets.national.compliance_factor.P2.general'"
    assert "factor must be in [0, 1), got 1.5" in problems[1].message
    assert "did you mean 'banking'?" in problems[2].message


def test_problem_from_file_and_override_together_names_both(tmp_path):
    # the file names a market that does not exist in [link], harmless while the link is off;
    # --set link.mode=full makes it a problem at key link.markets, which the override does not touch
    path = _case(tmp_path)
    path.write_text(path.read_text() + '\n[link]\nmarkets = ["national", "regionl"]\n')
    assert load_scenario(path).link.markets == ("national", "regionl")
    (p,) = _problems(path, ["link.mode=full"])
    assert p.file == f"{path} with --set link.mode=full"
    assert p.where == "key 'link.markets'"
    assert "unknown market 'regionl'" in p.message and "did you mean 'regional'?" in p.message


def test_period_typo_in_set(tmp_path):
    path = _case(tmp_path)
    (p,) = _problems(path, ["markets.regional.compliance_factor.p2.general=0.2"])
    assert p.file == "--set markets.regional.compliance_factor.p2.general=0.2"
    assert "unknown period 'p2' (known: P1, P2); did you mean 'P2'?" in p.message


def test_set_still_changes_what_the_file_defines(tmp_path):
    path = _case(tmp_path)
    scn = load_scenario(
        path,
        [
            "markets.regional.compliance_factor.P1.general=0.1",
            "markets.regional.compliance_factor.P2.dhc=0.15",  # a new category is fine
            "markets.national.banking=false",
            "name=baseline2",  # a bare word is a string
        ],
    )
    assert scn.factor("regional", "P1", "general") == 0.1
    assert scn.factor("regional", "P2", "dhc") == 0.15
    assert scn.markets["national"].banking is False
    assert scn.name == "baseline2"


# -- strict numbers ------------------------------------------------------------------------


def test_number_in_quotes_is_refused_for_a_factor(tmp_path):
    path = _replace(_case(tmp_path), "general = 0.08", 'general = "0.08"')
    (p,) = _problems(path)
    assert p.file == str(path)
    assert p.where == "key 'markets.regional.compliance_factor.P1.general'"
    assert 'a number is expected, got the text "0.08"; write it without quotes: general = 0.08' in p.message
    r = _cli(str(path))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "key 'markets.regional.compliance_factor.P1.general': a number is expected" in r.output


def test_number_in_quotes_is_refused_for_the_discount_rate(tmp_path):
    path = _replace(_case(tmp_path), "discount_rate = 0.03", 'discount_rate = "0.03"')
    (p,) = _problems(path)
    assert p.where == "key 'discount_rate'"
    assert "a number is expected" in p.message and "without quotes: discount_rate = 0.03" in p.message
    r = _cli(str(path))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "key 'discount_rate': a number is expected" in r.output


def test_number_in_quotes_given_with_set_names_the_override(tmp_path):
    path = _case(tmp_path)
    (p,) = _problems(path, ['markets.regional.compliance_factor.P1.general="0.1"'])
    assert p.file == '--set markets.regional.compliance_factor.P1.general="0.1"'
    assert "a number is expected" in p.message
    r = _cli(str(path), "--set", 'discount_rate="0.03"')
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "--set discount_rate=\"0.03\", key 'discount_rate': a number is expected" in r.output


def test_integers_are_numbers(tmp_path):
    path = _case(tmp_path)
    path.write_text(
        path.read_text()
        .replace("discount_rate = 0.03", "discount_rate = 0")
        .replace("[markets.national]", "[markets.national]\nfine_jpy = 500000\npenalty_multiplier = 2")
        + "\n[link]\nmode = 'full'\nratio = 1\nmarkets = ['national', 'regional']\n"
        + "\n[solver]\ntime_limit_s = 60\n"
    )
    scn = load_scenario(path, ["markets.regional.compliance_factor.P1.general=0"])
    assert scn.discount_rate == 0.0 and isinstance(scn.discount_rate, float)
    assert scn.markets["national"].fine_jpy == 500000.0
    assert scn.markets["national"].penalty_multiplier == 2.0
    assert scn.link.ratio == 1.0
    assert scn.link.markets == ("national", "regional")  # a TOML list for a tuple field
    assert scn.solver.time_limit_s == 60.0
    assert scn.factor("regional", "P1", "general") == 0.0


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("discount_rate = 0.03", "discount_rate = true", "discount_rate", "a number is expected, got true"),
        ("first_year = 2026", 'first_year = "2026"', "periods.0.first_year", "a whole number is expected"),
        ("first_year = 2026", "first_year = 2026.0", "periods.0.first_year", "write first_year = 2026"),
        ("[markets.national]", "[markets.national]\nbanking = 1", "markets.national.banking", "true or false"),
        ("[markets.national]", '[markets.national]\nbanking = "false"', "markets.national.banking", "true or false"),
    ],
)
def test_other_values_of_the_wrong_type_are_refused(tmp_path, old, new, key, expected):
    path = _replace(_case(tmp_path), old, new)
    (p,) = _problems(path)
    assert p.where == f"key '{key}'"
    assert expected in p.message


def test_number_in_quotes_is_refused_in_montecarlo():
    with pytest.raises(InputError) as info:
        parse_montecarlo({"bau_growth": {"sd": "0.01"}}, "f.toml")
    (p,) = info.value.problems
    assert p.where == "key 'montecarlo.bau_growth.sd'"
    assert "a number is expected" in p.message and "without quotes: sd = 0.01" in p.message
    assert parse_montecarlo({"draws": 2, "bau_growth": {"sd": 0}}, "f.toml").bau_growth.sd == 0.0


def test_montecarlo_typo_suggests_the_key():
    with pytest.raises(InputError) as info:
        parse_montecarlo({"bau_growth": {"sdd": 0.1}}, "f.toml")
    assert any("did you mean 'sd'?" in p.message for p in info.value.problems)


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "models").glob("*.toml")))
def test_shipped_scenarios_still_load(name):
    # every shipped scenario writes its numbers without quotes and its lists for tuple fields
    scn = load_scenario(REPO / "models" / name)
    assert scn.markets
