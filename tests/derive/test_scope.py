"""Market selections and splits resolved against a dataset (``nationcap/derive/scope.py``), and
the scenario checks of ``select`` / ``split_by`` (solver-free)."""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import ent, write_case

from nationcap.config import MonteCarloSpec, load_scenario
from nationcap.derive.draws import draw, entity_groups, entity_multipliers, group_labels
from nationcap.derive.scope import resolve
from nationcap.errors import InputError
from nationcap.inputs import load_dataset
from nationcap.pipeline import load

FACTOR = {"P1": {"general": 0.1}}


def case(root, markets, entities=None, offsets=None):
    entities = entities or [
        ent("A", market="regional", base=100.0, administrator="Tokyo", prefecture="Tokyo"),
        ent("B", market="regional", base=300.0, administrator="Yokohama", prefecture="Kanagawa", sector="factory_food"),
        ent("C", market="regional", base=20.0, administrator="Tokyo", prefecture="Tokyo", sector="public"),
        ent("N", market="national", base=1000.0, administrator="national", prefecture="Aichi", sector="steel"),
    ]
    return write_case(
        root,
        entities,
        {e["entity_id"]: e["base_emissions_t"] for e in entities},
        [(e["entity_id"], 1, 0.2, 1000) for e in entities],
        [("P1", 2026, 2026)],
        markets,
        offsets=offsets,
    )


def test_without_selections_nothing_changes(tmp_path):
    scn, ds = load(
        case(tmp_path, {"national": {"compliance_factor": FACTOR}, "regional": {"compliance_factor": FACTOR}})
    )
    scope = resolve(scn, ds)
    assert scope.scenario is scn and scope.dataset is ds and not scope.active
    assert len(scope.uncovered) == 0


def test_split_by_administrator_names_one_market_per_group(tmp_path):
    markets = {
        "national": {"compliance_factor": FACTOR},
        "regional": {"compliance_factor": FACTOR, "split_by": "administrator"},
    }
    path = case(tmp_path, markets)
    scn, ds = load(path)
    scope = resolve(scn, ds)
    assert list(scope.scenario.markets) == ["national", "regional/Tokyo", "regional/Yokohama"]
    assert scope.dataset.entities["market"].tolist() == [
        "regional/Tokyo",
        "regional/Yokohama",
        "regional/Tokyo",
        "national",
    ]
    assert scope.dataset.entities["dataset_market"].tolist() == ["regional"] * 3 + ["national"]
    assert scope.origin["regional/Tokyo"] == ("regional", "Tokyo")
    # each split market carries the table's rules, without select / split_by
    cfg = scope.scenario.markets["regional/Yokohama"]
    assert cfg.compliance_factor == scn.markets["regional"].compliance_factor and cfg.split_by is None
    # given the previous resolution (a session's), the same selections on the same tables give the
    # same objects (a held model can be reused); without it, or on other tables, a fresh one
    again = resolve(scn, ds, previous=scope)
    assert again is scope and again.dataset is scope.dataset
    other = load_scenario(path, ["markets.regional.compliance_factor.P1.general=0.2"])
    assert resolve(other, ds, previous=scope).dataset is scope.dataset
    assert resolve(scn, ds).dataset is not scope.dataset
    assert resolve(scn, load_dataset(scn.inputs_path, scn), previous=scope).dataset is not scope.dataset


def test_select_by_label_and_size_leaves_the_rest_uncovered(tmp_path):
    markets = {
        "national": {"compliance_factor": FACTOR},
        "tokyo": {
            "select": {"market": ["regional"], "prefecture": ["Tokyo"], "min_base_t": 50.0},
            "compliance_factor": FACTOR,
        },
    }
    scn, ds = load(case(tmp_path, markets))
    scope = resolve(scn, ds)
    assert scope.dataset.entities.index.tolist() == ["A", "N"]
    assert scope.dataset.entities["market"].tolist() == ["tokyo", "national"]
    assert scope.uncovered.index.tolist() == ["B", "C"]  # B: Kanagawa; C: below 50 t
    assert scope.uncovered_bau_t.ravel().tolist() == [300.0, 20.0]
    assert scope.entity_index.tolist() == [0, 3]
    assert set(scope.dataset.bau["entity_id"]) == {"A", "N"} and set(scope.dataset.mac["entity_id"]) == {"A", "N"}


