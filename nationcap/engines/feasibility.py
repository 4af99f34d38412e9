r"""Pre-solve diagnosis: is there a cap that no abatement and no allowed supply can meet?

Run by the engines before they build or solve anything (a failure costs milliseconds, not a
solve) and again by the Pyomo engine when HiGHS reports infeasibility, to name the market and
period. It never refuses a feasible scenario: it refuses only when a *relaxation* of the LP is
already infeasible, i.e. when the caps cannot be met even if every source of supply the scenario
allows delivered the most it possibly could. Whatever it cannot rule out is left to the solver.

The relaxations (t; ``gap[m, p] = BAU - cap - max abatement`` of market m in period p):

(a) **Each market on its own**, with an upper bound ``extra[m, p]`` on everything that can reach
    its pool or lower its entities' obligations in period p besides its own abatement:

    ==================================  =====================================================
    source (scenario key)               most it can supply in period p
    ==================================  =====================================================
    offsets (``use_offsets``)           every credit offered to the market in p's years
                                        (``offsets.csv``; per-entity limits only lower it)
    imports (``external``)              ``limit_share x cap[m, p]``
    price ceiling (``price_ceiling``)   unbounded; with ``ceiling_volume_limit_t``: the
                                        limit x the years of p
    reserve release tranches            the sum of their ``volume_t`` x the years of p
    (``reserve.release``)               (withholding and the floor only take allowances out:
                                        a relaxation may leave them unused)
    last-period administrator purchase  unbounded in the last period
    (``final_shortfall_price_...``)
    link inflow, ``mode = "full"``      unbounded, if ``direction`` lets allowances into m
    link inflow, ``mode = "limited"``   ``limit_share x cap[m, p]`` (receiving market), likewise
    coupled electricity overlap         supplier market only: ``g x sum of electricity_share x
    (``[overlap] electricity``)         every abatement step of the user market in p`` (the
                                        whole saving, :mod:`nationcap.model.rules.overlap`)
    ==================================  =====================================================

    A market with ``penalty_multiplier`` may fall short before the last period and make it up
    later at k >= 1 times the shortfall: with ``B' = Bank - Shortfall`` its pool is that of a
    market that may *borrow* before the last period (at a rate of 1 instead of k), so it is
    checked with borrowing on (:mod:`nationcap.model.rules.shortfall`).

(b) **A linked pair pooled** (any ``[link]`` mode and direction): the two pool balances added in
    national-allowance units (regional tonnes / ``ratio``) cancel the transfers, so
    ``gap[n] + gap[r] / ratio`` must be met by the abatement and the extra supply (other than the
    link) of both, with the more lenient bank rules of the two (banking if either banks,
    borrowing if either borrows or has a make-up shortfall).

Each relaxation is checked with the exact greedy bank recursion: with every step used, the best
reachable bank is ``s_p = min(hi_p, s_{p-1} - gap_p + extra_p)``, where ``hi_p`` is 0 without
banking and +inf with it, and it is feasible iff ``s_p >= lo_p`` in every period (``lo_p`` = 0,
or -inf before the last period with borrowing; :func:`nationcap.model.data.bank_bounds`).
Keeping the bank as high as possible is never worse later, so the pass is exact for the
relaxation, and exact for the LP of a market without extra supply or links.

The supply bounds are not written here: each program rule declares its own, next to its math
(its ``feasibility(md)`` hook, :class:`nationcap.model.rules.base.Feasibility`), with the notes
and hints the message gives about it (a link's closed direction or its limit), and the table
above summarises what the shipped rules declare. A rule that is on but declares nothing (one
added to :data:`nationcap.model.rules.RULES` without the hook) makes this check refuse nothing:
it might add supply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config.schema import is_split, market_table
from ..errors import ModelError
from ..model.data import ModelData, bank_bounds
from ..model.rules import RULES
from ..model.rules.base import Feasibility


@dataclass
class _Relaxation:
    """One pool to check: its gaps, extra supply, bank rules and how to describe it (t)."""

    label: str  # "market 'regional'" or "linked markets ..."
    gap_t: np.ndarray  # (P,) requirement minus every abatement step
    extra_t: np.ndarray  # (P,) most extra supply, may be inf
    banking: bool
    borrowing: bool
    sources: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (label, (P,) t) for messages


def fmt_t(x: float) -> str:
    """A quantity of tonnes for a message: Mt, or t when below 0.01 Mt."""
    if not np.isfinite(x):
        return "unlimited"
    return f"{x / 1e6:,.4f} Mt" if abs(x) >= 1e4 else f"{x:,.4g} t"


def _bank_pass(gap: np.ndarray, extra: np.ndarray, banking: bool, borrowing: bool) -> list[tuple[int, float]]:
    """(period, tonnes short) of every period where the best reachable bank is below its bound."""
    n_p = len(gap)
    tol = 1e-7 * max(1.0, float(np.abs(gap).max(initial=0.0)))
    out = []
    s = 0.0
    for p in range(n_p):
        lo, hi = bank_bounds(banking, borrowing, p == n_p - 1)
        s = s - gap[p] + extra[p]
        if hi is not None:
            s = min(hi, s)
        if lo is not None and s < lo - tol:
            out.append((p, lo - s))
            s = lo
    return out


#: ((entity_market, col_entity, year_period, col_year), (market, period) cell of each column) of
#: the last model data checked; the draws of a Monte Carlo batch share these arrays
_CELLS: list[tuple[tuple[np.ndarray, ...], np.ndarray]] = []


def _max_abatement_t(md: ModelData) -> np.ndarray:
    """:meth:`ModelData.max_abatement_t` (the same sums), with the cell of each column kept
    while the model's columns are the same arrays."""
    key = (md.entity_market, md.col_entity, md.year_period, md.col_year)
    cell = next((c for k, c in _CELLS if all(a is b for a, b in zip(k, key))), None)
    n_p = len(md.periods)
    if cell is None:
        cell = md.entity_market[md.col_entity] * n_p + md.col_period
        _CELLS[:] = [(key, cell)]
    return np.bincount(cell, weights=md.col_qty_t, minlength=len(md.markets) * n_p).reshape(-1, n_p)


