"""Build the Pyomo model of a :class:`~nationcap.model.data.ModelData`, in this order:

1. :mod:`.core.abatement`   MAC-step columns and their bounds
2. rules of stage "entity"  (offsets, shortfall, electricity overlap): terms in entity rows
3. :mod:`.core.compliance`  one compliance row per entity and period, net purchases
4. rules of stage "pool"    (price band, external link, link, auction): terms in market rows
5. :mod:`.core.market`      market clearing per market and period, bank and expiry
6. :mod:`.core.objective`   total discounted cost

Rule modules add terms to shared rows through the :class:`~.registry.Registry`; a rule that is
off adds nothing, so with every rule off the model is exactly the core model. The model keeps
``concept_names`` (Pyomo component name -> concept name) for the engine that solves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core import abatement, compliance, market, objective
from .data import ModelData
from .registry import Registry
from .rules import RULES

if TYPE_CHECKING:
    import pyomo.environ as pyo


def build_model(md: ModelData) -> pyo.ConcreteModel:
    import pyomo.environ as pyo

    m = pyo.ConcreteModel(name=f"nationcap:{md.scenario.name}")
    reg = Registry()
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
    return m
