"""Scenario keys that would be silently ignored, or cause messages the user did not cause.

- the scenario ``name`` names the default output folder: it must be a plain folder name;
- a ``by_year`` entry outside the model years would never be used;
- a ``[solver] highs`` option that HiGHS does not know (or a value it refuses) would be ignored;
- ``--set sweep.*`` and ``--set montecarlo.*`` change those tables of the file (they were refused
  as unknown keys), and every problem in them is reported;
- a reversed period is reported on its own, without the gap and trading-year errors that follow
  from it; the floor-above-ceiling check says how many years it does not list.
"""

from __future__ import annotations

import pytest
from casebuilder import scenario_toml

from nationcap.config import load_scenario
from nationcap.config.loading import batch_table_overrides, check_batch_tables, read_scenario_file
from nationcap.engines.highs_options import check_highs_options
from nationcap.errors import InputError

PERIODS = [("P1", 2026, 2030), ("P2", 2031, 2032)]
MARKETS = {"m": {"compliance_factor": {"P1": {"general": 0.08}, "P2": {"general": 0.15}}}}
MC = "\n[montecarlo]\ndraws = 4\nseed = 1\n[montecarlo.bau_growth]\nsd = 0.01\n"


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(scenario_toml("s", PERIODS, MARKETS, discount_rate=0.03) + MC)
    return p


def problems_of(path, overrides) -> list:
    with pytest.raises(InputError) as err:
        load_scenario(path, overrides)
    return err.value.problems


@pytest.mark.parametrize("name", ["../models", "a/b", "", ".hidden", "..", "a\\\\b"])
def test_a_name_that_is_not_a_plain_folder_name(path, name):
    (p,) = problems_of(path, [f'name="{name}"'])
    assert p.where == "key 'name'" and "not a plain name" in p.message and p.file.startswith("--set name=")


def test_plain_names_are_accepted(path):
    for name in ("baseline", "tokyo_rules-2", "P2 sweep"):
        assert load_scenario(path, [f'name="{name}"']).name == name


def test_a_by_year_entry_outside_the_model_years(path):
    (p,) = problems_of(path, ["markets.m.price_floor={ start_jpy_per_t = 1700.0, by_year = { 2040 = 5000.0 } }"])
    assert p.where == "key 'markets.m.price_floor.by_year.2040'"
    assert "FY2040 is not a model year (2026..2032)" in p.message
    load_scenario(path, ["markets.m.price_floor={ start_jpy_per_t = 1700.0, by_year = { 2031 = 5000.0 } }"])


def test_a_reversed_period_is_reported_alone(path):
    found = problems_of(path, ["periods.0.last_year=2020"])
    assert [p.message for p in found] == ["last_year 2020 is before first_year 2026"]


def test_the_band_check_counts_the_years_it_does_not_list(path):
    band = [
        "markets.m.price_floor={ start_jpy_per_t = 5000.0, growth_rate = 0.0 }",
        "markets.m.price_ceiling={ start_jpy_per_t = 4000.0, growth_rate = 0.0 }",
    ]
    text = " ".join(p.message for p in problems_of(path, band))
    assert "floor above the ceiling in FY2026, FY2027, FY2028, FY2029, FY2030 and 2 more years" in text


def test_a_highs_option_highs_does_not_know(path):
    scn = load_scenario(
        path, ['solver.highs.presolv="on"', 'solver.highs.threads="many"', "solver.highs.time_limit=5.0"]
    )
    with pytest.raises(InputError) as err:
        check_highs_options(scn)
    text = str(err.value)
    assert "key 'solver.highs.presolv'" in text and "did you mean 'presolve'?" in text
    assert "key 'solver.highs.threads'" in text and "refuses the value 'many'" in text
    assert "time_limit" not in text
    check_highs_options(load_scenario(path, ['solver.highs.presolve="on"']))


def test_set_changes_the_montecarlo_and_sweep_tables(path):
    raw, sweep, mc = read_scenario_file(path)
    rest, tables = batch_table_overrides(
        path, {"sweep": sweep, "montecarlo": mc}, ["montecarlo.draws=7", "discount_rate=0.05", 'sweep.mode="zip"']
    )
    assert rest == ("discount_rate=0.05",)
    assert tables["montecarlo"].table["draws"] == 7 and mc["draws"] == 4  # the file's table is not changed
    assert tables["sweep"].table == {"mode": "zip"}
    assert load_scenario(path, ["montecarlo.draws=7", "montecarlo.seed=3"]).name == "s"


def test_every_problem_of_the_batch_tables_is_reported(path):
    found = problems_of(path, ["montecarlo.drawz=3", "montecarlo.sede=3"])
    assert len(found) == 2
    assert {p.where for p in found} == {"key 'montecarlo.drawz'", "key 'montecarlo.sede'"}
    _, sweep, mc = read_scenario_file(path)
    _, tables = batch_table_overrides(path, {"sweep": sweep, "montecarlo": mc}, ["montecarlo.draws=0"])
    with pytest.raises(InputError):
        check_batch_tables(tables)
