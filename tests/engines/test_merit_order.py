"""The merit-order engine (:mod:`nationcap.engines.merit_order`, name "fast") against the Pyomo engine.

The hand-derived cases it shares with the Pyomo engine are in tests/model/ (one list, every
engine; its least-clearing-price convention on a step boundary is checked there too); here are
its refusals, the reused cost order and property-based cross-checks against the LP.

Cross-checks compare what the LP determines uniquely. Prices, the objective and every column
that is not at exactly its period's price are unique. Columns *at* the price ("tied", e.g. one
MAC step in every year of a period when the discount rate is 0, or equal step costs of two
entities) can share the marginal tonnes in many ways at the same cost; HiGHS picks one vertex,
the fast engine fills them in time and column order. For those the test compares the tied
total per market and price, and compares entity-year / entity-period numbers and the bank only
where no tied column is involved.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest
from casebuilder import REPO, ent, write_case
from click.testing import CliRunner
from handcases import model_data
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.engines import UnsupportedError, require_support
from nationcap.engines.feasibility import check_feasible
from nationcap.engines.merit_order import MeritOrderEngine, _non_default, unsupported_features
from nationcap.engines.pyomo_highs import PyomoHighsEngine
from nationcap.errors import InputError, ModelError
from nationcap.model.data import bank_bounds
from nationcap.pipeline import run_scenario
from nationcap.results.build import build_results
from nationcap.session import Session

pytestmark = pytest.mark.solver
TINY = REPO / "models" / "tiny.toml"
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def merit_order(md):
    """The merit-order engine's SolveResult (a fresh engine: no reused cost order)."""
    return MeritOrderEngine().solve(md)


def lp(md):
    """The Pyomo engine's SolveResult: the LP solved by HiGHS, the reference."""
    return PyomoHighsEngine().solve(md)


# ------------------------------------------------------------------------------------------
# comparing two SolveResults of the same ModelData
# ------------------------------------------------------------------------------------------


