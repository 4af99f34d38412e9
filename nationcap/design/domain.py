r"""The natural domain of a scenario key: what ``nationcap target`` searches without ``--range``.

A key's domain comes from the scenario schema (:mod:`nationcap.config.schema`), whose numbers carry
their bounds in their type, or from the data where the schema leaves a key unbounded above:

- both bounds in the schema (a compliance factor ``Factor`` in [0, 1), a ``Multiplier`` or
  ``Share`` in [0, 1]): that interval. An open end is replaced by the nearest float inside it
  (for a factor, 1 - 2^-53, the largest float below 1: a cap of base x 2^-53 t is still >= 0, and
  a search over it meets the infeasible caps near 1 as points that cannot be solved);
- a size threshold ``markets.<m>.select.min_base_t`` / ``max_base_t``: [0, the largest base-year
  emissions among the entities the market selects with the threshold at its loosest]. Beyond it
  the threshold selects every entity (``min_base_t``: none), so nothing changes further;
- a price band level ``markets.<m>.price_floor.start_jpy_per_t`` / ``price_ceiling.start_jpy_per_t``:
  [0, the level at which the band in every model year (grown at the band's ``growth_rate`` from
  its ``start_year``) is at or above the dearest abatement step of the market's entities (its cost
  in present value, in that year's money)]. Where abatement alone meets the cap, no price passes
  that level, so a higher ceiling changes nothing, and a higher floor binds in every year with
  every step used (only the price, equal to the floor, moves on);
- anything else without two finite bounds (a link ratio > 0, a limit share >= 0, a penalty
  multiplier >= 1, the discount rate): no natural finite domain, and the search asks for
  ``--range``.
"""

from __future__ import annotations

import math
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any

import annotated_types
import numpy as np
from pydantic import BaseModel

from ..config.schema import Scenario, market_table


@dataclass(frozen=True)
class Domain:
    """The interval searched: ``lo`` .. ``hi`` (floats inside the key's domain) and where it came from."""

    lo: float
    hi: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"low": self.lo, "high": self.hi, "source": self.source}


class NoDomain(Exception):
    """The key has no natural finite domain (the message says why)."""


def schema_bounds(key: str) -> tuple[float | None, bool, float | None, bool, str]:
    """(lower, lower open, upper, upper open, type title) of the number a dotted key names, from
    the schema's annotations; ``NoDomain`` if the key is not a number of the schema."""
    node: Any = Scenario
    metadata: list[Any] = []
    title = ""
    parts = key.split(".")
    i = 0
    while i < len(parts) or typing.get_origin(node) is not None:
        origin = typing.get_origin(node)
        if origin is typing.Annotated:
            base, *extra = typing.get_args(node)
            for info in extra:
                metadata.extend(getattr(info, "metadata", []))
                title = getattr(info, "title", None) or title
            node = base
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(node) if a is not type(None)]
            node = args[0] if len(args) == 1 else float if float in args else args[0]
            continue
        if i >= len(parts):
            break
        part = parts[i]
        if origin is dict:
            node = typing.get_args(node)[1]
            metadata, title = [], ""
            i += 1
        elif origin in (list, tuple):
            node = typing.get_args(node)[0]
            metadata, title = [], ""
            i += 1
        elif isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                raise NoDomain(f"{key!r} is not a key of the scenario ({part!r} is unknown)")
            node, metadata, title = field.annotation, list(field.metadata), field.title or ""
            i += 1
        else:
            raise NoDomain(f"{key!r} is not a key of the scenario ({'.'.join(parts[:i])} is a value)")
    if node not in (float, int):
        raise NoDomain(f"{key!r} is not a number")
    lo = hi = None
    lo_open = hi_open = False
    for m in metadata:
        if isinstance(m, annotated_types.Ge):
            lo = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Gt):
            lo, lo_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Le):
            hi = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Lt):
            hi, hi_open = float(m.lt), True  # type: ignore[arg-type]
    return lo, lo_open, hi, hi_open, title


