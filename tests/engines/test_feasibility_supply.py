"""The pre-solve feasibility check counts every source of supply.

``nationcap/engines/feasibility.py`` must never refuse a feasible scenario: a market that cannot
meet its cap alone may be helped over a link or by the coupled electricity overlap. Each feasible
case below runs on every engine that supports it, with the prices derived by hand; the infeasible
ones are refused by every engine that supports them, with a message naming the market(s), the
period and the tonnes short.

The base case (one period, FY2026, discount rate 0):

* national N1 (sector power): base = BAU = 100 t, factor 0.1 -> cap 90 t, needs 10 t of
  abatement; one step of 50 t at 1,000 JPY/t.
* regional R1: base = BAU = 100 t, factor 0.5 -> cap 50 t, needs 50 t; one step of 20 t at
  3,000 JPY/t. Alone it is 30 t short.
"""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.engines import engine_names, get_engine
from nationcap.errors import ModelError
from nationcap.model import prepare
from nationcap.pipeline import load, run_dataset


def base_case(tmp_path, extra: str = "", r_share: float = 0.2, markets: dict | None = None, **kw):
    path = write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0, sector="power"),
            dict(entity_id="R1", market="regional", base_emissions_t=100.0),
        ],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.5, 1000.0), ("R1", 1, r_share, 3000.0)],
        kw.pop("periods", [("P1", 2026, 2026)]),
        markets
        or {
            "national": {"compliance_factor": {"P1": {"general": 0.1}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.5}}},
        },
        **kw,
    )
    path.write_text(path.read_text() + "\n" + extra)
    return path


def supporting_engines(path):
    """(name, engine, scenario, dataset) for every registered engine that supports the case."""
    scn, ds = load(path)
    md = prepare(scn, ds)
    out = []
    for name in engine_names():
        eng = get_engine(name)
        if not eng.supports(md):
            out.append((name, eng, scn, ds))
    return out


def solve_all(path):
    runs = {name: run_dataset(scn, ds, engine=eng).results for name, eng, scn, ds in supporting_engines(path)}
    assert "pyomo" in runs  # the reference engine supports every rule
    return runs


def refused_by_all(path, *needles):
    engines = supporting_engines(path)
    assert engines
    for name, eng, scn, ds in engines:
        with pytest.raises(ModelError) as info:
            run_dataset(scn, ds, engine=eng)
        msg = str(info.value)
        for needle in needles:
            assert needle in msg, (name, needle, msg)
        assert "turn banking on" not in msg  # banking is on in every case here
    return msg


def prices(res, market):
    return res["price"].sel(market=market).values


@pytest.mark.solver
def test_full_link_ratio_1_meets_a_cap_the_regional_market_cannot_meet_alone(tmp_path):
    """Pooled: 10 + 50 = 60 t needed; 50 t at 1,000 (N1), then 10 of R1's 20 t at 3,000, a
    partly used step: both prices 3,000. Cost 50 x 1,000 + 10 x 3,000 = 80,000 JPY."""
    path = base_case(tmp_path, '[link]\nmode = "full"\n')
    runs = solve_all(path)
    assert set(runs) == {"pyomo", "fast"}
    for name, res in runs.items():
        assert prices(res, "national") == pytest.approx([3000.0], rel=1e-9), name
        assert prices(res, "regional") == pytest.approx([3000.0], rel=1e-9), name
        assert float(res["emissions"].sel(entity="R1").sum()) == pytest.approx(90.0, rel=1e-9)
        assert float(res["total_cost"].sum()) == pytest.approx(80_000.0, rel=1e-9)


@pytest.mark.solver
def test_full_link_ratio_2(tmp_path):
    """Ratio 2 (regional allowances per national one). Pooled in national allowances:
    10 + 50 / 2 = 35 needed; N1's 50 t at 1,000 covers it (R1's step frees 10 national
    allowances at 3,000 x 2 = 6,000 each, unused). National price 1,000, regional 1,000 / 2 = 500;
    N1 abates 35 t, R1 nothing; cost 35,000 JPY."""
    path = base_case(tmp_path, '[link]\nmode = "full"\nratio = 2.0\n')
    runs = solve_all(path)
    assert set(runs) == {"pyomo", "fast"}
    for name, res in runs.items():
        assert prices(res, "national") == pytest.approx([1000.0], rel=1e-9), name
        assert prices(res, "regional") == pytest.approx([500.0], rel=1e-9), name
        assert float(res["abatement"].sel(entity="N1").sum()) == pytest.approx(35.0, rel=1e-9)
        assert float(res["abatement"].sel(entity="R1").sum()) == pytest.approx(0.0, abs=1e-9)
        assert float(res["total_cost"].sum()) == pytest.approx(35_000.0, rel=1e-9)


