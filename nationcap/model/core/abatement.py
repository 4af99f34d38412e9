r"""Abatement: how much of each MAC step each entity uses in each year.

Sets
    J       abatement columns: one per (entity i, step k, year y) with a positive quantity

Parameters
    q_j     step size in year y, t:  abatement_share[i, k] * bau_emissions_t[i, y]
    c_j     step cost, JPY/t (may be negative: no-regret measures)

Variables
    Abate[j]   abatement from step j, in t / scale_t (Mt):  0 <= Abate[j] <= q_j / scale_t

Expressions (evaluated after the solve, not rows of the LP)
    emissions[i, y] = bau_emissions_t[i, y] - scale_t * sum_{j in (i, ., y)} Abate[j]

A step is a block of measures with one unit cost; using part of a step is allowed (the LP is
continuous). Because the shares of one entity sum to at most 1, emissions never go below zero.

Held columns. The model may hold only some columns as variables (``reg.columns``, sifting in
:mod:`nationcap.engines.pyomo_highs`); every other column is fixed at a bound (``reg.fixed_t``,
t) and enters the rows it belongs to as a constant on the right-hand side and the objective as a
constant. ``Abate`` is then indexed by the held columns' numbers j.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..data import ModelData
from ..registry import ABATEMENT, Registry

if TYPE_CHECKING:  # Pyomo is imported when a model is built, not when this module is
    import pyomo.environ as pyo


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    import pyomo.environ as pyo

    ub = md.col_qty_t / md.scale_t
    if reg.columns is None:
        m.J = pyo.RangeSet(0, len(ub) - 1, doc="abatement columns (entity, step, year)")
        m.Abate = pyo.Var(m.J, domain=pyo.NonNegativeReals, doc="abatement from one MAC step in one year [Mt]")
        for j, v in enumerate(m.Abate.values()):
            v.setub(float(ub[j]))
    else:  # only the columns that can be marginal; the others are fixed at a bound (reg.fixed_t)
        cols = reg.columns.tolist()
        m.Abate = pyo.Var(cols, domain=pyo.NonNegativeReals, doc="abatement from one MAC step in one year [Mt]")
        for j, v in zip(cols, m.Abate.values()):
            v.setub(float(ub[j]))
    reg.name(m.Abate, ABATEMENT)