def assert_same_solution(md, ref, got, rtol=1e-6):
    """``got`` (fast) equals ``ref`` (Pyomo) in everything the LP determines uniquely."""
    n_m, n_p, n_e = len(md.markets), len(md.periods), md.n_entities
    lam_ref = np.where(np.abs(ref.duals["market_balance"]) < 1e-6, 0.0, ref.duals["market_balance"]).reshape(n_m, n_p)
    lam = got.duals["market_balance"].reshape(n_m, n_p)
    np.testing.assert_allclose(lam, lam_ref, rtol=rtol, atol=1e-5, err_msg="PV prices")
    np.testing.assert_allclose(got.duals["entity_compliance"], lam[md.entity_market].ravel())
    assert got.objective_jpy == pytest.approx(ref.objective_jpy, rel=rtol, abs=1e-3)

    w = md.discount[md.col_year] * md.col_cost
    col_market = md.entity_market[md.col_entity]
    col_period = md.year_period[md.col_year]
    col_price = lam[col_market, col_period]
    tied = np.abs(w - col_price) <= 1e-9 * np.maximum(1.0, np.abs(col_price))
    x_ref, x = ref.values["abatement"], got.values["abatement"]
    atol = 1e-6 * max(1.0, float(md.col_qty_t.max(initial=1.0)))
    np.testing.assert_allclose(x[~tied], x_ref[~tied], rtol=rtol, atol=atol, err_msg="columns off the price")
    for a in range(n_m):  # tied columns: the same total at each price (prices within 1e-9)
        sel = tied & (col_market == a)
        values = np.unique(col_price[sel])
        if len(values) == 0:
            continue
        cluster = np.concatenate([[0], np.cumsum(np.diff(values) > 1e-9 * np.maximum(1.0, values[1:]))])
        for c in np.unique(cluster):
            grp = sel & np.isin(col_price, values[cluster == c])
            assert x[grp].sum() == pytest.approx(x_ref[grp].sum(), rel=rtol, abs=atol), (
                md.markets[a],
                values[cluster == c],
            )

    # entity-period positions and the bank where no tied column is involved
    row = md.col_entity * n_p + col_period
    free_row = np.bincount(row, weights=tied.astype(float), minlength=n_e * n_p) == 0
    np.testing.assert_allclose(
        got.values["net_purchase"][free_row],
        ref.values["net_purchase"][free_row],
        rtol=rtol,
        atol=atol,
        err_msg="net purchases",
    )
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        # the bank is not unique if tied tonnes can move between periods, or (borrowing without
        # banking) if two periods at price 0 can trade borrowing against expiry
        if len(np.unique(col_period[tied & (col_market == a)])) > 1:
            continue
        if cfg.borrowing and not cfg.banking and (lam[a] == 0).sum() >= 2:
            continue
        np.testing.assert_allclose(
            got.values["bank"].reshape(n_m, n_p)[a],
            ref.values["bank"].reshape(n_m, n_p)[a],
            rtol=rtol,
            atol=atol * n_e,
            err_msg=f"bank of {name}",
        )

    # both go through the same results code; unique outputs agree
    r_ref = build_results(md, ref, {})
    r = build_results(md, got, {})
    np.testing.assert_allclose(r["price"].values, r_ref["price"].values, rtol=rtol, atol=1e-5)
    # total cost per market (the objective is unique; its split among periods is not where tied
    # tonnes can move between periods)
    np.testing.assert_allclose(
        r["total_cost"].sum("period").values, r_ref["total_cost"].sum("period").values, rtol=rtol, atol=1e-3
    )
    col_free = np.ones((n_e, len(md.years)), dtype=bool)
    col_free[md.col_entity[tied], md.col_year[tied]] = False
    np.testing.assert_allclose(
        r["abatement"].values[col_free],
        r_ref["abatement"].values[col_free],
        rtol=rtol,
        atol=atol,
        err_msg="abatement per entity-year",
    )
    assert_invariants(md, r)
    return r


def assert_invariants(md, r):
    """Market balance and the bank bounds of each market's rules hold in a results Dataset."""
    scale = max(1.0, float(md.bau_t.sum()))
    for name in md.markets:
        cfg = md.scenario.markets[name]
        bank = r["bank"].sel(market=name).values
        expired = r["expired"].sel(market=name).values
        em = r["market_emissions"].sel(market=name).values
        cap = r["cap"].sel(market=name).values
        prev = np.concatenate([[0.0], bank[:-1]])
        np.testing.assert_allclose(em, cap + prev - bank - expired, atol=1e-9 * scale)
        assert (expired >= -1e-9 * scale).all()
        if not cfg.banking:
            assert (bank <= 1e-9 * scale).all()
        if not cfg.borrowing:
            assert (bank >= -1e-9 * scale).all()
        assert bank[-1] >= -1e-9 * scale


# ------------------------------------------------------------------------------------------
# refusals
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, key",
    [
        ("markets.regional.penalty_multiplier=1.3", "markets.regional.penalty_multiplier"),
        ("markets.national.price_floor={ start_jpy_per_t = 1700.0 }", "markets.national.price_floor"),
        ("markets.regional.auction_share={ P1 = 0.1 }", "markets.regional.auction_share"),
        ("markets.national.use_offsets=true", "markets.national.use_offsets"),
        ('link.mode="limited"', "link.mode"),
        ('link.direction="national_to_regional"', "only a full two-way link"),
        ('overlap.electricity="coupled"', "overlap"),
    ],
)
def test_rules_it_does_not_cover_are_refused_by_name(override, key):
    extra = ['link.mode="full"'] if override.startswith("link.direction") else []
    md = model_data(TINY, [*extra, override])
    eng = MeritOrderEngine()
    assert any(key in feature for feature in eng.supports(md)), eng.supports(md)
    assert PyomoHighsEngine().supports(md) == []  # the reference implements every rule
    with pytest.raises(UnsupportedError, match=key.replace(".", r"\.")) as info:
        require_support(eng, md)
    assert "does not implement" in str(info.value) and info.value.engine == "fast"
    with pytest.raises(UnsupportedError, match=key.replace(".", r"\.")):  # checked once, by the session
        Session(md.scenario, engine=eng).solve()
    with pytest.raises(InputError, match=key.replace(".", r"\.")):  # a usage error (exit 2), not a failed solve
        run_scenario(TINY, overrides=[*extra, override], engine="fast")


