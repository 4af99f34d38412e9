"""Allocation, compliance factors and caps from a scenario and its tables (no solver).

allocation = base x (1 - factor) x years in period; cap = sum over the market. The solved
consequences of these rules are hand cases in tests/model/.
"""

from __future__ import annotations

import pandas as pd
import pytest
from casebuilder import ent, write_case

from nationcap.config import load_scenario
from nationcap.derive.allocation import allocation_t, base_emissions, caps_t, compliance_factors
from nationcap.errors import InputError
from nationcap.inputs import load_dataset

MARKETS = {
    "m": dict(banking=True, compliance_factor={"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.15}}),
    "n": dict(banking=False, borrowing=True, compliance_factor={"P1": {"general": 0.02}, "P2": {"general": 0.05}}),
}
PERIODS = [("P1", 2026, 2030), ("P2", 2031, 2032)]


@pytest.fixture
def alloc_case(tmp_path):
    markets = {
        "m": MARKETS["m"],
        "n": dict(compliance_factor={"P1": {"general": 0.02}, "P2": {"general": 0.05}}),
        "empty": dict(compliance_factor={"P1": {"general": 0.1}, "P2": {"general": 0.1}}),
    }
    path = write_case(
        tmp_path,
        entities=[
            dict(entity_id="A", market="m", base_emissions_t=1000.0),
            dict(entity_id="B", market="m", base_emissions_t=500.0, category="dhc"),
            dict(entity_id="C", market="n", base_emissions_t=2000.0, category="dhc"),
        ],
        bau={"A": 1000.0, "B": 500.0, "C": 2000.0},
        mac=[("A", 1, 0.5, 100.0)],
        periods=PERIODS,  # P1 = 5 years, P2 = 2 years
        markets=markets,
    )
    scn = load_scenario(path)
    return scn, load_dataset(scn.inputs_path, scn)


def test_allocation_hand_computed(alloc_case):
    scn, ds = alloc_case
    alloc = allocation_t(scn, ds)
    assert list(alloc.index) == ["A", "B", "C"] and list(alloc.columns) == ["P1", "P2"]
    assert alloc.loc["A", "P1"] == pytest.approx(4600.0)  # 1,000 t x (1 - 0.08) x 5 years
    assert alloc.loc["B", "P1"] == pytest.approx(2350.0)  # dhc: 500 x (1 - 0.06) x 5
    assert alloc.loc["A", "P2"] == pytest.approx(1700.0)  # 1,000 x (1 - 0.15) x 2
    assert alloc.loc["B", "P2"] == pytest.approx(850.0)  # no dhc factor in P2 -> general 0.15
    assert alloc.loc["C", "P1"] == pytest.approx(9800.0)  # market n has no dhc -> general 0.02
    assert alloc.loc["C", "P2"] == pytest.approx(3800.0)


def test_compliance_factors_per_entity(alloc_case):
    scn, ds = alloc_case
    f = compliance_factors(scn, ds)
    assert f.loc["A"].tolist() == [0.08, 0.15]
    assert f.loc["B"].tolist() == [0.06, 0.15]
    assert f.loc["C"].tolist() == [0.02, 0.05]


def test_caps_are_market_sums_and_empty_market_gets_zero(alloc_case):
    scn, ds = alloc_case
    caps = caps_t(scn, ds)
    assert list(caps.index) == ["m", "n", "empty"]  # every scenario market, in scenario order
    assert list(caps.columns) == ["P1", "P2"]
    assert caps.loc["m", "P1"] == pytest.approx(4600.0 + 2350.0)
    assert caps.loc["m", "P2"] == pytest.approx(1700.0 + 850.0)
    assert caps.loc["n", "P1"] == pytest.approx(9800.0)
    assert caps.loc["empty"].tolist() == [0.0, 0.0]
    alloc = allocation_t(scn, ds)
    assert caps_t(scn, ds, alloc).equals(caps)


def test_allocation_follows_overrides(alloc_case):
    scn, ds = alloc_case
    scn2 = load_scenario(scn.source, ["markets.m.compliance_factor.P1.general=0.1"])
    assert allocation_t(scn2, ds).loc["A", "P1"] == pytest.approx(1000.0 * 0.9 * 5)


# ---------------------------------------------------------------------------------------------
# program rules that only change allocations: factors by top level and category, base year
# ---------------------------------------------------------------------------------------------


def test_top_level_multiplier_and_dhc_factor(tmp_path):
    """Base 1,000 t, 5-year period: general 8 % -> 4,600 t; top (x0.5): 4 % -> 4,800 t;
    near_top (x0.75): 6 % -> 4,700 t; DHC 6 % and top: 3 % -> 4,850 t."""
    path = write_case(
        tmp_path,
        [
            ent("G", base=1000.0),
            ent("T", base=1000.0, top_level="top"),
            ent("N", base=1000.0, top_level="near_top"),
            ent("D", base=1000.0, top_level="top", category="dhc"),
        ],
        {k: 1000.0 for k in "GTND"},
        [("G", 1, 0.1, 100)],
        [("P1", 2026, 2030)],
        {
            "m": {
                "compliance_factor": {"P1": {"general": 0.08, "dhc": 0.06}},
                "top_level_multiplier": {"top": 0.5, "near_top": 0.75},
            }
        },
    )
    scn = load_scenario(path)
    alloc = allocation_t(scn, load_dataset(scn.inputs_path, scn))["P1"]
    assert alloc.to_dict() == pytest.approx({"G": 4600, "T": 4800, "N": 4700, "D": 4850})


def test_compliance_factors_equal_the_per_entity_rule_on_the_shipped_data():
    """The factors are computed once per distinct (market, category, top_level) and spread to the
    entities; on the shipped dataset (Tokyo's categories and top-level multipliers, models/tokyo_rules.toml)
    they equal the rule of nationcap/derive/allocation.py applied entity by entity, exactly."""
    from pathlib import Path

    scn = load_scenario(Path(__file__).parents[2] / "models" / "tokyo_rules.toml")
    ds = load_dataset(scn.inputs_path, scn)
    got = compliance_factors(scn, ds)
    ent = ds.entities
    for p in scn.periods:
        want = [
            scn.factor(m, p.name, cat) * (scn.markets[m].top_level_multiplier.get(top, 1.0) if top != "none" else 1.0)
            for m, cat, top in zip(ent["market"], ent["category"], ent["top_level"])
        ]
        assert got[p.name].to_numpy().tobytes() == pd.Series(want, dtype=float).to_numpy().tobytes()
    assert len({(m, c, t) for m, c, t in zip(ent["market"], ent["category"], ent["top_level"])}) > 3


def base_year_case(root):
    """One entity, factor 0.1, one year, base year = highest 3-year average of FY2019..2025
    history 90, 120, 110, 100, 130, 95, 80."""
    path = write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {
            "m": {
                "compliance_factor": {"P1": {"general": 0.1}},
                "base_year": {"rule": "max_3yr_average", "first": 2019, "last": 2025},
            }
        },
    )
    hist = [90, 120, 110, 100, 130, 95, 80]
    pd.DataFrame({"entity_id": "A", "fiscal_year": range(2019, 2026), "emissions_t": hist}).to_csv(
        root / "data" / "history.csv", index=False
    )
    return path


def test_base_year_highest_three_year_average(tmp_path):
    """3-year averages 106.7, 110, 113.3, 108.3, 101.7 -> the highest is FY2021-2023 = 113.33 t
    (the solved consequence is the hand case ``base_year_max_3yr_average`` in tests/model/)."""
    path = base_year_case(tmp_path)
    scn = load_scenario(path)
    ds = load_dataset(scn.inputs_path, scn)
    base, first = base_emissions(scn, ds)
    assert float(base["A"]) == pytest.approx(340 / 3)
    assert int(first["A"]) == 2021
    assert float(allocation_t(scn, ds).loc["A", "P1"]) == pytest.approx(340 / 3 * 0.9)


def test_base_year_window_without_three_years_is_an_input_error(tmp_path):
    """A window with no 3 consecutive years of history is an input error naming the entity."""
    path = base_year_case(tmp_path)
    with pytest.raises(InputError, match="entity_id A"):
        scn = load_scenario(path, ["markets.m.base_year.first=2024", "markets.m.base_year.last=2027"])
        base_emissions(scn, load_dataset(scn.inputs_path, scn))
