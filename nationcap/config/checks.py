"""Cross-field checks of a :class:`~nationcap.config.schema.Scenario`: what a single key's type
and bounds cannot say.

The schema (:mod:`nationcap.config.schema`) types every key and bounds the numbers; the checks
here relate keys to each other (periods in order and contiguous, factors for every period, names
that exist, a volume limit only with its price, prices that stay plausible in every model year)
and need no dataset. The band/reserve arbitrage analysis is :mod:`nationcap.config.arbitrage`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import Problems
from .arbitrage import check_band_arbitrage
from .messages import did_you_mean
from .schema import MAX_PRICE_JPY_PER_T, SPLIT_SEP, MarketConfig, Scenario


def _plain_name(name: str) -> bool:
    """Whether ``name`` can name one folder: not empty, not hidden, no path separator."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\0")


def check_scenario(scn: Scenario, fname: str) -> Problems:
    """Semantic checks that do not need the dataset: periods and factors."""
    problems = Problems(context="scenario")
    if not _plain_name(scn.name):
        problems.add(
            fname,
            "key 'name'",
            "",
            f"{scn.name!r} is not a plain name: it names the default output folder (outputs/<name>/), so it must "
            f"not be empty, start with '.', or hold '/' or '\\'; e.g. name = \"my_scenario\"",
        )
    if not scn.periods:
        problems.add(fname, "key 'periods'", "", "at least one [[periods]] table is required")
    if scn.solver.name != "highs":
        problems.add(fname, "key 'solver.name'", "", f"only 'highs' is supported, got {scn.solver.name!r}")
    names = [p.name for p in scn.periods]
    k = scn.foresight.horizon_periods
    if k is not None and k > len(scn.periods):
        problems.add(
            fname,
            "key 'foresight.horizon_periods'",
            "",
            f"must be at most the number of periods ({len(scn.periods)}; that many is perfect foresight), got {k}",
        )
    for i, p in enumerate(scn.periods):
        where = f"key 'periods.{i}' ({p.name})"
        if p.last_year < p.first_year:
            problems.add(fname, where, "", f"last_year {p.last_year} is before first_year {p.first_year}")
        if names.count(p.name) > 1:
            problems.add(fname, where, "", f"period name {p.name!r} is used more than once")
        if i > 0 and p.last_year >= p.first_year and (prev := scn.periods[i - 1]).last_year >= prev.first_year:
            # (a reversed period is reported above; its neighbours are not compared with it)
            if p.first_year <= prev.last_year:
                problems.add(
                    fname,
                    where,
                    "",
                    f"overlaps period {prev.name} (which ends in {prev.last_year}); "
                    f"periods must be in order and must not overlap",
                )
            elif p.first_year > prev.last_year + 1:
                problems.add(
                    fname,
                    where,
                    "",
                    f"gap after period {prev.name}: years {prev.last_year + 1}..{p.first_year - 1} "
                    f"are in no period; periods must be contiguous",
                )
    if not scn.markets:
        problems.add(fname, "key 'markets'", "", "define at least one [markets.<name>] table")
    for key, pair, active in (
        ("link", scn.link.markets, scn.link.mode != "none"),
        ("overlap", scn.overlap.markets, scn.overlap.electricity == "coupled"),
    ):
        if active:
            for name in pair:
                if name not in scn.markets:
                    problems.add(
                        fname,
                        f"key '{key}.markets'",
                        "",
                        f"unknown market {name!r}; the scenario defines {list(scn.markets)}"
                        + did_you_mean(name, scn.markets),
                    )
            if pair[0] == pair[1]:
                problems.add(fname, f"key '{key}.markets'", "", "name two different markets")
    for m, mc in scn.markets.items():
        _check_scope(problems, fname, m, mc, scn)
        for pname in mc.compliance_factor:
            if pname not in names:
                problems.add(
                    fname,
                    f"key 'markets.{m}.compliance_factor.{pname}'",
                    "",
                    f"unknown period {pname!r}; periods are {names}",
                )
        _check_rules(problems, fname, m, mc, scn)
        for pname in names:
            if mc.allocation.rule == "grandfathering" and "general" not in mc.compliance_factor.get(pname, {}):
                problems.add(
                    fname,
                    f"key 'markets.{m}.compliance_factor.{pname}'",
                    "",
                    "a 'general' factor is required for every period (other categories fall back to it)",
                )
    _check_finite(problems, fname, scn)
    check_band_arbitrage(problems, fname, scn)
    return problems