def test_refusal_is_generic_for_fields_added_later():
    """A field the engine has never heard of is refused as soon as it leaves its default."""

    class Future(BaseModel):
        banking: bool = True
        link_ratio: float = 1.0
        rules: dict[str, float] = {}

    assert _non_default(Future(), frozenset({"banking"})) == []
    assert _non_default(Future(banking=False), frozenset({"banking"})) == []
    assert [k for k, _ in _non_default(Future(link_ratio=0.5, rules={"x": 1.0}), frozenset({"banking"}))] == [
        "link_ratio",
        "rules",
    ]
    scn = load_scenario(TINY)
    assert unsupported_features(scn) == []
    assert MeritOrderEngine().supports(model_data(TINY)) == []


def test_cli_run_engine_fast(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(TINY), "--engine", "fast", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "results.nc").is_file()
    bad = CliRunner().invoke(
        cli,
        [
            "run",
            str(TINY),
            "--engine",
            "fast",
            "--out",
            str(tmp_path / "x"),
            "--set",
            "markets.regional.penalty_multiplier=1.3",
        ],
    )
    assert bad.exit_code == 2 and "penalty_multiplier" in bad.output and "Traceback" not in bad.output


# ------------------------------------------------------------------------------------------
# the shipped scenarios
# ------------------------------------------------------------------------------------------


def test_tiny_matches_pyomo():
    md = model_data(TINY)
    r = assert_same_solution(md, lp(md), merit_order(md))
    assert (r["price"].values > 0).all()


def test_reused_order_gives_identical_results():
    """MeritOrderEngine re-solves with a cached cost order; changed caps or costs give the same
    answers as a fresh engine."""
    import dataclasses

    md = model_data(TINY)
    eng = MeritOrderEngine()
    eng.solve(md)
    for variant in (
        dataclasses.replace(md, alloc_t=md.alloc_t * 0.97),
        dataclasses.replace(md, col_cost=md.col_cost[::-1].copy()),
        dataclasses.replace(md, col_qty_t=md.col_qty_t * 1.1),
    ):
        a, b = eng.solve(variant), merit_order(variant)
        np.testing.assert_array_equal(a.values["abatement"], b.values["abatement"])
        np.testing.assert_array_equal(a.duals["market_balance"], b.duals["market_balance"])


@pytest.mark.integration
def test_baseline_matches_pyomo():
    md = model_data(REPO / "models" / "baseline.toml")
    ref = lp(md)
    got = merit_order(md)
    np.testing.assert_allclose(got.duals["market_balance"], ref.duals["market_balance"], rtol=1e-6)
    assert got.objective_jpy == pytest.approx(ref.objective_jpy, rel=1e-6)
    r = assert_same_solution(md, ref, got)
    r_ref = build_results(md, ref, {})
    np.testing.assert_allclose(r["total_cost"].values, r_ref["total_cost"].values, rtol=1e-6)


# ------------------------------------------------------------------------------------------
# property-based cross-checks
# ------------------------------------------------------------------------------------------

YEARS0 = 2026


