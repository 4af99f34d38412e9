"""Scenario loading, ``--set`` overrides, compliance-factor fallback and scenario checks (no dataset).

The allocation formula is tested in tests/derive/test_allocation.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from casebuilder import scenario_toml, write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.config import (
    DEFAULT_HIGHS_OPTIONS,
    Scenario,
    apply_override,
    load_scenario,
    parse_override,
    scenario_from_dict,
)
from nationcap.errors import InputError

MARKETS = {
    "m": dict(banking=True, compliance_factor={"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.15}}),
    "n": dict(banking=False, borrowing=True, compliance_factor={"P1": {"general": 0.02}, "P2": {"general": 0.05}}),
}
PERIODS = [("P1", 2026, 2030), ("P2", 2031, 2032)]


@pytest.fixture
def scn_path(tmp_path) -> Path:
    """A scenario file (no dataset needed for the scenario tests)."""
    path = tmp_path / "s.toml"
    path.write_text(scenario_toml("s", PERIODS, MARKETS, discount_rate=0.03))
    return path


def problems(info) -> str:
    return "\n".join(str(p) for p in info.value.problems)


def assert_problem(err: InputError, where: str, word: str, file: str = "s.toml") -> None:
    """A problem whose file names ``file`` (a problem caused by ``--set`` names the override)."""
    hits = [p for p in err.problems if file in p.file and where in p.where and word.lower() in p.message.lower()]
    assert hits, f"no problem at {where!r} saying {word!r} in:\n{err}"


# ---------------------------------------------------------------------------------------
# a valid scenario
# ---------------------------------------------------------------------------------------


def test_load_valid_scenario(scn_path):
    scn = load_scenario(scn_path)
    assert isinstance(scn, Scenario)
    assert scn.name == "s"
    assert [p.name for p in scn.periods] == ["P1", "P2"]
    assert scn.periods[0].n_years == 5 and scn.periods[1].years == [2031, 2032]
    assert scn.years == list(range(2026, 2033))
    assert scn.first_year == 2026
    assert scn.period_of_year() == {2026: "P1", 2027: "P1", 2028: "P1", 2029: "P1", 2030: "P1", 2031: "P2", 2032: "P2"}
    assert scn.discount_factor(2026) == 1.0
    assert scn.discount_factor(2028) == pytest.approx(1 / 1.03**2)
    assert scn.discount_factor(2032) == pytest.approx(1.03**-6)
    assert scn.markets["m"].banking is True and scn.markets["m"].borrowing is False  # default
    assert scn.markets["n"].borrowing is True
    assert scn.inputs_path == (scn_path.parent / "data").resolve()


def test_resolved_lists_every_key_and_absolute_inputs(scn_path):
    scn = load_scenario(scn_path)
    d = scn.resolved()
    assert set(d) == {
        "name",
        "description",
        "inputs",
        "discount_rate",
        "periods",
        "foresight",
        "markets",
        "link",
        "overlap",
        "solver",
        "inputs_resolved",
    }
    assert d["link"]["mode"] == "none" and d["overlap"]["electricity"] == "fixed"
    assert "source" not in d
    assert d["inputs"] == "data"
    assert Path(d["inputs_resolved"]).is_absolute()
    assert Path(d["inputs_resolved"]) == (scn_path.parent / "data").resolve()
    assert d["description"] == "" and d["discount_rate"] == 0.03
    assert d["periods"][1] == {"name": "P2", "first_year": 2031, "last_year": 2032}
    market = d["markets"]["m"]
    assert {k: market[k] for k in ("banking", "borrowing", "compliance_factor")} == {
        "banking": True,
        "borrowing": False,
        "compliance_factor": {"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.15}},
    }
    # every rule key is written out, with its (off) default
    assert market["use_offsets"] is False and market["penalty_multiplier"] is None
    assert market["price_floor"] is None and market["auction_share"] == {}
    assert d["solver"]["name"] == "highs" and d["solver"]["time_limit_s"] is None
    assert d["solver"]["highs_resolved"] == DEFAULT_HIGHS_OPTIONS
    assert json.loads(scn.resolved_json()) == d


def test_solver_options_merge_over_defaults(scn_path):
    scn = load_scenario(scn_path, ["solver.highs.threads=4", "solver.time_limit_s=60"])
    opts = scn.solver.highs_options()
    assert opts["threads"] == 4 and opts["time_limit"] == 60.0 and opts["solver"] == "ipx"


def test_solver_engine_key(scn_path):
    """``[solver] engine`` names the engine (default pyomo); other names are rejected."""
    assert load_scenario(scn_path).solver.engine == "pyomo"
    assert load_scenario(scn_path, ['solver.engine="fast"']).solver.engine == "fast"
    assert load_scenario(scn_path, ['solver.engine="fast"']).resolved()["solver"]["engine"] == "fast"
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, ['solver.engine="cplex"'])
    assert_problem(info.value, "solver.engine", "fast", file="--set")


def test_inputs_relative_to_the_scenario_file_not_cwd(scn_path, monkeypatch, tmp_path):
    monkeypatch.chdir(Path("/"))
    assert load_scenario(scn_path).inputs_path == (scn_path.parent / "data").resolve()


# ---------------------------------------------------------------------------------------
# --set overrides
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, path, value",
    [
        ("a.b.c=0.1", ["a", "b", "c"], 0.1),
        (" a.b = true ", ["a", "b"], True),
        ("a=false", ["a"], False),
        ("a=3", ["a"], 3),
        ('a="quoted text"', ["a"], "quoted text"),
        ("a=plain text", ["a"], "plain text"),
        ("a=[1, 2]", ["a"], [1, 2]),
        ("a.0.b=x=y", ["a", "0", "b"], "x=y"),  # only the first '=' separates
    ],
)
def test_parse_override(text, path, value):
    assert parse_override(text) == (path, value)


@pytest.mark.parametrize("text", ["x..y=1", ".x=1", "x.=1", "=1", "no_equals_sign"])
def test_parse_override_rejects_bad_paths(text):
    with pytest.raises(ValueError):
        parse_override(text)


def test_override_into_inline_table_keeps_the_other_entries(scn_path):
    scn = load_scenario(scn_path, ["markets.m.compliance_factor.P1.general=0.1"])
    assert scn.markets["m"].compliance_factor["P1"] == {"general": 0.1, "dhc": 0.06}
    assert scn.factor("m", "P1", "general") == 0.1
    assert scn.factor("m", "P1", "dhc") == 0.06
    assert scn.resolved()["markets"]["m"]["compliance_factor"]["P1"]["general"] == 0.1


def test_override_booleans_strings_numbers(scn_path):
    scn = load_scenario(
        scn_path,
        [
            "markets.m.banking=false",
            "markets.n.borrowing=false",
            "name=other",
            'description="two words"',
            "discount_rate=0.05",
        ],
    )
    assert scn.markets["m"].banking is False and scn.markets["n"].borrowing is False
    assert scn.name == "other" and scn.description == "two words"
    assert scn.discount_rate == 0.05


def test_overrides_apply_in_order_and_do_not_touch_the_input(scn_path):
    import tomllib

    raw = tomllib.loads(scn_path.read_text())
    before = json.dumps(raw, sort_keys=True)
    scn = scenario_from_dict(raw, source=scn_path, overrides=["discount_rate=0.1", "discount_rate=0.02"])
    assert scn.discount_rate == 0.02
    assert json.dumps(raw, sort_keys=True) == before


def test_override_list_index(scn_path):
    scn = load_scenario(scn_path, ["periods.1.last_year=2035"])
    assert scn.periods[1].last_year == 2035 and scn.years[-1] == 2035


def test_override_list_index_that_creates_a_gap_is_rejected(scn_path):
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, ["periods.0.last_year=2027"])
    assert_problem(info.value, "periods.1", "gap")
    assert "2028..2030" in problems(info)


def test_override_list_index_that_creates_an_overlap_is_rejected(scn_path):
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, ["periods.1.first_year=2030"])
    assert_problem(info.value, "periods.1", "overlap", file="--set periods.1.first_year=2030")


@pytest.mark.parametrize(
    "override, word",
    [
        ("x..y=1", "dotted path"),
        ("no_equals_sign", "key.path=value"),
        ("periods.5.last_year=2040", "index 0..1"),
        ("periods.P1.last_year=2040", "index"),
        ("name.first=1", "is a value"),
    ],
)
def test_bad_override_paths_are_input_errors(scn_path, override, word):
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, [override])
    p = info.value.problems[0]
    assert p.file == f"--set {override}"
    assert word in p.message


@pytest.mark.parametrize(
    "override, key",
    [
        ("markets.m.bankng=true", "markets.m.bankng"),
        ("discount_rat=0.1", "discount_rat"),
        ("solver.threads=2", "solver.threads"),
    ],
)
def test_override_of_an_unknown_key_is_rejected(scn_path, override, key):
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, [override])
    assert_problem(info.value, f"key '{key}'", "unknown key", file=f"--set {override}")


def test_override_with_wrong_type_is_rejected(scn_path):
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, ["markets.m.banking=maybe"])
    assert_problem(info.value, "markets.m.banking", "true or false", file="--set markets.m.banking=maybe")


def test_override_through_the_cli(tmp_path):
    path = write_case(
        tmp_path,
        entities=[dict(entity_id="A", market="m", base_emissions_t=1000.0, category="dhc")],
        bau={"A": 1000.0},
        mac=[("A", 1, 0.5, 100.0)],
        periods=PERIODS,
        markets={"m": MARKETS["m"]},
    )
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", str(path), "--set", "markets.m.compliance_factor.P1.general=0.1"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["validate", str(path), "--set", "x..y=1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "--set" in bad.output and "x..y=1" in bad.output
    typo = runner.invoke(cli, ["validate", str(path), "--set", "markets.m.bankng=true"])
    assert typo.exit_code == 2 and "unknown key" in typo.output


def test_apply_override_creates_missing_tables():
    data = {"markets": {"m": {}}}
    apply_override(data, ["markets", "m", "compliance_factor", "P1", "general"], 0.2)
    assert data == {"markets": {"m": {"compliance_factor": {"P1": {"general": 0.2}}}}}


# ---------------------------------------------------------------------------------------
# scenario checks that need no dataset
# ---------------------------------------------------------------------------------------


def test_category_falls_back_to_general(scn_path):
    scn = load_scenario(scn_path)
    assert scn.factor("m", "P1", "dhc") == 0.06  # own factor
    assert scn.factor("m", "P2", "dhc") == 0.15  # no dhc in P2 -> general
    assert scn.factor("m", "P1", "hospital") == 0.08  # unknown category -> general
    assert scn.factor("n", "P1", "dhc") == 0.02


def test_missing_general_factor_is_an_error(tmp_path):
    markets = {"m": dict(compliance_factor={"P1": {"dhc": 0.06}, "P2": {"general": 0.15}})}
    path = tmp_path / "s.toml"
    path.write_text(scenario_toml("s", PERIODS, markets))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert_problem(info.value, "markets.m.compliance_factor.P1", "'general' factor is required")
    assert not any("P2" in p.where for p in info.value.problems)


def test_market_without_factors_needs_general_for_every_period(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(scenario_toml("s", PERIODS, {"m": dict(banking=True)}))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert_problem(info.value, "markets.m.compliance_factor.P1", "general")
    assert_problem(info.value, "markets.m.compliance_factor.P2", "general")


@pytest.mark.parametrize(
    "changes, where, word",
    [
        ({"discount_rate": 1.5}, "discount_rate", "[0, 1)"),
        ({"discount_rate": -0.01}, "discount_rate", "[0, 1)"),
        ({"solver": {"name": "cplex"}}, "solver.name", "highs"),
        ({"periods": []}, "periods", "at least one"),
        ({"markets": {}}, "markets", "at least one"),
        ({"periods": [{"name": "P1", "first_year": 2030, "last_year": 2026}]}, "periods.0", "before first_year"),
    ],
)
def test_scenario_value_checks(changes, where, word):
    raw = {
        "name": "s",
        "inputs": "data",
        "periods": [{"name": "P1", "first_year": 2026, "last_year": 2030}],
        "markets": {"m": {"compliance_factor": {"P1": {"general": 0.1}}}},
    }
    raw.update(changes)
    with pytest.raises(InputError) as info:
        scenario_from_dict(raw, source="s.toml")
    assert_problem(info.value, where, word)


def test_duplicate_period_names_are_an_error():
    raw = {
        "name": "s",
        "inputs": "data",
        "periods": [
            {"name": "P1", "first_year": 2026, "last_year": 2027},
            {"name": "P1", "first_year": 2028, "last_year": 2029},
        ],
        "markets": {"m": {"compliance_factor": {"P1": {"general": 0.1}}}},
    }
    with pytest.raises(InputError) as info:
        scenario_from_dict(raw, source="s.toml")
    assert_problem(info.value, "periods.1", "more than once")


def test_required_keys_are_reported():
    with pytest.raises(InputError) as info:
        scenario_from_dict({"periods": [{"name": "P1", "first_year": 2026}]}, source="s.toml")
    text = problems(info)
    for key in ("key 'name'", "key 'inputs'", "key 'markets'", "key 'periods.0.last_year'"):
        assert key in text
    assert "required key is missing" in text


def test_all_scenario_problems_are_reported_at_once(tmp_path):
    markets = {"m": dict(bankng=True, compliance_factor={"P1": {"general": 1.0}})}
    path = tmp_path / "s.toml"
    path.write_text("discount_rat = 0.1\n" + scenario_toml("s", PERIODS, markets))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    # the structural (typing) pass reports both typos together
    assert_problem(info.value, "key 'discount_rat'", "unknown key")
    assert_problem(info.value, "key 'markets.m.bankng'", "unknown key")


def test_batch_tables_are_accepted_and_checked(scn_path):
    """[sweep] / [montecarlo] belong to the batch commands: a single run accepts them, but a typo
    inside them is still an error."""
    text = scn_path.read_text()
    scn_path.write_text(text + '\n[sweep]\nmode = "grid"\nparams = { "discount_rate" = [0.02, 0.04] }\n')
    assert load_scenario(scn_path).name
    scn_path.write_text(text + '\n[sweep]\nmdoe = "grid"\nparams = { "discount_rate" = [0.02] }\n')
    with pytest.raises(InputError, match="sweep.mdoe"):
        load_scenario(scn_path)
    scn_path.write_text(text + "\n[montecarlo]\ndraws_typo = 3\n")
    with pytest.raises(InputError, match="montecarlo"):
        load_scenario(scn_path)


@pytest.mark.parametrize(
    "override, where, message",
    [
        ("markets.m.auction_share.P1=2", "markets.m.auction_share.P1", "share must be in [0, 1], got 2.0"),
        (
            "markets.m.top_level_multiplier.top=1.5",
            "markets.m.top_level_multiplier.top",
            "multiplier must be in [0, 1], got 1.5",
        ),
        ("markets.m.penalty_multiplier=0.5", "markets.m.penalty_multiplier", "must be >= 1 (e.g. 1.3), got 0.5"),
        ("markets.m.trading_from_year=0", "markets.m.trading_from_year", "must be >= 1, got 0"),
        ("link.ratio=0", "link.ratio", "must be > 0, got 0.0"),
        ("markets.m.fine_jpy=-1", "markets.m.fine_jpy", "must be >= 0, got -1.0"),
    ],
)
def test_a_number_out_of_its_bounds_names_the_range_and_the_value(scn_path, override, where, message):
    """The schema's bounds give the message: the whole range (both ends where there are two), the
    value as it was taken (an integer given for a number is that number), and an example if the
    key has one."""
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, [override])
    (p,) = info.value.problems
    assert (p.file, p.where, p.message) == (f"--set {override}", f"key '{where}'", message)


def test_bounds_do_not_hide_the_other_checks(scn_path):
    """A number out of its bounds, a mistyped value and a cross-field problem (a gap between the
    periods) are reported together; the cross-field checks see the values as given (the factor
    1.5 is reported once, by its bound)."""
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, ["markets.m.compliance_factor.P1.general=1.5", "periods.1.first_year=2032"])
    assert_problem(info.value, "markets.m.compliance_factor.P1.general", "factor must be in [0, 1), got 1.5", "--set")
    assert_problem(info.value, "periods.1", "gap", "--set")
    assert len(info.value.problems) == 2
    with pytest.raises(InputError) as info:
        load_scenario(scn_path, ["discount_rate=2", "markets.m.banking=3"])
    assert_problem(info.value, "discount_rate", "must be in [0, 1), got 2.0", "--set")
    assert_problem(info.value, "markets.m.banking", "true or false", "--set")