def _check_scope(problems: Problems, fname: str, m: str, mc: MarketConfig, scn: Scenario) -> None:
    """``select`` and ``split_by`` of market ``m`` (what needs no dataset; the rest is checked
    when the selection is resolved, ``nationcap/derive/scope.py``)."""
    key = f"key 'markets.{m}"
    if SPLIT_SEP in m:
        problems.add(
            fname,
            f"{key}'",
            "",
            f"a market name must not contain {SPLIT_SEP!r}: it names the markets a split_by table makes "
            f"('<market>{SPLIT_SEP}<group>'); rename the market",
        )
    sel = mc.select
    if sel is not None:
        for col, values in sel.labels().items():
            if not values:
                problems.add(
                    fname, f"{key}.select.{col}'", "", "an empty list selects nothing; give values or drop the key"
                )
        if sel.min_base_t is not None and sel.max_base_t is not None and sel.min_base_t > sel.max_base_t:
            problems.add(
                fname,
                f"{key}.select'",
                "",
                f"min_base_t ({sel.min_base_t:g}) is above max_base_t ({sel.max_base_t:g}): no entity can match",
            )
    if mc.split_by is not None:
        for what, pair, on in (
            ("link", scn.link.markets, scn.link.mode != "none"),
            ("overlap", scn.overlap.markets, scn.overlap.electricity == "coupled"),
        ):
            if on and m in pair:
                problems.add(
                    fname,
                    f"{key}.split_by'",
                    "",
                    f"market {m!r} is split into one market per {mc.split_by}, but {what}.markets names it: "
                    f"a {what} joins two single markets. Remove split_by, or set "
                    + ("link.mode = 'none'" if what == "link" else "overlap.electricity = 'fixed'"),
                )


def _non_finite(value: Any, key: str) -> list[tuple[str, Any]]:
    """(dotted key, value) of every non-finite float inside a dumped scenario value."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(key, value)]
    if isinstance(value, Mapping):
        return [hit for k, v in value.items() for hit in _non_finite(v, f"{key}.{k}" if key else str(k))]
    if isinstance(value, list | tuple):
        return [hit for i, v in enumerate(value) for hit in _non_finite(v, f"{key}.{i}")]
    return []


def _check_finite(problems: Problems, fname: str, scn: Scenario) -> None:
    """Every number of the scenario is finite (TOML allows ``inf`` and ``nan``), and the prices it
    implies in every model year (a start price grown at ``growth_rate``) are finite and within
    +/- ``MAX_PRICE_JPY_PER_T``. HiGHS options (``solver.highs``) are HiGHS's business."""
    dumped = scn.model_dump(mode="python", exclude={"solver": {"highs"}})
    for key, value in _non_finite(dumped, ""):
        problems.add(fname, f"key '{key}'", "", f"non-finite number ({value}); use a finite number")
    for m, mc in scn.markets.items():
        paths = {
            "price_floor": mc.price_floor,
            "price_ceiling": mc.price_ceiling,
            "external.price": mc.external.price if mc.external else None,
        }
        for path, pp in paths.items():
            if pp is None or not all(math.isfinite(v) for v in (pp.start_jpy_per_t, pp.growth_rate)):
                continue
            for y in scn.years:
                v = pp.value(y)
                if not math.isfinite(v) or abs(v) > MAX_PRICE_JPY_PER_T:
                    problems.add(
                        fname,
                        f"key 'markets.{m}.{path}'",
                        "",
                        f"the price in FY{y} is {v:,.6g} JPY/t, beyond +/-{MAX_PRICE_JPY_PER_T:g} JPY/t "
                        f"(implausible, and beyond what the solver handles accurately); check "
                        f"start_jpy_per_t, growth_rate and by_year",
                    )
                    break
        for side, tranches in (
            ("release", mc.reserve.release if mc.reserve else []),
            ("withhold", mc.reserve.withhold if mc.reserve else []),
        ):
            for k, tr in enumerate(tranches):
                if not all(math.isfinite(v) for v in (tr.trigger_jpy_per_t, tr.growth_rate)) or tr.growth_rate <= -1:
                    continue
                for y in scn.years:
                    v = tr.trigger(y)
                    if not math.isfinite(v) or abs(v) > MAX_PRICE_JPY_PER_T:
                        problems.add(
                            fname,
                            f"key 'markets.{m}.reserve.{side}.{k}'",
                            "",
                            f"the trigger in FY{y} is {v:,.6g} JPY/t, beyond {MAX_PRICE_JPY_PER_T:g} JPY/t "
                            f"(implausible, and beyond what the solver handles accurately); check "
                            f"trigger_jpy_per_t and growth_rate",
                        )
                        break
        price = mc.final_shortfall_price_jpy_per_t
        if price is not None and math.isfinite(price) and abs(price) > MAX_PRICE_JPY_PER_T:
            problems.add(
                fname,
                f"key 'markets.{m}.final_shortfall_price_jpy_per_t'",
                "",
                f"{price:,.6g} JPY/t is beyond {MAX_PRICE_JPY_PER_T:g} JPY/t (implausible); check the value",
            )


