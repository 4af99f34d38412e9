"""Balance-term registries: how rule modules join the shared rows without editing them.

A module that adds something to an entity's compliance, to a market's allowance pool or to the
objective *registers* a term here; :mod:`.compliance`, :mod:`.market` and :mod:`.objective`
build their rows from whatever was registered (the pattern of Switch's dynamic lists and
GridPath's dynamic components).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Registry:
    #: compliance row k = entity * P + period -> [(coefficient, var)], added to the row's left side
    compliance: dict[int, list[tuple[float, Any]]] = field(default_factory=lambda: defaultdict(list))
    #: (market, period) -> [(coefficient, var)]: allowances entering (+) or leaving (-) the pool, Mt
    pool: dict[tuple[int, int], list[tuple[float, Any]]] = field(default_factory=lambda: defaultdict(list))
    #: (market, period) -> allowances entering the pool as a constant (auctioned share), Mt
    pool_constant: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))
    #: objective terms, million JPY present value
    cost: list[Any] = field(default_factory=list)
