"""`nationcap target`: the exact intervals of a key where goals on the results hold.

The hand case: one market, one entity with BAU 100 t in FY2030 (one one-year period), steps of
10 t at 1,000, 2,000 and 3,000 JPY/t, r = 0. With compliance factor x the requirement is 100 x t,
so the price is 0 at x = 0, 1,000 on (0, 0.1], 2,000 on (0.1, 0.2], 3,000 on (0.2, 0.3] (at a
breakpoint the reported price is the lower end of the interval: at x = 0.1 the requirement of
10 t lies between the first and second step, the interval is [1,000, 2,000], the price 1,000),
and beyond 0.3 the cap cannot be met.
"""

from __future__ import annotations

import json

import pytest
from casebuilder import ent, write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.design.target import Search, parse_goals, shortest_decimal
from nationcap.errors import InputError
from nationcap.session import Session

pytestmark = pytest.mark.solver

KEY = "markets.m.compliance_factor.P1.general"


def hand_case(root):
    return write_case(
        root,
        [ent("E1", market="m", base=100.0)],
        {"E1": 100.0},
        [("E1", 1, 0.1, 1000.0), ("E1", 2, 0.1, 2000.0), ("E1", 3, 0.1, 3000.0)],
        [("P1", 2030, 2030)],
        {"m": {"compliance_factor": {"P1": {"general": 0.15}}}},
    )


def search(path, engine, goals, lo=0.0, hi=0.9, **kw):
    s = Session.open(path, engine=engine, hold=engine == "pyomo")
    md = s.model_data
    return Search(s, KEY, parse_goals(goals, md.markets, md.years, md.periods), lo, hi, tol=1e-6, **kw).run()


def ends(out):
    return [(i["low"], i["low_closed"], i["high"], i["high_closed"]) for i in out["intervals"]]


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_price_at_most_2000_holds_on_the_closed_interval_to_the_second_step(tmp_path, engine):
    """price <= 2,000 holds from x = 0 to x = 0.2 inclusive: at 0.2 the requirement of 20 t uses
    the first two steps exactly and the price is 2,000 (the lower end of [2,000, 3,000]); just
    above, 3,000. The exact engine finds the breakpoint from the merit order, the Pyomo engine by
    bisection ending at the shortest decimal of its last bracket."""
    out = search(hand_case(tmp_path), engine, ["price[m,2030]<=2000"])
    assert ends(out) == [(0.0, True, 0.2, True)]
    assert out["method"].startswith("exact" if engine == "fast" else "bisection")
    assert out["intervals"][0]["at_high"]["results"] == {"price[m,2030]": 2000.0}


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_two_goals_give_an_interval_open_at_the_first_breakpoint(tmp_path, engine):
    """1,500 <= price <= 2,500 holds on (0.1, 0.2]: at 0.1 the price is 1,000 (the lower end of
    [1,000, 2,000]), so the lower end is open; at 0.2 it is 2,000, closed."""
    out = search(hand_case(tmp_path), engine, ["price[m,2030]>=1500", "price[m,2030]<=2500"])
    assert ends(out) == [(0.1, False, 0.2, True)]
    assert out["intervals"][0]["at_low"]["results"] == {"price[m,2030]": 1000.0}


def test_the_upper_end_of_the_price_interval_can_be_named(tmp_path):
    """price_high >= 3,000 where the requirement reaches past 20 t: from the breakpoint 0.2 (the
    interval there is [2,000, 3,000]) up to 0.3, where every step is used and price_high is inf;
    above 0.3 nothing can be solved."""
    out = search(hand_case(tmp_path), "fast", ["price_high[m,2030]>=3000"])
    assert ends(out) == [(0.2, True, 0.3, True)]


def test_no_interval_reports_the_closest_value(tmp_path):
    """No factor gives a price of 5,000 (the dearest step is 3,000): the closest value is the
    first where the price is 3,000, short by 2,000."""
    out = search(hand_case(tmp_path), "fast", ["price[m,2030]>=5000"], hi=0.5)
    assert out["intervals"] == []
    assert out["closest"]["shortfall"] == {"price[m,2030]>=5000": 2000.0}
    assert out["closest"]["results"] == {"price[m,2030]": 3000.0}


def test_quantity_goals_are_bisected_on_the_exact_engine(tmp_path):
    """market_emissions = 100 - 100 x t on [0, 0.3]: <= 85 t from x = 0.15; a quantity is not a
    step function, so the search bisects (and ends at the shortest decimal, 0.15)."""
    out = search(hand_case(tmp_path), "fast", ["market_emissions[m,P1]<=85"])
    assert out["method"].startswith("bisection")
    assert ends(out) == [(0.15, True, 0.3, True)]


