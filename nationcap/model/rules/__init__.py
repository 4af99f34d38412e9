"""The program rules, one module each (see :mod:`.base` for what a rule module provides).

:data:`RULES` is the registry: preparing ModelData, building the Pyomo model, reporting results,
the run summary and Monte Carlo statistics all loop over it, in this order. Adding a rule is its
module plus one line here. The order is also the build order within each stage, which fixes the
column order of the LP (keep it stable: results are compared bit for bit across versions).

``trading_from_year`` (Tokyo: trading from the 2nd year of a period) is not in the list: it
cannot bind in this model and is enforced by the scenario check; :mod:`.trading` holds the
explicit formulation that demonstrates it.
"""

from __future__ import annotations

from . import auction, external, link, offsets, overlap, price_band, reserve, shortfall
from .base import Rule

RULES: tuple[Rule, ...] = (
    offsets,
    shortfall,
    overlap,
    price_band,
    external,
    link,
    auction,
    reserve,
)

__all__ = ["RULES"]