@pytest.mark.solver
def test_limited_link_with_a_large_enough_limit(tmp_path):
    """limit_share 0.9: the regional market may receive 0.9 x 50 = 45 t. The full-link solution
    moves 40 t (N1 abates 50, needs 10), below the limit, so it is also the solution here: both
    prices 3,000 (the flow is strictly inside its bounds, so price_n = price_r)."""
    path = base_case(tmp_path, '[link]\nmode = "limited"\nlimit_share = 0.9\n')
    runs = solve_all(path)
    for name, res in runs.items():
        assert prices(res, "national") == pytest.approx([3000.0], rel=1e-9), name
        assert prices(res, "regional") == pytest.approx([3000.0], rel=1e-9), name
        assert float(res["link_transfer"].sel(direction="national_to_regional").sum()) == pytest.approx(40.0, rel=1e-9)


@pytest.mark.solver
def test_one_way_link_in_the_helping_direction(tmp_path):
    """national_to_regional only: the same solution as the two-way link (the flow goes that way);
    the flow is positive, so price_n = ratio x price_r = 3,000."""
    path = base_case(tmp_path, '[link]\nmode = "full"\ndirection = "national_to_regional"\n')
    runs = solve_all(path)
    for name, res in runs.items():
        assert prices(res, "national") == pytest.approx([3000.0], rel=1e-9), name
        assert prices(res, "regional") == pytest.approx([3000.0], rel=1e-9), name


def test_one_way_link_in_the_wrong_direction_is_refused(tmp_path):
    """regional_to_national only: nothing can reach the regional market, which is 30 t short
    (needs 50, can abate 20)."""
    path = base_case(tmp_path, '[link]\nmode = "full"\ndirection = "regional_to_national"\n')
    msg = refused_by_all(path, "market 'regional'", "period P1", "30 t short", "direction")
    # the link rule's own note and hint (nationcap/model/rules/link.py, its feasibility hook)
    assert "(the link's direction 'regional_to_national' lets no allowances into 'regional')" in msg
    assert 'set link.direction = "both" (or "national_to_regional")' in msg


def test_limited_link_too_small_is_refused(tmp_path):
    """limit_share 0.2: at most 0.2 x 50 = 10 t can arrive; 20 + 10 = 30 < 50: 20 t short."""
    path = base_case(tmp_path, '[link]\nmode = "limited"\nlimit_share = 0.2\n')
    msg = refused_by_all(path, "market 'regional'", "period P1", "20 t short", "limit_share")
    assert "limited link inflow (at most 10 t)" in msg
    assert "raise link.limit_share (now 0.2 of the receiving cap per period)" in msg


def test_linked_pair_short_together_is_refused_by_every_engine(tmp_path):
    """R1's step is 5 t: pooled, 60 t are needed and 50 + 5 = 55 t can be abated: 5 t short. The
    link itself cannot help, and both engines say which markets and period."""
    path = base_case(tmp_path, '[link]\nmode = "full"\n', r_share=0.05)
    assert {name for name, *_ in supporting_engines(path)} == {"pyomo", "fast"}
    refused_by_all(path, "linked markets 'national' and 'regional'", "period P1", "5 t short")


def test_the_cli_reports_an_infeasible_linked_case_with_exit_3(tmp_path):
    path = base_case(tmp_path, '[link]\nmode = "full"\n', r_share=0.05)
    out = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out")])
    assert out.exit_code == 3, out.output
    assert "linked markets 'national' and 'regional'" in out.output
    assert "Traceback" not in out.output