def declared(md: ModelData) -> list[Feasibility] | None:
    """What every active rule declares it adds (its ``feasibility`` hook), or None when an active
    rule declares nothing: its supply is unknown, so no relaxation can be trusted."""
    out = []
    for rule in RULES:
        if not rule.active(md.scenario):
            continue
        hook = getattr(rule, "feasibility", None)
        if hook is None:
            return None
        out.append(hook(md))
    return out


def relaxations(md: ModelData, rules: list[Feasibility] | None = None) -> list[_Relaxation]:
    """The relaxations (a) and (b) of the module docstring, in that order, from what the rules
    declare (``rules``; default :func:`declared`, which must not be None)."""
    if rules is None:
        rules = declared(md)
        assert rules is not None, "a rule that is on declares no feasibility hook"
    n_p = len(md.periods)
    caps = md.cap_t()
    gap = md.bau_by_market_period_t() - caps - _max_abatement_t(md)
    supply = [s for f in rules for s in f.supply]
    borrowing = set().union(*(f.borrowing for f in rules))
    out: list[_Relaxation] = []
    own: list[_Relaxation] = []
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        sources = [(s.label, s.t) for s in supply if s.market == a and not s.via_link]
        extra = np.sum([v for _, v in sources], axis=0) if sources else np.zeros(n_p)
        rel = _Relaxation(
            f"market {name!r}", gap[a], extra, cfg.banking, cfg.borrowing or a in borrowing, sources=sources
        )
        own.append(rel)
        # (a): the market alone, with the most a link can bring in
        link_sources = list(sources)
        link_extra = extra
        for s in supply:
            if s.market == a and s.via_link:
                link_sources.append((s.label, s.t))
                link_extra = link_extra + s.t
        out.append(_Relaxation(rel.label, gap[a], link_extra, rel.banking, rel.borrowing, sources=link_sources))
    for n, r, ratio in (pool for f in rules for pool in f.pools):
        rn, rr = own[n], own[r]
        sources = [(f"{lab} ({md.markets[n]})", v) for lab, v in rn.sources]
        sources += [(f"{lab} ({md.markets[r]}, / ratio)", v / ratio) for lab, v in rr.sources]
        out.append(
            _Relaxation(
                f"linked markets {md.markets[n]!r} and {md.markets[r]!r} together "
                f"(in national allowances, regional t / ratio {ratio:g})",
                rn.gap_t + rr.gap_t / ratio,
                rn.extra_t + rr.extra_t / ratio,
                rn.banking or rr.banking,
                rn.borrowing or rr.borrowing,
                sources=sources,
            )
        )
    return out


