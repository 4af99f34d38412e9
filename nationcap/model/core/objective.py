r"""Objective: least total discounted abatement cost.

    minimise  sum_j  d[y(j)] * c_j * Abate[j]        (million JPY, present value at the first year)

with ``d[y] = (1 + discount_rate) ** -(y - first model year)``, plus the cost terms that rule
modules register (:mod:`nationcap.model.registry`): offset purchases, allowances issued at the ceiling (+),
withdrawn at the floor (-), released (+) or withheld (-) by a reserve, imports, and last-period shortfalls bought by the administrator. Allowance trades are transfers
between entities and cancel out of the social cost, so they do not appear here.

The objective's value is the cost account's items "in the objective" with their signs, summed
over markets and periods (README "Cost account", ``COST_ACCOUNT`` in
:mod:`nationcap.results.build`); abatement fixed outside the LP by the sifting formulation is a
constant the engine adds (:func:`fixed_cost_jpy`) and is part of the account's abatement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data import ModelData
from ..registry import Registry

if TYPE_CHECKING:  # Pyomo is imported when a model is built, not when this module is
    import pyomo.environ as pyo


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    import pyomo.environ as pyo

    coef = md.discount[md.col_year] * md.col_cost
    abate = m.Abate
    if reg.columns is None:
        expr = pyo.quicksum((float(c) * abate[j] for j, c in enumerate(coef)))
    else:  # held columns; the fixed ones are a constant the engine adds to the objective value
        expr = pyo.quicksum(float(coef[j]) * abate[j] for j in reg.columns.tolist())
    for term in reg.cost:
        expr = expr + term
    m.TotalCost = pyo.Objective(expr=expr, sense=pyo.minimize, doc="PV abatement cost [million JPY]")


def fixed_cost_jpy(md: ModelData, fixed_t: np.ndarray | None) -> float:
    """PV cost (JPY) of the abatement fixed outside the model (0 when every column is held)."""
    if fixed_t is None:
        return 0.0
    return float(np.sum(md.discount[md.col_year] * md.col_cost * fixed_t))