@st.composite
def cases(draw, max_periods=3):
    """Structure from hypothesis; magnitudes from a drawn seed (continuous values, so the
    requirement essentially never lands exactly on a step boundary)."""
    n_per = draw(st.integers(1, max_periods))
    lengths = draw(st.lists(st.integers(1, 3), min_size=n_per, max_size=n_per))
    periods, y = [], YEARS0
    for k, n in enumerate(lengths):
        periods.append((f"P{k + 1}", y, y + n - 1))
        y += n
    n_years = y - YEARS0
    # exactly 0 (ties across years, handled by the comparisons) or a real rate: a rate of 1e-300
    # would make near-ties that the LP's tolerances resolve either way
    rate = draw(st.one_of(st.just(0.0), st.floats(0.005, 0.1)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    entities, bau, mac, markets = [], {}, [], {}
    for m in ("national", "regional"):
        n_e = draw(st.integers(1, 6))
        for i in range(n_e):
            eid = f"{m[0].upper()}{i:02d}"
            base = float(np.exp(rng.uniform(np.log(50), np.log(5000))))
            entities.append(ent(eid, market=m, base=base, category="dhc" if rng.random() < 0.3 else "general"))
            bau[eid] = [float(base * g) for g in rng.uniform(0.85, 1.25, n_years)]
            n_steps = draw(st.integers(1, 4))
            shares = rng.dirichlet(np.ones(n_steps)) * rng.uniform(0.3, 0.95)
            costs = np.where(
                rng.random(n_steps) < 0.15, rng.uniform(-3000, -1, n_steps), rng.uniform(1, 15000, n_steps)
            )
            mac += [(eid, k + 1, float(s), float(c)) for k, (s, c) in enumerate(zip(shares, costs))]
        factors = {
            p: {"general": float(rng.uniform(0.0, 0.45)), "dhc": float(rng.uniform(0.0, 0.45))} for p, _, _ in periods
        }
        if not any(e["market"] == m and e["category"] == "dhc" for e in entities):
            for table in factors.values():  # a category no entity of the market has is refused
                del table["dhc"]
        markets[m] = {"banking": draw(st.booleans()), "borrowing": draw(st.booleans()), "compliance_factor": factors}
    return dict(entities=entities, bau=bau, mac=mac, periods=periods, markets=markets, discount_rate=rate)


def check_random_case(case) -> None:
    """The fast engine's answer is optimal and equals the LP's (or both refuse it, alike)."""
    with tempfile.TemporaryDirectory() as tmp:
        md = model_data(write_case(Path(tmp), **case))
    try:
        check_feasible(md)
    except ModelError as exc:  # the fast engine finds it too, and reports it the same way
        with pytest.raises(ModelError) as got_exc:
            merit_order(md)
        assert str(got_exc.value) == str(exc)
        return
    got = merit_order(md)
    assert_optimal(md, got)
    assume(got.info["boundary_periods"] == 0)  # non-unique price: not comparable point-wise
    assert_same_solution(md, lp(md), got)


@settings(HYPOTHESIS, max_examples=15)
@given(case=cases())
def test_fast_matches_pyomo_on_random_cases(case):
    """The fast engine matches the Pyomo engine on random cases: a few in the fast tier (many
    more in the integration tier, below)."""
    check_random_case(case)


@pytest.mark.integration
@HYPOTHESIS
@given(case=cases())
def test_fast_matches_pyomo_on_many_random_cases(case):
    """The same on 40 random cases."""
    check_random_case(case)


@HYPOTHESIS
@given(case=cases(), market=st.sampled_from(["national", "regional"]), step=st.floats(0.01, 0.5))
def test_tightening_a_market_never_lowers_its_prices(case, market, step):
    """Raising every compliance factor of one market (every period and category, f -> f +
    step * (1 - f)) never lowers any of that market's PV prices (with banking, a tighter later
    period can raise earlier prices too) and leaves the other, unlinked market's prices exactly
    as they were. Holds exactly with the fast engine's least-clearing-price convention."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_case(Path(tmp), **case)
        md = model_data(path)
        tight = [
            f"markets.{market}.compliance_factor.{p}.{cat}={f + step * (1 - f)!r}"
            for p, table in case["markets"][market]["compliance_factor"].items()
            for cat, f in table.items()
        ]
        md2 = model_data(path, tight)
    try:
        check_feasible(md2)  # the tighter one is the harder to meet
    except ModelError:
        assume(False)
    a = md.markets.index(market)
    lam = merit_order(md).duals["market_balance"].reshape(len(md.markets), -1)
    lam2 = merit_order(md2).duals["market_balance"].reshape(len(md.markets), -1)
    assert (lam2[a] >= lam[a] * (1 - 1e-12) - 1e-9).all(), (lam[a], lam2[a])
    other = [b for b in range(len(md.markets)) if b != a]
    np.testing.assert_array_equal(lam2[other], lam[other])


@st.composite
def round_cases(draw):
    """Round numbers from small sets: requirements often land exactly on step boundaries,
    costs tie across entities and years, zero-cost steps and non-binding caps are common."""
    n_per = draw(st.integers(1, 3))
    lengths = draw(st.lists(st.integers(1, 2), min_size=n_per, max_size=n_per))
    periods, y = [], YEARS0
    for k, n in enumerate(lengths):
        periods.append((f"P{k + 1}", y, y + n - 1))
        y += n
    entities, bau, mac, markets = [], {}, [], {}
    for m in ("national", "regional"):
        for i in range(draw(st.integers(1, 3))):
            eid = f"{m[0].upper()}{i}"
            entities.append(ent(eid, market=m, base=draw(st.sampled_from([100.0, 200.0]))))
            bau[eid] = [float(draw(st.sampled_from([80, 100, 120]))) for _ in range(y - YEARS0)]
            for k in range(draw(st.integers(1, 3))):
                mac.append(
                    (
                        eid,
                        k + 1,
                        draw(st.sampled_from([0.1, 0.2, 0.25])),
                        float(draw(st.sampled_from([-500, 0, 1000, 2000, 3000]))),
                    )
                )
        factors = {p: {"general": draw(st.sampled_from([0.0, 0.1, 0.2, 0.3]))} for p, _, _ in periods}
        markets[m] = {"banking": draw(st.booleans()), "borrowing": draw(st.booleans()), "compliance_factor": factors}
    return dict(
        entities=entities,
        bau=bau,
        mac=mac,
        periods=periods,
        markets=markets,
        discount_rate=draw(st.sampled_from([0.0, 0.05])),
    )


def assert_optimal(md, sr, tol=1e-7):
    """KKT conditions of the LP for a SolveResult: primal feasibility, every column at the bound
    its reduced cost ``w - lam`` asks for, prices >= 0, the reduced cost of each Bank (``lam[p] -
    lam[p+1]``) consistent with its bounds, and expiry only at price 0."""
    n_m, n_p = len(md.markets), len(md.periods)
    lam = sr.duals["market_balance"].reshape(n_m, n_p)
    bank = sr.values["bank"].reshape(n_m, n_p)
    expire = np.zeros((n_m, n_p))
    for k, (a, p) in enumerate(md.expire_index()):
        expire[a, p] = sr.values["expired"][k]
    w = md.discount[md.col_year] * md.col_cost
    cm, cp = md.entity_market[md.col_entity], md.year_period[md.col_year]
    x, q, lp = sr.values["abatement"], md.col_qty_t, lam[cm, cp]
    assert (lam >= 0).all()
    assert (x >= -tol).all() and (x <= q + tol).all()
    assert (x[w < lp - 1e-9] >= q[w < lp - 1e-9] - tol).all()
    assert (x[w > lp + 1e-9] <= tol).all()
    need = np.stack([md.bau_t[:, md.period_years(p)].sum(1) - md.alloc_t[:, p] for p in range(n_p)], axis=1)
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        used = np.bincount(cp[cm == a], weights=x[cm == a], minlength=n_p)
        prev = np.concatenate([[0.0], bank[a, :-1]])
        np.testing.assert_allclose(prev + used - need[md.entity_market == a].sum(0) - bank[a] - expire[a], 0, atol=tol)
        assert (expire[a][lam[a] > 1e-9] <= tol).all()
        for p in range(n_p):
            lo, hi = bank_bounds(cfg.banking, cfg.borrowing, p == n_p - 1)
            lo = -np.inf if lo is None else lo
            hi = np.inf if hi is None else hi
            b = bank[a, p]
            assert lo - tol <= b <= hi + tol
            rc = lam[a, p] - (lam[a, p + 1] if p < n_p - 1 else 0.0)
            if b > lo + tol:
                assert rc <= 1e-6, (name, p)
            if b < hi - tol:
                assert rc >= -1e-6, (name, p)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=round_cases())
def test_fast_is_optimal_on_degenerate_cases(case):
    """Where prices are not unique the engines' duals may differ, but the fast answer is still an
    optimum (KKT) with the LP's objective, its price is the least one, and the period is flagged.
    The interval of clearing prices is unique: the fast engine's (from the merit order) equals
    the Pyomo engine's (perturbed re-solves) in the sifting and the full formulation, both ends,
    and every engine's dual lies in it."""
    with tempfile.TemporaryDirectory() as tmp:
        md = model_data(write_case(Path(tmp), **case))
    try:
        check_feasible(md)
    except ModelError as exc:
        with pytest.raises(ModelError) as got_exc:
            merit_order(md)
        assert str(got_exc.value) == str(exc)
        return
    got = merit_order(md)
    ref = lp(md)
    assert_optimal(md, got)
    assert got.objective_jpy == pytest.approx(ref.objective_jpy, rel=1e-9, abs=1e-6)
    lam, lam_ref = got.duals["market_balance"], ref.duals["market_balance"]
    assert (lam <= lam_ref + 1e-6).all()
    if not np.allclose(lam, lam_ref, atol=1e-6):
        assert got.info["boundary_periods"] > 0
    low, high = got.dual_low["market_balance"], got.dual_high["market_balance"]
    np.testing.assert_array_equal(low, lam)  # the least clearing price is the engine's price
    full = PyomoHighsEngine().solve(
        dataclasses.replace(
            md,
            scenario=md.scenario.model_copy(
                update={"solver": md.scenario.solver.model_copy(update={"formulation": "full"})}
            ),
        )
    )
    for other in (ref, full):
        np.testing.assert_allclose(other.dual_low["market_balance"], low, rtol=1e-9, atol=1e-6, err_msg="low")
        np.testing.assert_allclose(other.dual_high["market_balance"], high, rtol=1e-9, atol=1e-6, err_msg="high")
        assert (other.duals["market_balance"] >= low - 1e-6).all()
        assert (other.duals["market_balance"] <= high + 1e-6).all()
    if (high > low + 1e-6).any():
        assert got.info["boundary_periods"] > 0 and got.info["nonunique_prices"] > 0


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases(max_periods=1))
def test_linked_price_lies_between_unlinked_prices(case):
    """One compliance period: a full one-to-one link (``[link] mode = "full"``) pools the two
    merit orders, so the common price lies between the two unlinked prices (fast engine), and the
    Pyomo engine gives the same linked prices."""
    for m in case["markets"].values():  # one period: the bank rules do not matter; make them equal
        m["banking"], m["borrowing"] = True, False
    with tempfile.TemporaryDirectory() as tmp:
        path = write_case(Path(tmp), **case)
        md = model_data(path)
        linked = model_data(path, ['link.mode="full"', "link.ratio=1.0"])
    try:
        check_feasible(md)
    except ModelError:
        assume(False)
    lam = merit_order(md).duals["market_balance"].reshape(2, -1)
    fast = merit_order(linked)
    assume(fast.info["boundary_periods"] == 0)
    both = fast.duals["market_balance"].reshape(2, -1)
    np.testing.assert_allclose(both[0], both[1], rtol=1e-12)
    ref = lp(linked).duals["market_balance"].reshape(2, -1)
    np.testing.assert_allclose(both, ref, rtol=1e-6, atol=1e-6)
    tol = 1e-6 * max(1.0, float(lam.max()))
    assert (both[0] >= lam.min(axis=0) - tol).all() and (both[0] <= lam.max(axis=0) + tol).all(), (lam, both)


@HYPOTHESIS
@given(case=cases(), ratio=st.sampled_from([0.5, 1.0, 2.0]), banking=st.booleans(), borrowing=st.booleans())
def test_fast_matches_pyomo_on_random_full_links(case, ratio, banking, borrowing):
    """A full two-way link at any ratio, both markets with the same bank rules: prices (national
    = ratio x regional) and total cost agree with the LP; with banking (no Expire variables) so
    does the bank in national units when it is unique: not without banking (the LP may let
    allowances lapse while in debt and repay later) and not at a zero discount rate (a step ties
    with itself across years, so abatement can move between periods at no cost)."""
    for m in case["markets"].values():
        m["banking"], m["borrowing"] = banking, borrowing
    with tempfile.TemporaryDirectory() as tmp:
        md = model_data(write_case(Path(tmp), **case), ['link.mode="full"', f"link.ratio={ratio!r}"])
    try:
        ref = lp(md)
    except ModelError:
        with pytest.raises(ModelError):
            merit_order(md)
        return
    got = merit_order(md)
    assume(got.info["boundary_periods"] == 0)
    lam, lam_ref = (s.duals["market_balance"].reshape(2, -1) for s in (got, ref))
    np.testing.assert_allclose(lam, lam_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lam[0], ratio * lam[1], rtol=1e-12, atol=1e-9)
    assert got.objective_jpy == pytest.approx(ref.objective_jpy, rel=1e-6, abs=1e-3)
    if banking and case["discount_rate"] >= 0.01:  # a tiny rate is a near-tie between years
        bank, bank_ref = (s.values["bank"].reshape(2, -1) for s in (got, ref))
        np.testing.assert_allclose(bank[0] + bank[1] / ratio, bank_ref[0] + bank_ref[1] / ratio, rtol=1e-6, atol=1e-3)
        if not borrowing:
            assert (bank >= -1e-9).all()


@pytest.mark.parametrize("scenario", ["tiny.toml", "tiny_montecarlo_linked.toml"])
def test_requirement_only_variants_reuse_the_sorted_sizes_and_stay_exact(scenario):
    """A held exact engine re-solving variants that change only requirements (compliance
    factors) keeps each market's sorted step sizes and their cumulative sums (the same objects),
    and gives what a fresh engine gives, bit for bit (prices, intervals, every value)."""
    from nationcap.session import Session

    s = Session.open(REPO / "models" / scenario, engine="fast")
    s.solve(detail="market", mac_curve=False)
    held = {k: v[3][0] for k, v in s.engine._held_markets.items()}
    assert held
    for f in (0.05, 0.2, 0.12):
        run = s.solve([f"markets.regional.compliance_factor.P2.general={f}"], detail="market", mac_curve=False)
        assert {k: v[3][0] for k, v in s.engine._held_markets.items()}.keys() == held.keys()
        assert all(s.engine._held_markets[k][3][0] is q for k, q in held.items())  # not gathered again
        fresh = MeritOrderEngine().solve(run.model_data)
        sol = run.solution
        for part in ("values", "duals", "dual_low", "dual_high"):
            mine, ref = getattr(sol, part), getattr(fresh, part)
            assert mine.keys() == ref.keys()
            for k in ref:
                assert np.array_equal(mine[k], ref[k]), (part, k, f)
        assert sol.objective_jpy == fresh.objective_jpy