def _message(md: ModelData, rel: _Relaxation, p: int, short_t: float, k: int, rules: list[Feasibility]) -> str:
    """One problem: where, how much is short, what was counted, and hints that fit the scenario
    (the market's own keys, then what the rules declare for it: their ``notes`` and ``hints``)."""
    pname = md.periods[p]
    counted = [f"{lab} (at most {fmt_t(float(v[p]))})" for lab, v in rel.sources if v[p] > 0]
    what = "every abatement step used" + (" and " + ", ".join(counted) if counted else "")
    notes, hints = [], []
    if k < len(md.markets):  # a market alone
        name = md.markets[k]
        cfg = md.scenario.markets[name]
        # a market split from a table (regional/Saitama) has no table of its own: its keys are the
        # table's, and a change there applies to every market split from it
        table = market_table(name)
        whose = (
            f" (the key of table {table!r}, which {name!r} is split from, for all its markets)"
            if is_split(name)
            else ""
        )
        hints.append(f"loosen markets.{table}.compliance_factor.{pname}{whose}")
        for f in rules:
            notes += f.notes.get(k, [])
            hints += f.hints.get(k, [])
        if not cfg.banking and p > 0 and _would_pass(rel, banking=True):
            hints.append(f"turn banking on (markets.{table}.banking = true; earlier surpluses lapse now)")
        if not rel.borrowing and p < len(md.periods) - 1 and _would_pass(rel, borrowing=True):
            hints.append(f"allow borrowing (markets.{table}.borrowing = true; later periods have a surplus)")
    else:
        hints.append("loosen a compliance factor of either market")
    hints.append("add abatement steps")
    return (
        f"{rel.label}, period {pname}: the cap{'s' if k >= len(md.markets) else ''} cannot be met even with "
        f"{what}{''.join(f' ({n})' for n in notes)}: {fmt_t(short_t)} short; "
        f"{', '.join(hints[:-1])} or {hints[-1]}"
    )


def _would_pass(rel: _Relaxation, banking: bool | None = None, borrowing: bool | None = None) -> bool:
    return not _bank_pass(
        rel.gap_t,
        rel.extra_t,
        rel.banking if banking is None else banking,
        rel.borrowing if borrowing is None else borrowing,
    )


def check_feasible(md: ModelData) -> None:
    """Raise :class:`ModelError` naming the market(s), period and tonnes short if a relaxation of
    the scenario (see the module docstring) is infeasible; return quietly otherwise."""
    rules = declared(md)
    if rules is None:
        return  # a rule whose supply is not declared: leave the verdict to the solver
    problems = []
    for k, rel in enumerate(relaxations(md, rules)):
        for p, short in _bank_pass(rel.gap_t, rel.extra_t, rel.banking, rel.borrowing):
            problems.append(_message(md, rel, p, short, k, rules))
    if problems:
        raise ModelError("infeasible scenario:\n  - " + "\n  - ".join(problems))
