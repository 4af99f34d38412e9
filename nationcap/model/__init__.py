"""The Pyomo model, one module per concern, built in this order:

1. :mod:`.abatement`  - MAC-step columns and their bounds
2. :mod:`.compliance` - one compliance row per entity and period, net purchases
3. :mod:`.market`     - market clearing per market and period, bank / expiry
4. :mod:`.objective`  - total discounted abatement cost

Each module exposes ``build(m, md)`` and documents its sets, parameters, variables and
constraints (with units) in its docstring.
"""

from __future__ import annotations

import pyomo.environ as pyo

from . import abatement, compliance, market, objective
from .inputs import ModelData, prepare

MODULES = (abatement, compliance, market, objective)

__all__ = ["ModelData", "prepare", "build_model", "MODULES"]


def build_model(md: ModelData) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=f"nationcap:{md.scenario.name}")
    for module in MODULES:
        module.build(m, md)
    return m
