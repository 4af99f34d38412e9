"""Balance-term registries: how rule modules join the shared rows without editing them.

A module that adds something to an entity's compliance, to a market's allowance pool or to the
objective *registers* a term here; :mod:`.core.compliance`, :mod:`.core.market` and
:mod:`.core.objective` build their rows from whatever was registered (the pattern of Switch's
dynamic lists and GridPath's dynamic components).

Every variable and row an engine reports is also registered under a *concept name* (below, and
each rule's own), so that a :class:`~nationcap.engines.base.SolveResult` is keyed by what a value
means, never by how one engine happens to name it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: concept names of the core model's values (t) and row duals (JPY/t, present value)
ABATEMENT = "abatement"  # (J,) abatement per column
NET_PURCHASE = "net_purchase"  # (E*P,) allowances bought minus sold, row k = entity * P + period
BANK = "bank"  # (M*P,) bank at the end of each period
EXPIRED = "expired"  # (len(md.expire_index()),) allowances that lapse
MARKET_BALANCE = "market_balance"  # dual (M*P,): the present-value allowance price
ENTITY_COMPLIANCE = "entity_compliance"  # dual (E*P,): equals the market's (NetPurchase is free)

#: formulations of the LP (``[solver] formulation``): "full" has one compliance row per entity
#: and period; "compact" only the market rows (see nationcap/model/core/market.py)
FULL = "full"
COMPACT = "compact"


@dataclass
class Registry:
    #: compliance row k = entity * P + period -> [(coefficient, var)], added to the row's left side
    compliance: dict[int, list[tuple[float, Any]]] = field(default_factory=lambda: defaultdict(list))
    #: compact formulation: (market, period) -> [(coefficient, var)] added to the market row's left
    #: side like the entity terms above (a rule's column aggregated over the market's entities)
    market_compliance: dict[tuple[int, int], list[tuple[float, Any]]] = field(default_factory=lambda: defaultdict(list))
    #: (market, period) -> [(coefficient, var)]: allowances entering (+) or leaving (-) the pool, Mt
    pool: dict[tuple[int, int], list[tuple[float, Any]]] = field(default_factory=lambda: defaultdict(list))
    #: (market, period) -> allowances entering the pool as a constant (auctioned share), Mt
    pool_constant: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))
    #: objective terms, million JPY present value
    cost: list[Any] = field(default_factory=list)
    #: Pyomo component name -> concept name of its values or duals in a SolveResult
    names: dict[str, str] = field(default_factory=dict)
    #: "full" (entity compliance rows) or "compact" (market rows only)
    formulation: str = FULL
    #: abatement columns held in the model (indices into md.col_*); None = every column
    columns: np.ndarray | None = None
    #: (J,) abatement of each column not held in the model, t (fixed at a bound); 0 for held ones
    fixed_t: np.ndarray | None = None
    #: rows an abatement column enters besides its market or entity row, for reduced costs:
    #: (concept name of the row's duals, (J,) row index of each column, (J,) coefficient), Mt units
    column_rows: list[tuple[str, np.ndarray, np.ndarray]] = field(default_factory=list)

    #: (J,) True where the column is a variable of the model
    in_model: np.ndarray | None = None

    def hold(self, n_columns: int, columns: np.ndarray | None, fixed_t: np.ndarray | None) -> None:
        """Hold only ``columns`` in the model, every other column fixed at ``fixed_t`` (t)."""
        self.columns = None if columns is None else np.asarray(columns, dtype=np.int64)
        self.fixed_t = np.zeros(n_columns) if fixed_t is None else np.asarray(fixed_t, dtype=float)
        mask = np.ones(n_columns, dtype=bool)
        if self.columns is not None:
            mask[:] = False
            mask[self.columns] = True
            self.fixed_t = np.where(mask, 0.0, self.fixed_t)
        self.in_model = mask

    def name(self, component: Any, concept: str) -> None:
        """Report ``component`` (a Var or Constraint) as ``concept`` in the SolveResult."""
        self.names[component.local_name] = concept
