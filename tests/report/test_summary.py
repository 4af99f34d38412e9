"""The run summary: each active program rule prints its own block; rules that are off print none."""

from __future__ import annotations

import pytest
from casebuilder import ent, write_case

from nationcap.pipeline import run_scenario
from nationcap.report.summary import run_summary

pytestmark = pytest.mark.solver

BLOCKS = {
    "price_band": "Allowances issued at the ceiling and withdrawn at the floor (Mt):",
    "external": "Foreign allowances imported (Mt):",
    "auction": "Allowances auctioned (Mt) and the revenue",
    "offsets": "Offset credits bought",
    "shortfall": "Shortfalls",
    "link": "Link (",
    "overlap": "Electricity overlap coupled",
}


def case(root, **rules):
    return write_case(
        root,
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.3}}, **rules}},
    )


def test_core_model_prints_no_rule_block(tmp_path):
    text = run_summary(run_scenario(case(tmp_path)))
    assert "Allowance price" in text and "Cost account" in text
    assert [name for name, head in BLOCKS.items() if head in text] == []


def test_each_active_rule_prints_its_own_block(tmp_path):
    """Price band, external link and auction on: their three blocks, and no other rule's."""
    path = case(
        tmp_path,
        price_floor={},
        price_ceiling={},
        external={"price": {"start_jpy_per_t": 3000.0}, "limit_share": 0.1},
        auction_share={"P1": 0.5},
    )
    res = run_scenario(path)
    text = run_summary(res)
    assert [name for name, head in BLOCKS.items() if head in text] == ["price_band", "external", "auction"]
    # the rule blocks come after the emissions table and before the total cost, in RULES order
    at = [text.index(BLOCKS[k]) for k in ("price_band", "external", "auction")]
    assert text.index("Emissions against cap") < at[0] < at[1] < at[2] < text.index("Cost account")
    assert "ceiling_issued" in text and "floor_withdrawn" in text and "imports" in text
    # the cost account: abatement and the totals always, the other items where they are not zero
    # (10 t abated @1,000, 7 t imported @3,000, 13 t at the ceiling @4,300, 35 t auctioned @4,300;
    # the floor does not bind)
    account = text[text.index("Cost account") :]
    rows = {
        ln.split()[0] if not ln.startswith("=") else ln.split()[1]: ln.split()[-1] for ln in account.splitlines()[3:]
    }
    assert rows == {
        "abatement": "0.000",
        "imports": "0.000",
        "total_cost": "0.000",
        "ceiling_payments": "0.000",
        "auction_payments": "0.000",
        "net_cost_covered": "0.000",
    }
    assert float(res["net_cost_covered"].sum()) == pytest.approx(10_000 + 21_000 + 13 * 4300 + 35 * 4300, abs=1e-3)


def test_a_price_that_is_not_unique_is_marked(tmp_path):
    """Factor 0.1: 10 t needed, exactly the 1000 step (10 t); the next step costs 5000, so every
    price from 1000 to 5000 clears: the summary shows the lower end with the interval and a note.
    Factor 0.3 (inside the 5000 step) has a unique price and no mark."""
    boundary = write_case(
        tmp_path / "b",
        [ent("A")],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )
    for engine in ("pyomo", "fast"):
        text = run_summary(run_scenario(boundary, overrides=(f'solver.engine="{engine}"',)))
        assert "1,000 (any of 1,000–5,000)" in text, text
        assert "the price reported is the lower end" in text
    text = run_summary(run_scenario(case(tmp_path / "u")))
    assert "any of" not in text and "5000" in text


def test_price_table_marks_each_non_unique_cell_and_an_open_upper_end():
    """Solver-free: national 2026 is unique (2,367), 2027 lies in [2,438, 5,000], regional 2026
    has no upper end (one more tonne cannot be met); results without the interval (an older
    file) print the plain table."""
    import numpy as np
    import xarray as xr

    from nationcap.report.summary import price_table

    coords = {"market": ["national", "regional"], "year": [2026, 2027]}
    low = np.array([[2366.6, 2437.6], [1000.0, 1339.6]])
    high = np.array([[2366.6, 5000.0], [np.inf, 1339.6]])
    res = xr.Dataset(
        {
            "price": (("market", "year"), low),
            "price_low": (("market", "year"), low),
            "price_high": (("market", "year"), high),
        },
        coords=coords,
    )
    table, marked = price_table(res)
    assert marked
    assert "2,367" in table and "2,438 (any of 2,438–5,000)" in table and "1,000 (any of 1,000 or more)" in table
    assert "(any of 2,367" not in table and "(any of 1,340" not in table
    plain, marked = price_table(res.drop_vars(["price_low", "price_high"]))
    assert not marked and "any of" not in plain and "2367" in plain