def test_max_base_t_is_inclusive(tmp_path):
    markets = {"small": {"select": {"market": ["regional"], "max_base_t": 100.0}, "compliance_factor": FACTOR}}
    scn, ds = load(case(tmp_path, markets))
    assert resolve(scn, ds).dataset.entities.index.tolist() == ["A", "C"]


def test_every_selection_problem_in_one_report(tmp_path):
    markets = {
        "national": {"compliance_factor": FACTOR},
        "all_regional": {"select": {"market": ["regional"]}, "compliance_factor": FACTOR},
        "tokyo": {"select": {"prefecture": ["Tokyo"]}, "compliance_factor": FACTOR},
        "typo": {"select": {"administrator": ["Yokohamma"]}, "compliance_factor": FACTOR},
    }
    scn, ds = load(case(tmp_path, markets))
    with pytest.raises(InputError) as err:
        resolve(scn, ds)
    text = str(err.value)
    assert "'Yokohamma' is not a administrator" in text and "did you mean 'Yokohama'" in text
    assert "covers no entity" in text and "markets.typo" in text
    assert "selected by markets 'all_regional' and 'tokyo'" in text and "A, C" in text


def test_split_offsets_shared_by_base_emissions(tmp_path):
    markets = {
        "regional": {"compliance_factor": FACTOR, "split_by": "administrator", "use_offsets": True},
    }
    entities = [
        ent("A", market="regional", base=100.0, administrator="Tokyo"),
        ent("B", market="regional", base=300.0, administrator="Yokohama", prefecture="Kanagawa"),
    ]
    path = case(tmp_path, markets, entities, offsets=[("outside", "regional", 2026, 40.0, 500.0)])
    scn, ds = load(path)
    off = resolve(scn, ds).dataset.offsets
    assert off.set_index("market")["quantity_t"].to_dict() == pytest.approx(
        {"regional/Tokyo": 10.0, "regional/Yokohama": 30.0}
    )
    assert set(off["cost_jpy_per_t"]) == {500.0}


@pytest.mark.parametrize(
    ("markets", "link", "message"),
    [
        ({"regional/x": {}}, "", "must not contain '/'"),
        ({"regional": {"select": {"min_base_t": 10.0, "max_base_t": 5.0}}}, "", "min_base_t (10) is above max_base_t"),
        ({"regional": {"select": {"sector": []}}}, "", "an empty list selects nothing"),
        (
            {"regional": {"split_by": "administrator"}, "national": {}},
            '[link]\nmode = "full"\n',
            "link.markets names it",
        ),
    ],
)
def test_scenario_checks(tmp_path, markets, link, message):
    for cfg in markets.values():
        cfg["compliance_factor"] = FACTOR
    path = case(tmp_path, markets)
    path.write_text(path.read_text().replace("[markets.regional/x]", '[markets."regional/x"]') + "\n" + link)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_scenario(path)


def test_labels_need_not_name_markets_when_selecting(tmp_path):
    markets = {"tokyo": {"select": {"prefecture": ["Tokyo"]}, "compliance_factor": FACTOR}}
    path = case(tmp_path, markets)
    ds = load_dataset(path.parent / "data", load_scenario(path))  # no "unknown market" refusal
    assert len(ds.entities) == 4


def test_market_draws_follow_the_resolved_markets(tmp_path):
    markets = {
        "national": {"compliance_factor": FACTOR},
        "tokyo": {"select": {"market": ["regional"], "prefecture": ["Tokyo"]}, "compliance_factor": FACTOR},
    }
    scn, ds = load(case(tmp_path, markets))
    spec = MonteCarloSpec.model_validate(
        {"bau_growth": {"by": "market", "sd": 0.05}, "mac_cost": {"by": "market", "sd": 0.2}}
    )
    assert group_labels("market", scn, ds) == ["national", "tokyo"]
    assert entity_groups("market", ds, ["national", "tokyo"], scn).tolist() == [1, -1, 1, 0]
    d = draw(spec, 1, 0, scn, ds)
    bau, mac = entity_multipliers(spec, d, ds, scn)
    assert bau[1].tolist() == [1.0] and mac[1] == 1.0  # B is uncovered: its draw changes nothing
    assert mac[0] == mac[2] == d.mac_multiplier[1] and mac[3] == d.mac_multiplier[0]
    assert np.all(bau[[0, 2]] == d.bau_multiplier[1])
