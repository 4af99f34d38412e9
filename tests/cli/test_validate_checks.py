"""`nationcap validate` runs the pre-solve feasibility diagnosis of `run` (an infeasible cap exits 3,
named as `run` names it), says what only a solve can decide, and notes covered entities without
MAC rows and compliance-factor categories that no covered entity has."""

from __future__ import annotations

import pytest
from casebuilder import ent, write_case
from click.testing import CliRunner

from nationcap.cli import cli

pytestmark = pytest.mark.solver  # builds the model data (no solve)


def case(tmp_path, factor: float, markets: dict | None = None, entities=None, mac=None):
    """Market m: A (base = BAU = 100 t, administrator Tokyo) with one step of 20 t, B (base = BAU =
    100 t, administrator Osaka) with one step of 40 t. At factor f the cap of FY2026 is
    200 (1 - f) t: 60 t of abatement exist, so f = 0.2 needs 40 t (met) and f = 0.5 needs 100 t
    (40 t short)."""
    entities = entities or [ent("A", administrator="Tokyo"), ent("B", administrator="Osaka")]
    return write_case(
        tmp_path,
        entities,
        {e["entity_id"]: 100.0 for e in entities},
        mac if mac is not None else [("A", 1, 0.2, 1000.0), ("B", 1, 0.4, 2000.0)],
        [("P1", 2026, 2026)],
        markets or {"m": {"compliance_factor": {"P1": {"general": factor}}}},
    )


def validate(path, *args):
    return CliRunner().invoke(cli, ["validate", str(path), *args])


def test_a_feasible_scenario_says_what_was_and_was_not_checked(tmp_path):
    r = validate(case(tmp_path, 0.2))
    assert r.exit_code == 0, r.output
    assert "Feasibility (checked before any solve)" in r.output
    assert "Not checked (only a solve decides)" in r.output
    assert r.output.rstrip().endswith("OK: scenario and dataset are valid.")


def test_an_infeasible_cap_is_refused_as_run_refuses_it(tmp_path):
    """f = 0.5: 100 t needed, 60 t possible: 40 t short in P1; exit 3, no OK."""
    path = case(tmp_path, 0.5)
    r = validate(path)
    assert r.exit_code == 3, r.output
    assert "market 'm', period P1" in r.output and "40 t short" in r.output
    assert "loosen markets.m.compliance_factor.P1" in r.output
    assert "OK" not in r.output and "Traceback" not in r.output
    assert "BAU and cap by market and period" in r.output  # the summary is printed first
    run = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 3 and "40 t short" in run.output
    assert not (tmp_path / "out").exists()


def test_an_override_that_makes_a_cap_infeasible(tmp_path):
    r = validate(case(tmp_path, 0.2), "--set", "markets.m.compliance_factor.P1.general=0.5")
    assert r.exit_code == 3 and "40 t short" in r.output


def test_a_split_market_names_the_key_of_its_table(tmp_path):
    """Split by administrator: m/Tokyo holds A (needs 50 t at f = 0.5, 20 t possible: 30 t short),
    m/Osaka holds B (needs 50 t, 40 t possible: 10 t short). The hint names the key that exists,
    markets.m.compliance_factor.P1, never markets.m/Tokyo...."""
    path = case(tmp_path, 0.5, {"m": {"compliance_factor": {"P1": {"general": 0.5}}, "split_by": "administrator"}})
    r = validate(path)
    assert r.exit_code == 3, r.output
    assert "market 'm/Tokyo', period P1" in r.output and "30 t short" in r.output
    assert "market 'm/Osaka', period P1" in r.output and "10 t short" in r.output
    assert "loosen markets.m.compliance_factor.P1 (the key of table 'm', which 'm/Tokyo' is split from" in r.output
    assert "markets.m/" not in r.output


def test_banking_hint_names_the_key_of_the_table(tmp_path):
    """Two one-year periods without banking, split by administrator: m/Tokyo (A, 20 t of steps a
    year) needs 0 t in P1 and 30 t in P2 at factors 0 and 0.3: 10 t short in P2, and banking 20 t
    from P1 would meet it; the hint is markets.m.banking."""
    path = write_case(
        tmp_path,
        [ent("A", administrator="Tokyo"), ent("B", administrator="Osaka")],
        {"A": 100.0, "B": 100.0},
        [("A", 1, 0.2, 1000.0), ("B", 1, 0.4, 2000.0)],
        [("P1", 2026, 2026), ("P2", 2027, 2027)],
        {
            "m": {
                "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.3}},
                "split_by": "administrator",
                "banking": False,
            }
        },
    )
    r = validate(path)
    assert r.exit_code == 3, r.output
    assert "market 'm/Tokyo', period P2" in r.output and "10 t short" in r.output
    assert "turn banking on (markets.m.banking = true" in r.output
    assert "'m/Osaka'" not in r.output  # 40 t a year: it meets 30 t alone


def test_note_for_entities_without_mac_rows(tmp_path):
    """B has no row in mac.csv: it cannot abate (a note, not an error); A abates 20 t, enough
    for f = 0.1 (20 t needed)."""
    r = validate(case(tmp_path, 0.1, mac=[("A", 1, 0.2, 1000.0)]))
    assert r.exit_code == 0, r.output
    assert "note: 1 entity of market 'm' has no row in mac.csv and cannot abate" in r.output
    assert ": B\n" in r.output


def test_note_for_a_category_no_covered_entity_has(tmp_path):
    """Category dhc exists in entities.csv (entity C of market n) but not among the entities of m,
    so markets.m.compliance_factor.P1.dhc applies to no one: a note naming where dhc is."""
    entities = [ent("A"), ent("B"), ent("C", market="n", category="dhc")]
    mac = [("A", 1, 0.2, 1000.0), ("B", 1, 0.4, 2000.0), ("C", 1, 0.5, 500.0)]
    markets = {
        "m": {"compliance_factor": {"P1": {"general": 0.2, "dhc": 0.1}}},
        "n": {"compliance_factor": {"P1": {"general": 0.1, "dhc": 0.1}}},
    }
    r = validate(case(tmp_path, 0.2, markets, entities=entities, mac=mac))
    assert r.exit_code == 0, r.output
    assert (
        "note: markets.m.compliance_factor sets category 'dhc', but no entity the market covers has it "
        "(1 entity of entities.csv has it: 1 in other markets): that factor applies to no one"
    ) in r.output
    assert "markets.n.compliance_factor sets" not in r.output  # C is in n


def test_note_for_a_category_held_only_by_uncovered_entities(tmp_path):
    """m selects administrator Tokyo only: A is covered, B (category dhc, Osaka) is uncovered, so
    m's dhc factor applies to no one."""
    entities = [ent("A", administrator="Tokyo"), ent("B", administrator="Osaka", category="dhc")]
    markets = {
        "m": {
            "compliance_factor": {"P1": {"general": 0.1, "dhc": 0.05}},
            "select": {"administrator": ["Tokyo"]},
        }
    }
    r = validate(case(tmp_path, 0.1, markets, entities=entities))
    assert r.exit_code == 0, r.output
    assert "category 'dhc', but no entity the market covers has it" in r.output
    assert "(1 entity of entities.csv has it: 1 uncovered)" in r.output