@pytest.mark.solver
def test_pooled_check_uses_the_more_lenient_bank_rules(tmp_path):
    """Two periods (FY2026, FY2027), discount 3 %, a full two-way link; national banks, regional
    does not. Every year N1 has a 50 t step at 1,000, R1 a 20 t step at 3,000; national needs
    nothing (factor 0), regional needs nothing in P1 and 90 t in P2 (factor 0.9).

    Regional alone in P2: 20 + the link (unlimited). Pooled without banking, P2 has only
    50 + 20 = 70 < 90 t; with the national bank (banking is on in one of the two) P1's surplus
    carries over, so the check must pass. Least cost: the PV costs are 1,000 / 1.03 = 970.9
    (N1, FY2027) < 1,000 (N1, FY2026) < 3,000 / 1.03: all 50 t of FY2027, then 40 of FY2026's 50 t
    banked nationally and moved over the link in P2. The FY2026 step is partly used, so the PV
    price is 1,000 in both periods (the bank is positive between them), i.e. 1,000 in FY2026 and
    1,030 in FY2027 money, in both markets (a two-way full link at ratio 1 equalises them).
    The merit-order engine does not implement links between markets with different bank rules.
    """
    path = base_case(
        tmp_path,
        '[link]\nmode = "full"\n',
        periods=[("P1", 2026, 2026), ("P2", 2027, 2027)],
        markets={
            "national": {"compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.0}}},
            "regional": {"banking": False, "compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.9}}},
        },
        discount_rate=0.03,
    )
    runs = solve_all(path)
    assert set(runs) == {"pyomo"}
    res = runs["pyomo"]
    for m in ("national", "regional"):
        assert prices(res, m) == pytest.approx([1000.0, 1030.0], rel=1e-9)
    assert res["abatement"].sel(entity="N1").values == pytest.approx([40.0, 50.0], rel=1e-9)


@pytest.mark.solver
def test_coupled_overlap_closes_the_national_gap(tmp_path):
    """National N1 (power): base = BAU = 100 t, factor 0.5 -> needs 50 t; one step of 30 t at
    2,000: alone it is 20 t short. Regional R1 (electricity_share 0.5): base = BAU = 100 t,
    factor 0.1 -> needs 10 t; one step of 60 t at 800. Coupled, g = 1: R1's abatement A_r saves
    0.5 A_r t at the power plant, so N1 needs A_n + 0.5 A_r >= 50.

    A national tonne via R1 costs 2 x 800 = 1,600 < 2,000, so R1 abates all 60 t (30 t saved at
    N1) and N1 abates 20 t of its step: the national price is 2,000 (a partly used step); the
    regional market's own need (10 t) is slack, so its price is 0. Cost 20 x 2,000 + 60 x 800 =
    88,000 JPY; N1 emits 100 - 20 - 30 = 50 t, its cap.
    """
    path = write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0, sector="power"),
            dict(entity_id="R1", market="regional", base_emissions_t=100.0, electricity_share=0.5),
        ],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.3, 2000.0), ("R1", 1, 0.6, 800.0)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.5}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.1}}},
        },
    )
    path.write_text(path.read_text() + '\n[overlap]\nelectricity = "coupled"\n')
    runs = solve_all(path)
    for name, res in runs.items():
        assert prices(res, "national") == pytest.approx([2000.0], rel=1e-9), name
        assert prices(res, "regional") == pytest.approx([0.0], abs=1e-6), name
        assert float(res["emissions"].sel(entity="N1").sum()) == pytest.approx(50.0, rel=1e-9)
        assert float(res["grid_reduction"].sum()) == pytest.approx(30.0, rel=1e-9)
        assert float(res["total_cost"].sum()) == pytest.approx(88_000.0, rel=1e-9)


def test_coupled_overlap_too_small_is_refused(tmp_path):
    """As above with g = 0.2: the plant can save at most 0.2 x 0.5 x 60 = 6 t, 30 + 6 = 36 < 50:
    14 t short, and the message counts the overlap's contribution."""
    path = write_case(
        tmp_path,
        [
            dict(entity_id="N1", market="national", base_emissions_t=100.0, sector="power"),
            dict(entity_id="R1", market="regional", base_emissions_t=100.0, electricity_share=0.5),
        ],
        {"N1": 100.0, "R1": 100.0},
        [("N1", 1, 0.3, 2000.0), ("R1", 1, 0.6, 800.0)],
        [("P1", 2026, 2026)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.5}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.1}}},
        },
    )
    path.write_text(path.read_text() + '\n[overlap]\nelectricity = "coupled"\nmarginal_grid_factor = 0.2\n')
    refused_by_all(path, "market 'national'", "14 t short", "coupled electricity overlap (at most 6 t)")


