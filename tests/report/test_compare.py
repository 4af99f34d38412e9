"""`nationcap compare`: side-by-side tables, the gains from linking, and the plot."""

from __future__ import annotations

import pytest
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.report.compare import compare

pytestmark = pytest.mark.solver


def test_compare_unlinked_and_linked(tmp_path):
    """The full-link case of test_link.py: unlinked cost 100,000 JPY, linked 75,000: gain 25,000."""
    path = write_case(
        tmp_path,
        [
            dict(entity_id="N", market="national", base_emissions_t=100.0, sector="steel", administrator="national"),
            dict(entity_id="R", market="regional", base_emissions_t=100.0),
        ],
        {"N": 100, "R": 100},
        [("N", 1, 0.1, 1000), ("N", 2, 0.3, 5000), ("R", 1, 0.25, 2000), ("R", 2, 0.4, 3000)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.2}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.2}}},
        },
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(path), "--out", str(tmp_path / "unlinked")]).exit_code == 0
    res = runner.invoke(cli, ["run", str(path), "--out", str(tmp_path / "linked"), "--set", 'link.mode="full"'])
    assert res.exit_code == 0, res.output
    out = tmp_path / "cmp"
    result = runner.invoke(
        cli, ["compare", str(tmp_path / "unlinked"), str(tmp_path / "linked" / "results.nc"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "gain_vs_first_jpy" in result.output
    for f in ("compare_prices.csv", "compare_summary.csv", "compare_periods.csv", "compare.png"):
        assert (out / f).stat().st_size > 0
    tables = compare([tmp_path / "unlinked", tmp_path / "linked"])
    s = tables["summary"]
    assert s["total_cost_jpy"].tolist() == pytest.approx([100_000, 75_000], abs=1e-3)
    assert s["gain_vs_first_jpy"].tolist() == pytest.approx([0, 25_000], abs=1e-3)
    assert s["transfer_t_regional_to_national"].tolist() == pytest.approx([0, 10], abs=1e-6)
    assert list(s.index) == ["case", "case#2"]
    prices = tables["prices"]
    assert prices.loc[("national", 2026)].tolist() == pytest.approx([5000, 3000], abs=1e-6)
    # refuses to overwrite, and needs two runs
    assert (
        runner.invoke(
            cli, ["compare", str(tmp_path / "unlinked"), str(tmp_path / "linked"), "--out", str(out)]
        ).exit_code
        == 4
    )
    assert runner.invoke(cli, ["compare", str(tmp_path / "unlinked"), "--out", str(tmp_path / "x")]).exit_code == 2


def test_compare_reports_total_and_net_cost(tmp_path):
    """One entity, 30 t needed, steps 10 t @1,000 and 30 t @5,000 (the ceiling case of
    tests/model/rules/test_rules.py). Without a ceiling: 10 @1,000 + 20 @5,000: total_cost =
    net_cost_covered = 110,000. With a ceiling of 4,300: 10 @1,000 and 20 t bought at the ceiling:
    total_cost 10,000 (the resource cost), net_cost_covered 10,000 + 86,000 = 96,000. Gains against
    the first run: 100,000 in total cost, 14,000 in net cost to the covered entities."""
    path = write_case(
        tmp_path,
        [dict(entity_id="A", market="m", base_emissions_t=100.0)],
        {"A": 100},
        [("A", 1, 0.1, 1000), ("A", 2, 0.3, 5000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.3}}}},
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(path), "--out", str(tmp_path / "plain")]).exit_code == 0
    res = runner.invoke(cli, ["run", str(path), "--out", str(tmp_path / "band"), "--set", "markets.m.price_ceiling={}"])
    assert res.exit_code == 0, res.output
    tables = compare([tmp_path / "plain", tmp_path / "band"])
    s = tables["summary"]
    assert s["total_cost_jpy"].tolist() == pytest.approx([110_000, 10_000], abs=1e-3)
    assert s["net_cost_covered_jpy"].tolist() == pytest.approx([110_000, 96_000], abs=1e-3)
    assert s["total_cost_jpy_m"].tolist() == pytest.approx([110_000, 10_000], abs=1e-3)
    assert s["net_cost_covered_jpy_m"].tolist() == pytest.approx([110_000, 96_000], abs=1e-3)
    assert s["gain_vs_first_jpy"].tolist() == pytest.approx([0, 100_000], abs=1e-3)
    assert s["net_cost_covered_gain_vs_first_jpy"].tolist() == pytest.approx([0, 14_000], abs=1e-3)
    per = tables["periods"]
    assert per.loc[("case#2", "m", "P1"), "net_cost_covered_jpy"] == pytest.approx(96_000, abs=1e-3)
    assert per.loc[("case#2", "m", "P1"), "total_cost_jpy"] == pytest.approx(10_000, abs=1e-3)


