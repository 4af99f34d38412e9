"""The band and reserve arbitrage analysis: can the administrator sell an allowance and buy it
back for more, in present value, than it sold it for?

A price floor above a price ceiling that the same allowance can reach (within a period, by
banking or borrowing, or over a full link) makes the LP unbounded; with a finite volume on either
side (a reserve tranche, a volume limit) the LP stays bounded but pays itself. Both designs are
refused before anything is solved. Called by :func:`nationcap.config.checks.check_scenario`.
"""

from __future__ import annotations

from typing import Any

from ..errors import Problems
from .schema import ReserveTranche, Scenario


def _band_routes(scn: Scenario) -> list[tuple[str, str, float, set[str]]]:
    """Ways an allowance issued at one market's ceiling can reach a market's floor:
    (ceiling market, floor market, floor-market allowances per ceiling-market allowance, the
    markets that can hold it between periods)."""
    link = scn.link
    n, r = link.markets
    full = link.mode == "full" and n != r and n in scn.markets and r in scn.markets and link.ratio > 0
    both = full and link.direction == "both"
    routes = [(m, m, 1.0, {m} | ({n, r} if both and m in (n, r) else set())) for m in scn.markets]
    if full and link.direction in ("both", "national_to_regional"):
        routes.append((n, r, float(link.ratio), {n, r}))
    if full and link.direction in ("both", "regional_to_national"):
        routes.append((r, n, 1.0 / link.ratio, {n, r}))
    return routes


def _supply_paths(scn: Scenario, m: str) -> list[tuple[str, str, Any, bool]]:
    """What the administrator of market ``m`` sells at a price: (description, key, price in a year's
    money as a function of the year, unlimited?) of the ceiling and of every release tranche."""
    mc = scn.markets[m]
    out: list[tuple[str, str, Any, bool]] = []
    if mc.price_ceiling is not None:
        out.append(("the ceiling", "price_ceiling", mc.price_ceiling.value, mc.ceiling_volume_limit_t is None))
    for k, tr in enumerate(mc.reserve.release if mc.reserve else []):
        if tr.volume_t > 0:
            out.append((f"release tranche {k}", f"reserve.release.{k}", _tranche_path(tr), False))
    return out


def _demand_paths(scn: Scenario, m: str) -> list[tuple[str, str, Any, bool]]:
    """What the administrator of market ``m`` buys back at a price: the floor and every withhold tranche."""
    mc = scn.markets[m]
    out: list[tuple[str, str, Any, bool]] = []
    if mc.price_floor is not None:
        out.append(("the floor", "price_floor", mc.price_floor.value, mc.floor_volume_limit_t is None))
    for k, tr in enumerate(mc.reserve.withhold if mc.reserve else []):
        if tr.volume_t > 0:
            out.append((f"withhold tranche {k}", f"reserve.withhold.{k}", _tranche_path(tr), False))
    return out


def _tranche_path(tr: ReserveTranche) -> Any:
    return tr.trigger