def test_banking_hint_only_when_banking_is_off(tmp_path):
    """Two periods, no link; regional needs 0 t in P1 (20 t of abatement possible) and 50 t in
    P2 (20 t possible): 30 t short in P2. With banking on the pass carries P1's 20 t: 10 t short,
    and no banking hint. With banking off, 30 t short and the hint says banking would help only if
    it would: here it would not (20 < 30), so it is not offered either."""
    markets = {
        "national": {"compliance_factor": {"P1": {"general": 0.1}, "P2": {"general": 0.1}}},
        "regional": {"compliance_factor": {"P1": {"general": 0.0}, "P2": {"general": 0.5}}},
    }
    path = base_case(tmp_path, periods=[("P1", 2026, 2026), ("P2", 2027, 2027)], markets=markets)
    msg = refused_by_all(path, "market 'regional'", "period P2", "10 t short")
    assert "banking" not in msg
    markets["regional"]["banking"] = False
    path = base_case(tmp_path, periods=[("P1", 2026, 2026), ("P2", 2027, 2027)], markets=markets)
    msg = refused_by_all(path, "market 'regional'", "period P2", "30 t short")
    assert "banking" not in msg
    # a looser P2 factor (0.3: needs 30 t) is met with banking (20 + 20 >= 30) but not without
    markets["regional"]["compliance_factor"]["P2"]["general"] = 0.3
    path = base_case(tmp_path, periods=[("P1", 2026, 2026), ("P2", 2027, 2027)], markets=markets)
    engines = supporting_engines(path)
    for _, eng, scn, ds in engines:
        with pytest.raises(ModelError, match=r"turn banking on \(markets\.regional\.banking = true"):
            run_dataset(scn, ds, engine=eng)


# ---------------------------------------------------------------------------------------
# the other sources of supply: counted, so short markets that they rescue are not refused
# ---------------------------------------------------------------------------------------

SHORT_ALONE = {
    "national": {"compliance_factor": {"P1": {"general": 0.1}, "P2": {"general": 0.1}}},
    "regional": {"compliance_factor": {"P1": {"general": 0.5}, "P2": {"general": 0.0}}},
}
TWO_PERIODS = [("P1", 2026, 2026), ("P2", 2027, 2027)]


def short_case(tmp_path, regional: dict, offsets=None):
    """Regional is 30 t short in P1 on its own abatement (needs 50, 20 possible); P2 needs 0 t."""
    markets = {k: dict(v) for k, v in SHORT_ALONE.items()}
    markets["regional"].update(regional)
    return base_case(tmp_path, periods=TWO_PERIODS, markets=markets, offsets=offsets)


@pytest.mark.solver
@pytest.mark.parametrize(
    "regional, offsets",
    [
        # 40 t of credits offered in FY2026 >= the 30 t missing
        ({"use_offsets": True}, [("outside", "regional", 2026, 40.0, 5000.0)]),
        # imports up to 0.7 x the 50 t cap = 35 t >= 30 t
        ({"external": {"price": {"start_jpy_per_t": 5000.0}, "limit_share": 0.7}}, None),
        # a price ceiling: unlimited allowances
        ({"price_ceiling": {"start_jpy_per_t": 5000.0}}, None),
        # a shortfall in P1 made up 1.3 x in P2 (see the docstring)
        ({"penalty_multiplier": 1.3}, None),
    ],
    ids=["offsets", "imports", "ceiling", "shortfall"],
)
def test_other_supply_is_counted(tmp_path, regional, offsets):
    """Each source covers what the market lacks, so the check must let HiGHS solve it. The
    shortfall case uses a P1 factor of 0.35 (needs 35 t, 20 t possible: 15 t short); the 1.3 x
    15 = 19.5 t owed in P2 fit in P2's 20 t of abatement (P2 needs nothing). The check treats the
    make-up as borrowing at 1:1 (P1 bank -15, P2 -15 + 20 = 5 >= 0) and passes."""
    if "penalty_multiplier" in regional:
        regional = {**regional, "compliance_factor": {"P1": {"general": 0.35}, "P2": {"general": 0.0}}}
    path = short_case(tmp_path, regional, offsets)
    runs = solve_all(path)
    assert set(runs) == {"pyomo"}
    assert runs["pyomo"].attrs["termination"] == "optimal"


def test_too_few_offsets_are_refused_and_counted_in_the_message(tmp_path):
    """10 t offered, 30 t missing: 20 t short, and the message counts the 10 t of offsets."""
    path = short_case(tmp_path, {"use_offsets": True}, [("outside", "regional", 2026, 10.0, 5000.0)])
    refused_by_all(path, "market 'regional'", "period P1", "20 t short", "offsets offered (at most 10 t)")