def test_every_bad_goal_is_reported_at_once(tmp_path):
    with pytest.raises(InputError) as err:
        parse_goals(
            ["price[x,2030]<=1", "prize[m,2030]<=1", "price_pv[m,2030]<=1", "price[m,2030]<1", "price[m,2030]<=a"],
            ["m"],
            [2030],
            ["P1"],
        )
    assert len(err.value.problems) == 5


def test_shortest_decimal():
    assert shortest_decimal(0.19999999999, 0.20000000001) == 0.2
    assert shortest_decimal(0.123, 0.123) == 0.123
    assert 0.3 <= shortest_decimal(0.3, 0.31) <= 0.31


def test_cli_writes_target_json_and_refuses_to_overwrite(tmp_path):
    case = hand_case(tmp_path)
    out = tmp_path / "target"
    args = ["target", str(case), "--param", KEY, "--goal", "price[m,2030]<=2000", "--range", "0,0.9"]
    r = CliRunner().invoke(cli, [*args, "--engine", "fast", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "[0, 0.2]" in r.output
    data = json.loads((out / "target.json").read_text())
    assert data["intervals"][0]["high"] == 0.2 and data["config"]["markets"]["m"]["banking"] is True
    assert set(data["versions"]) >= {"nationcap_version", "python_version"}
    assert CliRunner().invoke(cli, [*args, "--out", str(out)]).exit_code == 4
    assert CliRunner().invoke(cli, [*args, "--engine", "fast", "--out", str(out), "--force"]).exit_code == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("not nationcap's")
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "mine"), "--force"]).exit_code == 4
    bad = CliRunner().invoke(
        cli, ["target", str(case), "--param", KEY, "--goal", "p[m,1]<2", "--range", "0,1", "--out", str(tmp_path / "b")]
    )
    assert bad.exit_code == 2
    assert "--goal" in bad.output and "--range" in bad.output


@pytest.mark.parametrize("engine", ["fast", "pyomo"])
def test_without_a_range_the_factor_is_searched_over_its_natural_domain(tmp_path, engine):
    """Without --range a compliance factor is searched over [0, 1) (the schema's ``Factor``), up to
    1 - 2^-53, the largest float below 1. Above 0.3 the cap cannot be met (points that cannot be
    solved meet no goal), so the answers are those of the range [0, 0.9]: price <= 2,000 on
    [0, 0.2], and 1,500 <= price <= 2,500 on (0.1, 0.2]."""
    from nationcap.design.domain import natural_domain

    path = hand_case(tmp_path)
    s = Session.open(path, engine=engine)
    d = natural_domain(s, KEY)
    assert (d.lo, d.hi) == (0.0, 1.0 - 2.0**-53)
    assert "[0, 1)" in d.source and "largest float below 1" in d.source
    assert ends(search(path, engine, ["price[m,2030]<=2000"], d.lo, d.hi)) == [(0.0, True, 0.2, True)]
    two = search(path, engine, ["price[m,2030]>=1500", "price[m,2030]<=2500"], d.lo, d.hi)
    assert ends(two) == [(0.1, False, 0.2, True)]


def test_natural_domains_of_thresholds_band_levels_and_keys_without_one(tmp_path):
    """The hand case's only entity has base emissions 100 t: a size threshold is searched on
    [0, 100]. Its dearest step costs 3,000 JPY/t in FY2030 (r = 0), which a band level grown at
    3 % a year from FY2026 reaches at 3,000 / 1.03^4 = 2,665.46 JPY/t: above it no price passes
    the band. A multiplier is [0, 1]; a link ratio (> 0, unbounded) has no finite domain."""
    from nationcap.design.domain import NoDomain, natural_domain

    s = Session.open(hand_case(tmp_path), engine="fast")
    assert (
        natural_domain(s, "markets.m.select.min_base_t").lo,
        natural_domain(s, "markets.m.select.min_base_t").hi,
    ) == (
        0.0,
        100.0,
    )
    band = natural_domain(s, "markets.m.price_ceiling.start_jpy_per_t")
    assert band.lo == 0.0 and band.hi == pytest.approx(3000.0 / 1.03**4, rel=1e-12)
    mult = natural_domain(s, "markets.m.top_level_multiplier.top")
    assert (mult.lo, mult.hi) == (0.0, 1.0)
    for key in ("link.ratio", "markets.m.penalty_multiplier", "markets.m.banking", "markets.m.nonsense"):
        with pytest.raises(NoDomain):
            natural_domain(s, key)


