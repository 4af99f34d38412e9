"""Scenario messages: a number in quotes is refused (issue 11, item 13).

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

REPO = Path(__file__).resolve().parents[1]

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


# -- item 13: strict numbers ------------------------------------------------------------------


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
