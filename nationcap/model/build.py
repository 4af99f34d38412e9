"""Build the Pyomo model of a :class:`~nationcap.model.data.ModelData`, in this order:

1. :mod:`.core.abatement`   MAC-step columns and their bounds
2. rules of stage "entity"  (offsets, shortfall, electricity overlap): terms in entity rows
3. :mod:`.core.compliance`  one compliance row per entity and period, net purchases
4. rules of stage "pool"    (price band, external link, link, auction, reserve): terms in market rows
5. :mod:`.core.market`      market clearing per market and period, bank and expiry
6. :mod:`.core.objective`   total discounted cost

Rule modules add terms to shared rows through the :class:`~.registry.Registry`; a rule that is
off adds nothing, so with every rule off the model is exactly the core model. The model keeps
``concept_names`` (Pyomo component name -> concept name) for the engine that solves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .core import abatement, compliance, market, objective
from .data import ModelData
from .registry import COMPACT, FULL, Registry
from .rules import RULES

if TYPE_CHECKING:
    import pyomo.environ as pyo


def build_model(
    md: ModelData, formulation: str = FULL, columns: np.ndarray | None = None, fixed_t: np.ndarray | None = None
) -> pyo.ConcreteModel:
    """The Pyomo model of ``md``.

    ``formulation`` is "full" (entity compliance rows; the reference) or "compact" (market rows
    only, :mod:`.core.market`). With ``columns`` (compact only) the model holds just those
    abatement columns and every other one is fixed at ``fixed_t`` (t): the sifting engine's
    restricted model. The model keeps ``concept_names`` and, for the engine, ``registry``.
    """
    import pyomo.environ as pyo

    if formulation not in (FULL, COMPACT):
        raise ValueError(f"unknown formulation {formulation!r}")
    if columns is not None and formulation != COMPACT:
        raise ValueError("a restricted set of columns needs the compact formulation")
    m = pyo.ConcreteModel(name=f"nationcap:{md.scenario.name}")
    reg = Registry(formulation=formulation)
    if columns is not None:
        reg.hold(len(md.col_cost), columns, fixed_t)
    abatement.build(m, md, reg)
    for rule in RULES:
        if rule.STAGE == "entity":
            rule.build(m, md, reg)
    compliance.build(m, md, reg)
    for rule in RULES:
        if rule.STAGE == "pool":
            rule.build(m, md, reg)
    market.build(m, md, reg)
    objective.build(m, md, reg)
    m.concept_names = dict(reg.names)
    m.registry = reg
    return m