def test_cli_without_range_prints_and_writes_the_range_used(tmp_path):
    """The range and its source go to the output and to target.json; a key without a natural
    domain is refused with one report naming --range (exit 2), nothing written."""
    case = hand_case(tmp_path)
    out = tmp_path / "target"
    r = CliRunner().invoke(
        cli,
        ["target", str(case), "--param", KEY, "--goal", "price[m,2030]<=2000", "--engine", "fast", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    assert "[0.0, 0.9999999999999999] (from the schema's bounds of a factor [0, 1)" in r.output
    assert "[0, 0.2]" in r.output
    data = json.loads((out / "target.json").read_text())
    assert data["range"] == [0.0, 1.0 - 2.0**-53] and data["range_source"].startswith("the schema's bounds")
    bad = CliRunner().invoke(
        cli,
        ["target", str(case), "--param", "link.ratio", "--goal", "price[m,2030]<=1", "--out", str(tmp_path / "b")],
    )
    assert bad.exit_code == 2
    assert "--range" in bad.output and "no natural finite domain" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "goals",
    [
        ["price[m,2030]<=1500"],
        ["price[m,2031]>=2000"],
        ["price_pv[m,P2]>=1000", "price[m,2030]<=3000"],
        ["price_high[m,2031]>=4000"],
    ],
)
def test_hints_change_the_number_of_solves_not_the_answer(tmp_path, goals, monkeypatch):
    """Two banked one-year periods (steps of 10, 15 and 20 t at 1,000, 2,000 and 4,000 JPY/t each
    year, P1 factor 0.05) and the P2 factor as the key: the breakpoints where a run's price passes
    a goal's threshold are probed first, but the intervals are those of plain bisection over the
    merit order's breakpoints (the same items decide every end)."""
    import nationcap.design.target as target

    path = write_case(
        tmp_path,
        [ent("E1", market="m", base=100.0)],
        {"E1": 100.0},
        [("E1", 1, 0.1, 1000.0), ("E1", 2, 0.15, 2000.0), ("E1", 3, 0.2, 4000.0)],
        [("P1", 2030, 2030), ("P2", 2031, 2031)],
        {"m": {"compliance_factor": {"P1": {"general": 0.05}, "P2": {"general": 0.3}}}},
    )

    def run():
        s = Session.open(path, engine="fast")
        md = s.model_data
        key = "markets.m.compliance_factor.P2.general"
        return Search(s, key, parse_goals(goals, md.markets, md.years, md.periods), 0.0, 0.9, tol=1e-6).run()

    hinted = run()
    monkeypatch.setattr(target.Search, "_thresholds", lambda self, md: [])
    plain = run()
    assert hinted["method"] == plain["method"] == "exact: merit-order breakpoints"
    assert ends(hinted) == ends(plain)
    assert hinted["intervals"]


@pytest.mark.integration
def test_the_readme_target_without_a_range_at_full_scale():
    """The README's question on the shipped baseline (exact engine): searched over the factor's
    natural domain [0, 1) it gives the interval it gives over --range 0,0.3, [0, 0.18297...]:
    above 0.3 the FY2030 price only rises (a tighter regional cap), so no interval is added."""
    from casebuilder import REPO

    from nationcap.design.domain import natural_domain

    s = Session.open(REPO / "models" / "baseline.toml", engine="fast")
    md = s.model_data
    key = "markets.regional.compliance_factor.P1.general"
    goals = parse_goals(["price[regional,2030]<=4840"], md.markets, md.years, md.periods)
    d = natural_domain(s, key)
    wide = Search(s, key, goals, d.lo, d.hi, tol=1e-6).run()
    narrow = Search(Session.open(REPO / "models" / "baseline.toml", engine="fast"), key, goals, 0.0, 0.3, 1e-6).run()
    # the same breakpoints, each written as the shortest decimal within 1e-12 of its range
    assert len(ends(wide)) == len(ends(narrow)) == 1
    (lo_w, lc_w, hi_w, hc_w), (lo_n, lc_n, hi_n, hc_n) = ends(wide)[0], ends(narrow)[0]
    assert (lo_w, lc_w, hc_w) == (lo_n, lc_n, hc_n) == (0.0, True, True)
    assert hi_w == pytest.approx(hi_n, abs=2e-12) and 0.18 < hi_w < 0.19
