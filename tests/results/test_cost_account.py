"""The cost account (README "Cost account"): every item derived by hand, the identities with the
objective, ``total_cost`` and ``net_cost_covered``, and how the entities' compliance costs relate.

Every solved hand case of the test suite also checks the identities (``check_account`` in
tests/handcases.py), on every engine and formulation that solves it; the shipped rule scenarios
are checked here on the tiny dataset and, in the integration tier, at full scale.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import REPO, ent, write_case
from handcases import Cases, check_account, engines

from nationcap.pipeline import run_scenario
from nationcap.results.build import ACCOUNT_KEYS, COST_ACCOUNT, _add_account, objective_from_account

TWO_YEARS = [("P1", 2026, 2026), ("P2", 2027, 2027)]
CASES = Cases()


def every_item(root):
    """Two markets, two one-year periods (P1 = FY2026, P2 = FY2027), discount rate 25 %: the PV
    factor of FY2027 is d = 1 / 1.25 = 0.8. No banking (nothing carries between the periods).

    Market ``a``: entity A, BAU 100 t/yr, compliance factor 0.3 -> allocation (= cap) 70 t per
    period, so 30 t of the 100 emitted need something else. Steps each year: 10 t @1,000 and
    30 t @5,000. 8 outside credits @2,000 offered in FY2026 (no limit), foreign allowances
    @3,000 (no growth) up to 10 % of the cap = 7 t per period, a price ceiling of 4,000 (no
    growth), half of P2's cap auctioned (35 t; the cap stays 70).

    - P1 (d = 1): 10 t abated @1,000, the 8 credits @2,000, the 7 imports @3,000, and the last 5 t
      bought at the ceiling (4,000 < the 5,000 step): price 4,000.
      abatement 10,000; offsets 16,000; imports 21,000; ceiling_payments 5 x 4,000 = 20,000.
    - P2 (d = 0.8): no credits; 10 t abated (PV 800 each), 7 imports (PV 2,400), 13 t at the
      ceiling (PV 3,200 < the step's PV 4,000): PV price 3,200.
      abatement 8,000; imports 7 x 2,400 = 16,800; ceiling_payments 13 x 3,200 = 41,600;
      auction_payments 35 x 3,200 = 112,000 (not in the objective).

    Market ``b``: entity B, BAU 100 t/yr, steps as A's, a price floor of 1,700 (no growth),
    penalty multiplier 1.3 and a last-period shortfall price of 3,000.

    - P1 (d = 1), factor 0.05: allocation 95, 5 t needed. The 1,000 step alone would clear at
      1,000 < floor: the floor lifts the price to 1,700, the whole 10 t step is used and the 5 t
      surplus is withdrawn at the floor (better than letting it lapse; falling short instead would
      cost 1.3 t of P2 at PV 2,400 = 3,120 > 1,700). abatement 10,000; floor_receipts 5 x 1,700 =
      8,500.
    - P2 (d = 0.8), factor 0.3: allocation 70, 30 t needed: 10 t abated (PV 800), the other 20 t
      fall short and the administrator buys them at 3,000 (PV 2,400 < the step's 4,000): PV
      price 2,400. abatement 8,000; final_shortfall_purchases 20 x 2,400 = 48,000.

    The account (JPY, present value; reserves: none, so 0):

    ======================  ============  ============  ============  ============
    item                    a, P1         a, P2         b, P1         b, P2
    ======================  ============  ============  ============  ============
    abatement               10,000        8,000         10,000        8,000
    offsets                 16,000        0             0             0
    imports                 21,000        16,800        0             0
    = total_cost            47,000        24,800        10,000        8,000
    ceiling_payments (+)    20,000        41,600        0             0
    floor_receipts (-)      0             0             8,500         0
    auction_payments (+)    0             112,000       0             0
    final_shortfall (+)     0             0             0             48,000
    = net_cost_covered      67,000        178,400       1,500         56,000
    ======================  ============  ============  ============  ============

    Objective = every item but the auction, with signs: 67,000 + 66,400 (a) + 1,500 + 56,000 (b)
    = 190,900 JPY.

    Compliance costs (abatement + net purchases x PV price + credits used x their PV price + the
    last-period purchases). A, P1: emits 90, uses 8 credits, holds 70: buys 12 (7 imported, 5 at
    the ceiling): 10,000 + 8 x 4,000 + 12 x 4,000 = 90,000 = net_cost_covered 67,000 + what the
    credit sellers earn above their price, 8 x (4,000 - 2,000) = 16,000, + the import quota rent
    7 x (4,000 - 3,000) = 7,000. A, P2: holds 35 free, buys 55 (35 auctioned, 7 imported, 13 at the
    ceiling): 8,000 + 55 x 3,200 = 184,000 = 178,400 + 7 x (3,200 - 2,400). B, P1: sells 5 to
    the administrator at the floor: 10,000 - 5 x 1,700 = 1,500. B, P2: surrenders its 70: 8,000 +
    48,000 = 56,000. Both B's equal net_cost_covered: no rents.
    """
    a = {
        "compliance_factor": {"P1": {"general": 0.3}, "P2": {"general": 0.3}},
        "banking": False,
        "use_offsets": True,
        "external": {"price": {"start_jpy_per_t": 3000.0, "growth_rate": 0.0}, "limit_share": 0.1},
        "price_ceiling": {"start_jpy_per_t": 4000.0, "growth_rate": 0.0},
        "auction_share": {"P2": 0.5},
    }
    b = {
        "compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.3}},
        "banking": False,
        "price_floor": {"start_jpy_per_t": 1700.0, "growth_rate": 0.0},
        "penalty_multiplier": 1.3,
        "final_shortfall_price_jpy_per_t": 3000.0,
    }
    return write_case(
        root,
        [ent("A", market="a"), ent("B", market="b")],
        {"A": 100.0, "B": 100.0},
        [("A", 1, 0.1, 1000.0), ("A", 2, 0.3, 5000.0), ("B", 1, 0.1, 1000.0), ("B", 2, 0.3, 5000.0)],
        TWO_YEARS,
        {"a": a, "b": b},
        discount_rate=0.25,
        offsets=[("outside", "a", 2026, 8.0, 2000.0)],
    )


#: item -> [[a P1, a P2], [b P1, b P2]], JPY present value (the table of the derivation)
BY_HAND = {
    "abatement": [[10_000, 8_000], [10_000, 8_000]],
    "offsets": [[16_000, 0], [0, 0]],
    "imports": [[21_000, 16_800], [0, 0]],
    "ceiling_payments": [[20_000, 41_600], [0, 0]],
    "floor_receipts": [[0, 0], [8_500, 0]],
    "reserve_release_payments": [[0, 0], [0, 0]],
    "reserve_withhold_receipts": [[0, 0], [0, 0]],
    "auction_payments": [[0, 112_000], [0, 0]],
    "final_shortfall_purchases": [[0, 0], [0, 48_000]],
}


@CASES.add(every_item)
def every_item_of_the_account_by_hand(run):
    r = run.results
    np.testing.assert_allclose(r["price_pv"].values, [[4000, 3200], [1700, 2400]], rtol=1e-9)
    assert set(BY_HAND) == set(ACCOUNT_KEYS)
    for key, expected in BY_HAND.items():
        np.testing.assert_allclose(r[f"account_{key}"].values, expected, rtol=1e-9, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(r["total_cost"].values, [[47_000, 24_800], [10_000, 8_000]], rtol=1e-9)
    np.testing.assert_allclose(r["net_cost_covered"].values, [[67_000, 178_400], [1_500, 56_000]], rtol=1e-9)
    assert r.attrs["objective_jpy"] == pytest.approx(190_900, rel=1e-9)
    assert objective_from_account(r) == pytest.approx(190_900, rel=1e-9)
    # who bears what: the compliance costs, and how they differ from net_cost_covered (rents)
    np.testing.assert_allclose(r["compliance_cost"].values, [[90_000, 184_000], [1_500, 56_000]], rtol=1e-9, atol=1e-6)
    rents = np.array([[16_000 + 7_000, 5_600], [0, 0]])
    np.testing.assert_allclose(r["compliance_cost"].values, r["net_cost_covered"].values + rents, rtol=1e-9)
    # the account's variables say what they are
    ceiling = r["account_ceiling_payments"].attrs
    assert (ceiling["account_sign"], ceiling["account_kind"], ceiling["in_objective"]) == (1, "transfer", "yes")
    assert r["account_floor_receipts"].attrs["account_sign"] == -1
    assert r["account_auction_payments"].attrs["in_objective"] == "no"
    assert r["account_offsets"].attrs["account_kind"] == "resource"
    assert r["total_cost"].attrs["money"] == "present value at FY2026"


def limited_buyback(root, rule: str):
    """One entity A in market m, one year FY2026, discount rate 0, BAU 100 t and factor 0 (cap 100 t:
    nothing to abate); steps 10 t at 500 JPY/t and 30 t at 5,000. The administrator buys back
    allowances at 1,700 JPY/t, at most 4 t: a floor with ``floor_volume_limit_t = 4`` or a withhold
    tranche of 4 t triggered at 1,700."""
    rules = {
        "floor": {"price_floor": {}, "floor_volume_limit_t": 4.0},
        "withhold": {"reserve": {"withhold": [{"trigger_jpy_per_t": 1700.0, "volume_t": 4.0}]}},
    }[rule]
    return write_case(
        root,
        [ent("A")],
        {"A": 100.0},
        [("A", 1, 0.1, 500.0), ("A", 2, 0.3, 5000.0)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.0}}, **rules}},
    )


def buyback_rent(run):
    """A abates 4 t at 500 (cheaper than the 1,700 the administrator pays) and sells them to the
    administrator; the 4 t are used up, so the price falls through 1,700 to the 500 step, which is
    partly used (4 of 10 t): price_pv = 500. A's compliance cost values its net sale at the clearing
    price: 4 x 500 - 4 x 500 = 0. The account: net_cost_covered = abatement 2,000 - receipts
    4 x 1,700 = -4,800. The difference is the rent of the administrator's volume, at its own price
    rather than the clearing price: 4 x |1,700 - 500| = 4,800, and 0 = -4,800 + 4,800. (Valuing it
    as volume x (price_pv - trigger) = -4,800 would give -9,600; leaving it out, -4,800.)"""
    r = run.results
    assert float(r["price_pv"].sel(market="m", period="P1")) == pytest.approx(500.0, rel=1e-9)
    assert float(r["abatement"].sum()) == pytest.approx(4.0, abs=1e-6)
    cost = float(r["compliance_cost"].sum())
    ncc = float(r["net_cost_covered"].sel(market="m", period="P1"))
    assert cost == pytest.approx(0.0, abs=1e-6)
    assert ncc == pytest.approx(-4_800.0, rel=1e-9)
    rent = 4.0 * abs(1_700.0 - float(r["price_pv"].sel(market="m", period="P1")))
    assert cost == pytest.approx(ncc + rent, abs=1e-6)


CASES.add(lambda root: limited_buyback(root, "floor"), id="floor_limited_to_4_t")(buyback_rent)
CASES.add(lambda root: limited_buyback(root, "withhold"), id="withhold_tranche_of_4_t")(buyback_rent)


@engines
@pytest.mark.solver
@pytest.mark.parametrize("case", CASES, ids=str)
def test_account_case(case, engine, tmp_path):
    case.check(engine, tmp_path)


def test_the_table_is_consistent():
    """Resource items are paid by the covered entities; only the auction is outside the
    objective; every key is unique; abatement comes first (the core's, not a rule's)."""
    assert ACCOUNT_KEYS[0] == "abatement" and len(set(ACCOUNT_KEYS)) == len(ACCOUNT_KEYS)
    for item in COST_ACCOUNT:
        assert item.kind in ("resource", "transfer") and item.sign in (1, -1)
        assert item.kind == "transfer" or item.sign == 1, item.key
    assert [i.key for i in COST_ACCOUNT if not i.in_objective] == ["auction_payments"]
    assert [i.key for i in COST_ACCOUNT if i.kind == "resource"] == ["abatement", "offsets", "imports"]


def test_rule_items_are_checked():
    """A rule may report only the items it declares (its ACCOUNT): another rule's item, an unknown
    item, the core's abatement, a wrong shape or a negative amount is a bug, named; a key no rule
    reports stays zero. Every item of the account is declared once."""
    from nationcap.model.rules import external, offsets

    account = {k: np.zeros((2, 3)) for k in ACCOUNT_KEYS}
    _add_account(account, offsets, {"offsets": np.ones((2, 3))})
    _add_account(account, offsets, {"offsets": np.ones((2, 3))})
    assert account["offsets"].sum() == 12 and account["imports"].sum() == 0
    with pytest.raises(ValueError, match="'offset', which it does not declare"):
        _add_account(account, offsets, {"offset": np.ones((2, 3))})
    with pytest.raises(ValueError, match="'offsets', which it does not declare"):
        _add_account(account, external, {"offsets": np.ones((2, 3))})
    with pytest.raises(ValueError, match="shape"):
        _add_account(account, offsets, {"offsets": np.ones(2)})
    with pytest.raises(ValueError, match="negative"):
        _add_account(account, offsets, {"offsets": -np.ones((2, 3))})
    with pytest.raises(ValueError, match="does not declare"):  # abatement is the core's
        _add_account(account, offsets, {"abatement": np.ones((2, 3))})
    assert len(set(ACCOUNT_KEYS)) == len(ACCOUNT_KEYS) and ACCOUNT_KEYS[0] == "abatement"


RULE_SCENARIOS = ("tokyo_rules", "gx_band", "external_link")


@pytest.mark.solver
@pytest.mark.parametrize("formulation", ["sifting", "compact", "full"])
@pytest.mark.parametrize("name", RULE_SCENARIOS)
def test_shipped_rule_scenarios_on_the_tiny_dataset(name, formulation):
    """The shipped scenarios with program rules, on inputs/tiny: the account adds up to the
    objective (relative 1e-9) in every formulation, and their rules' items are there."""
    res = run_scenario(
        REPO / "models" / f"{name}.toml",
        overrides=['inputs="../inputs/tiny"', f'solver.formulation="{formulation}"'],
    )
    check_account(res)
    item = {"tokyo_rules": "offsets", "gx_band": "floor_receipts", "external_link": "imports"}[name]
    assert float(res[f"account_{item}"].sum()) > 0


@pytest.mark.integration
@pytest.mark.parametrize("name", RULE_SCENARIOS)
def test_shipped_rule_scenarios_at_full_scale(name):
    """The same at full scale (inputs/japan, the default engine and formulation)."""
    res = run_scenario(REPO / "models" / f"{name}.toml")
    check_account(res)