def _check_rules(problems: Problems, fname: str, m: str, mc: MarketConfig, scn: Scenario) -> None:
    key = f"markets.{m}"
    names = [p.name for p in scn.periods]
    for status in mc.top_level_multiplier:
        if status not in ("top", "near_top"):
            problems.add(
                fname, f"key '{key}.top_level_multiplier.{status}'", "", "unknown status; use 'top' or 'near_top'"
            )
    if mc.offsets and not mc.use_offsets:
        problems.add(
            fname, f"key '{key}.offsets'", "", "offset limits are set but use_offsets is false; set use_offsets = true"
        )
    if mc.penalty_multiplier is None and mc.final_shortfall_price_jpy_per_t is not None:
        problems.add(
            fname,
            f"key '{key}.final_shortfall_price_jpy_per_t'",
            "",
            "needs penalty_multiplier (no shortfall is allowed without it)",
        )
    shortest = min((p.n_years for p in scn.periods), default=1)
    if mc.trading_from_year > shortest >= 1:  # (a reversed period is reported on its own)
        problems.add(
            fname,
            f"key '{key}.trading_from_year'",
            "",
            f"must be between 1 and the shortest period's length ({shortest} years)",
        )
    for pname, share in mc.auction_share.items():
        if isinstance(share, dict):  # a sector or benchmark group: checked against the dataset
            for y in share:
                if not y.isdigit():
                    problems.add(
                        fname,
                        f"key '{key}.auction_share.{pname}.{y}'",
                        "",
                        "keys must be fiscal years, e.g. 2033 = 1.0",
                    )
        elif pname not in names:
            problems.add(
                fname,
                f"key '{key}.auction_share.{pname}'",
                "",
                f"unknown period {pname!r}; periods are {names} (a sector or benchmark group takes a table of "
                f"fiscal year = share)",
            )
    al = mc.allocation
    if al.rule == "benchmark":
        if al.base_years is None:
            problems.add(
                fname, f"key '{key}.allocation.base_years'", "", "rule = 'benchmark' needs base_years = { first, last }"
            )
        elif al.base_years.last < al.base_years.first:
            problems.add(fname, f"key '{key}.allocation.base_years'", "", "last is before first")
    if mc.price_floor and mc.price_ceiling:
        bad = [y for y in scn.years if mc.price_floor.value(y) > mc.price_ceiling.value(y)]
        if bad:
            shown = ", ".join(f"FY{y}" for y in bad[:5]) + (f" and {len(bad) - 5} more years" if len(bad) > 5 else "")
            problems.add(fname, f"key '{key}.price_floor'", "", f"floor above the ceiling in {shown}")
    for path, pp in (
        ("price_floor", mc.price_floor),
        ("price_ceiling", mc.price_ceiling),
        ("external.price", mc.external.price if mc.external else None),
    ):
        if pp is None:
            continue
        for y in pp.by_year:
            if not y.isdigit():
                problems.add(
                    fname, f"key '{key}.{path}.by_year.{y}'", "", "keys must be fiscal years, e.g. 2028 = 2000.0"
                )
            elif scn.years and int(y) not in scn.years:
                problems.add(
                    fname,
                    f"key '{key}.{path}.by_year.{y}'",
                    "",
                    f"FY{y} is not a model year ({scn.years[0]}..{scn.years[-1]}), so this entry would never be "
                    f"used; give a year of the periods or remove it",
                )
    for which, limit, band in (
        ("floor", mc.floor_volume_limit_t, mc.price_floor),
        ("ceiling", mc.ceiling_volume_limit_t, mc.price_ceiling),
    ):
        if limit is None:
            continue
        if band is None:
            problems.add(
                fname,
                f"key '{key}.{which}_volume_limit_t'",
                "",
                f"limits the price {which}, but the market has no price_{which}; set price_{which} or remove the limit",
            )
    by = mc.base_year
    if by.rule == "max_3yr_average" and (by.first is None or by.last is None or by.last - by.first < 2):
        problems.add(
            fname,
            f"key '{key}.base_year'",
            "",
            "max_3yr_average needs first and last spanning at least 3 fiscal years",
        )