def check_band_arbitrage(problems: Problems, fname: str, scn: Scenario) -> None:
    """A price band or reserve design under which the administrator sells an allowance and buys it
    back for more (in present value) than it sold it for.

    With ``d[y]`` = :meth:`Scenario.discount_factor`, issuing one allowance at the ceiling (or
    releasing it from a reserve tranche) in year a costs ``d[a] x price[a]`` and withdrawing it at
    the floor (or withholding it in a tranche) in year b earns ``d[b] x price[b]``
    (``nationcap/model/rules/price_band.py``, ``nationcap/model/rules/reserve.py``); the pool rows
    allow it when a and b are in the same period (one pool row), when b's period is later and the
    allowance can be banked, or earlier and it can be borrowed. Over a full link
    (``nationcap/model/rules/link.py``) one national allowance becomes ``ratio`` regional ones, so a
    national ceiling meets a regional floor x ratio (and a regional ceiling a national floor /
    ratio), and either linked market can hold the allowance between periods. The most profitable
    pair of years is reported per route and pair of price paths.

    An unlimited ceiling against an unlimited floor makes the LP unbounded. Where either side is
    finite (a reserve tranche, a volume limit) the LP is bounded, but its optimum sells and buys
    back the same allowances at once, a payment to itself the objective counts as a gain: the
    volumes and payments it reports mean nothing and the price can sit anywhere between the two
    prices. Both are refused: a design must not buy back above a PV price it sells at and can be
    reached from.
    """
    period_of = {y: i for i, p in enumerate(scn.periods) for y in p.years}
    years = list(period_of)
    link = scn.link
    for src, dst, factor, carriers in _band_routes(scn):
        bank = any(scn.markets[c].banking for c in carriers)
        borrow = any(scn.markets[c].borrowing for c in carriers)
        for sell_what, sell_key, sell, sell_unlimited in _supply_paths(scn, src):
            for buy_what, buy_key, buy, buy_unlimited in _demand_paths(scn, dst):
                pumps = []
                for a in years:
                    cost_pv = scn.discount_factor(a) * sell(a)
                    for b in years:
                        pa, pb = period_of[a], period_of[b]
                        if not (pa == pb or (pb > pa and bank) or (pb < pa and borrow)):
                            continue
                        gain_pv = factor * scn.discount_factor(b) * buy(b)
                        if gain_pv > cost_pv * (1.0 + 1e-9) + 1e-9:
                            pumps.append((gain_pv - cost_pv, a, b))
                if not pumps:
                    continue
                _, a, b = max(pumps)
                pa, pb = period_of[a], period_of[b]
                carry = (
                    f"within period {scn.periods[pa].name}"
                    if pa == pb
                    else ("carried forward by banking" if pb > pa else "used earlier by borrowing")
                )
                if len(carriers) > 1 and pa != pb:
                    carry += " (in either linked market)"
                sell_at = f"{sell_what}{'' if src == dst else f' of {src!r}'} in FY{a}"
                buy_at = f"{buy_what}{'' if src == dst else f' of {dst!r}'} in FY{b}"
                over = ""
                if src != dst:
                    gain_pv = factor * scn.discount_factor(b) * buy(b)
                    over = (
                        f", moved over the full link at {link.ratio:g} regional allowances per national one "
                        f"({factor:g} x the {'floor' if buy_key == 'price_floor' else 'trigger'}: "
                        f"PV {gain_pv:,.2f} per allowance issued)"
                    )
                off = "" if pa == pb else (" (or turn banking off)" if pb > pa else " (or turn borrowing off)")
                more = f"; {len(pumps) - 1} more pairs of years do the same" if len(pumps) > 1 else ""
                key = f"markets.{src}.{sell_key}" if src == dst else "link"
                prices = (
                    f"({sell(a):,.2f} JPY/t, PV {scn.discount_factor(a) * sell(a):,.2f}) and "
                    f"{'withdrawn at' if buy_key == 'price_floor' else 'withheld by'} {buy_at} "
                    f"({buy(b):,.2f} JPY/t, PV {scn.discount_factor(b) * buy(b):,.2f}), {carry}{over}"
                )
                if sell_unlimited and buy_unlimited:
                    problems.add(
                        fname,
                        f"key '{key}'",
                        "",
                        f"the price band is unbounded: an allowance issued at {sell_at} {prices}, "
                        f"earns more than it costs, without limit; raise the ceiling in FY{a} or lower the floor in "
                        f"FY{b}{off}{more}. A PV floor must not exceed a PV ceiling it can be reached from",
                    )
                    continue
                problems.add(
                    fname,
                    f"key '{key}'",
                    "",
                    f"the administrator would buy back its own allowances: an allowance "
                    f"{'issued at' if sell_key == 'price_ceiling' else 'released by'} {sell_at} {prices}, "
                    f"earns more than it costs; the volumes are finite, so the model is bounded, but it would "
                    f"sell and buy back the same allowances at once (a payment to itself it counts as a gain) and "
                    f"the price would not be determined; raise the price of {sell_what} in FY{a} or lower that of "
                    f"{buy_what} in FY{b}{off}{more}. A PV buy-back price (floor, withhold trigger) must not exceed "
                    f"a PV selling price (ceiling, release trigger) it can be reached from",
                )