def test_compare_gives_coverage_and_who_pays_by_sector(tmp_path):
    """Market m, FY2026, factor 0.2, national CO2 1,000 t. A (steel): BAU = base = 100 t, steps
    10 t @1,000 and 20 t @3,000; B (office): BAU = base = 50 t, one step 10 t @2,000.

    Both covered: requirement 20 + 10 = 30 t; merit order 10 @1,000 (A), 10 @2,000 (B), then A's
    3,000 step: price 3,000, A abates 20 t (10,000 + 30,000 = 40,000 JPY) and needs 20 (buys 0),
    B abates 10 t (20,000) and needs 10: compliance costs steel 40,000, office 20,000. Coverage
    150 / 1,000 = 0.15, uncovered 0.

    Only A covered (``select.min_base_t = 60``): requirement 20 t, 10 @1,000 + 10 @3,000, price
    3,000: steel 40,000, office 0 (uncovered; it emits its BAU): change -20,000 for office, 0 for
    steel. Coverage 100 / 1,000 = 0.10, uncovered 50 / 1,000 = 0.05, combined 0.10."""
    path = write_case(
        tmp_path,
        [
            dict(entity_id="A", market="m", base_emissions_t=100.0, sector="steel"),
            dict(entity_id="B", market="m", base_emissions_t=50.0, sector="office"),
        ],
        {"A": 100, "B": 50},
        [("A", 1, 0.1, 1000), ("A", 2, 0.2, 3000), ("B", 1, 0.2, 2000)],
        [("P1", 2026, 2026)],
        {"m": {"compliance_factor": {"P1": {"general": 0.2}}}},
        national_co2_t={2026: 1000.0},
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["-q", "run", str(path), "--out", str(tmp_path / "all")]).exit_code == 0
    res = runner.invoke(
        cli, ["-q", "run", str(path), "--out", str(tmp_path / "big"), "--set", "markets.m.select={min_base_t=60}"]
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "cmp"
    res = runner.invoke(cli, ["compare", str(tmp_path / "all"), str(tmp_path / "big"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Compliance cost by sector" in res.output
    tables = compare([tmp_path / "all", tmp_path / "big"])
    s = tables["summary"]
    assert s["coverage_share_m"].tolist() == pytest.approx([0.15, 0.10], abs=1e-12)
    assert s["uncovered_share"].tolist() == pytest.approx([0.0, 0.05], abs=1e-12)
    assert s["combined_coverage_share"].tolist() == pytest.approx([0.15, 0.10], abs=1e-12)
    sec = tables["sectors"]
    assert sec.loc["steel", "compliance_cost_jpy_case"] == pytest.approx(40_000, abs=1e-6)
    assert sec.loc["office", "compliance_cost_jpy_case"] == pytest.approx(20_000, abs=1e-6)
    assert sec.loc["steel", "compliance_cost_jpy_case#2"] == pytest.approx(40_000, abs=1e-6)
    assert sec.loc["office", "compliance_cost_jpy_case#2"] == pytest.approx(0, abs=1e-6)
    assert sec.loc["office", "compliance_cost_change_vs_first_jpy_case#2"] == pytest.approx(-20_000, abs=1e-6)
    assert sec.loc["steel", "abatement_t_case"] == pytest.approx(20, abs=1e-9)
    assert sec.loc["office", "abatement_cost_jpy_case"] == pytest.approx(20_000, abs=1e-6)
    cov = tables["coverage"]
    assert cov.loc[("case#2", 2026), "uncovered_share"] == pytest.approx(0.05, abs=1e-12)
    for f in ("compare_sectors.csv", "compare_coverage.csv"):
        assert (out / f).stat().st_size > 0