def _interval(lo: float, lo_open: bool, hi: float, hi_open: bool) -> str:
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def natural_domain(session: Any, key: str) -> Domain:
    """The domain of ``key`` on ``session``'s scenario and data (module doc); ``NoDomain`` if none."""
    parts = key.split(".")
    lo, lo_open, hi, hi_open, title = schema_bounds(key)
    if len(parts) == 4 and parts[0] == "markets" and parts[2] == "select" and parts[3] in ("min_base_t", "max_base_t"):
        return _threshold_domain(session, key, parts[1], parts[3])
    if (
        len(parts) == 4
        and parts[0] == "markets"
        and parts[2] in ("price_floor", "price_ceiling")
        and parts[3] == "start_jpy_per_t"
    ):
        return _band_domain(session, key, parts[1], parts[2])
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        shown = _interval(
            -math.inf if lo is None else lo,
            lo is None or lo_open,
            math.inf if hi is None else hi,
            hi is None or hi_open,
        )
        raise NoDomain(f"{key} has no natural finite domain (the schema allows {shown}): give --range LO,HI")
    a = math.nextafter(lo, math.inf) if lo_open else lo
    b = math.nextafter(hi, -math.inf) if hi_open else hi
    what = f"the schema's bounds of a {title}" if title else "the schema's bounds"
    note = []
    if lo_open:
        note.append(f"the open lower end searched from {a!r}, the smallest float above {lo:g}")
    if hi_open:
        note.append(f"the open upper end searched up to {b!r}, the largest float below {hi:g}")
    return Domain(a, b, f"{what} {_interval(lo, lo_open, hi, hi_open)}" + (f" ({'; '.join(note)})" if note else ""))


def _market_rows(md: Any, table: str) -> np.ndarray:
    """Entities of the markets made of scenario table ``table`` (a split table's markets too)."""
    idx = [a for a, m in enumerate(md.markets) if market_table(m) == table]
    return np.isin(md.entity_market, idx)


def _threshold_domain(session: Any, key: str, table: str, which: str) -> Domain:
    loosest = "0.0" if which == "min_base_t" else repr(sys.float_info.max)
    md = session.prepare(session.variant([f"{key}={loosest}"]))
    rows = _market_rows(md, table)
    if md.base_t is None or not rows.any():
        raise NoDomain(f"{key}: market {table!r} selects no entity even at {loosest}: give --range LO,HI")
    top = float(np.max(md.base_t[rows]))
    return Domain(
        0.0,
        top,
        f"[0, {top:,.6g} t], the largest base-year emissions among the entities market {table!r} selects "
        f"with {which} at its loosest (beyond it nothing changes)",
    )


def _band_domain(session: Any, key: str, table: str, side: str) -> Domain:
    md = session.model_data
    rows = _market_rows(md, table)
    cols = rows[md.col_entity]
    if not cols.any():
        raise NoDomain(f"{key}: market {table!r} has no abatement steps: give --range LO,HI")
    pv = md.discount[md.col_year[cols]] * md.col_cost[cols]
    cfg = session.scenario.markets[table]
    band = getattr(cfg, side)
    growth = band.growth_rate if band is not None else 0.03
    start = band.start_year if band is not None else 2026
    dearest_pv = float(pv.max())
    top = max(dearest_pv / float(md.discount[y]) / (1.0 + growth) ** (year - start) for y, year in enumerate(md.years))
    top = max(0.0, top)
    return Domain(
        0.0,
        top,
        f"[0, {top:,.6g} JPY/t], the {side.replace('_', ' ')} level (FY{start} money, +{growth:.3g}/yr) at or above "
        f"the dearest abatement step of market {table!r} in every year: where abatement alone meets the cap no "
        "price passes it, so a higher ceiling changes nothing and a higher floor binds with every step used",
    )