# ---------------------------------------------------------------------------------------
# property: the check never refuses what HiGHS can solve
# ---------------------------------------------------------------------------------------


def _random_case(root, rng):
    """Two markets, 1-3 entities each, 1-3 one- or two-year periods, random factors, steps,
    bank rules, link, overlap and rules that add supply."""
    n_p = int(rng.integers(1, 4))
    periods, y = [], 2026
    for p in range(n_p):
        n_y = int(rng.integers(1, 3))
        periods.append((f"P{p + 1}", y, y + n_y - 1))
        y += n_y
    ents, bau, mac = [], {}, []
    for m, prefix in (("national", "N"), ("regional", "R")):
        for i in range(int(rng.integers(1, 4))):
            eid = f"{prefix}{i}"
            base = float(rng.integers(50, 200))
            ents.append(
                dict(
                    entity_id=eid,
                    market=m,
                    base_emissions_t=base,
                    sector="power" if (m == "national" and i == 0) else "office",
                    electricity_share=float(rng.choice([0.0, 0.3, 0.8])),
                )
            )
            bau[eid] = base * float(rng.uniform(0.8, 1.2))
            shares = rng.dirichlet(np.ones(3)) * float(rng.uniform(0.05, 0.6))
            mac += [(eid, k + 1, float(sh), float(rng.integers(1, 50)) * 100.0) for k, sh in enumerate(shares)]
    markets = {}
    for m in ("national", "regional"):
        cfg = {
            "banking": bool(rng.random() < 0.7),
            "borrowing": bool(rng.random() < 0.3),
            "compliance_factor": {p: {"general": float(rng.choice([0.0, 0.1, 0.2, 0.4, 0.7]))} for p, *_ in periods},
        }
        r = rng.random()
        if r < 0.1:
            cfg["use_offsets"] = True
        elif r < 0.2:
            cfg["external"] = {"price": {"start_jpy_per_t": 6000.0}, "limit_share": float(rng.choice([0.05, 0.3]))}
        elif r < 0.3:
            cfg["penalty_multiplier"] = 1.3
            if rng.random() < 0.5:
                cfg["final_shortfall_price_jpy_per_t"] = 9000.0
        markets[m] = cfg
    offsets = [
        ("outside", m, yr, float(rng.integers(0, 60)), 4000.0)
        for m in ("national", "regional")
        for yr in range(2026, y)
        if markets[m].get("use_offsets")
    ]
    path = write_case(root, ents, bau, mac, periods, markets, discount_rate=0.03, offsets=offsets or None)
    extra = ""
    mode = rng.choice(["none", "full", "limited"])
    if mode != "none":
        extra += (
            f'[link]\nmode = "{mode}"\nratio = {float(rng.choice([0.5, 1.0, 2.0]))}\n'
            f"limit_share = {float(rng.choice([0.05, 0.3]))}\n"
            f'direction = "{rng.choice(["both", "national_to_regional", "regional_to_national"])}"\n'
        )
    if rng.random() < 0.3:
        extra += f'[overlap]\nelectricity = "coupled"\nmarginal_grid_factor = {float(rng.choice([0.5, 1.0]))}\n'
    path.write_text(path.read_text() + "\n" + extra)
    return path


@pytest.mark.solver
def test_the_check_never_refuses_what_highs_solves(tmp_path, monkeypatch):
    """60 random cases (fixed seed). For each one the check refuses, the LP without any check
    must be infeasible for HiGHS too; and the check must refuse some of them (it still works)."""
    import nationcap.engines.highs as hd
    import nationcap.engines.pyomo_highs as ph
    from nationcap.engines.feasibility import check_feasible

    rng = np.random.default_rng(20260611)
    refused = solved = 0
    for k in range(60):
        path = _random_case(tmp_path / f"c{k}", rng)
        scn, ds = load(path)
        md = prepare(scn, ds)
        try:
            check_feasible(md)
            continue
        except ModelError:
            refused += 1
        with monkeypatch.context() as mp:
            mp.setattr(hd, "check_feasible", lambda md: None)
            with pytest.raises(ModelError, match="HiGHS did not find an optimal solution"):
                ph.PyomoHighsEngine().solve(md)
        solved += 1
    assert refused >= 5
