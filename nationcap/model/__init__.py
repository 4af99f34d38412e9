"""The Pyomo model, one module per concern, built in this order:

1. :mod:`.abatement`  - MAC-step columns and their bounds
2. :mod:`.offsets`    - offset credits bought and used, per-entity limits (rule)
3. :mod:`.shortfall`  - shortfall with the make-up multiplier (rule)
4. :mod:`.compliance` - one compliance row per entity and period, net purchases
5. :mod:`.price_band` - allowances issued at the ceiling / withdrawn at the floor (rule)
6. :mod:`.external`   - imports of foreign allowances with a volume limit (rule)
7. :mod:`.link`       - allowance trade between the two markets (none / full / limited)
8. :mod:`.market`     - market clearing per market and period, bank / expiry, auctioned share
9. :mod:`.objective`  - total discounted cost

:mod:`.overlap` (electricity coupling) registers into the compliance rows and so is built before
:mod:`.compliance`.

Each module exposes ``build(m, md, reg)`` and documents its sets, parameters, variables and
constraints (with units) in its docstring. Rule modules add terms to shared rows through the
:class:`~.registry.Registry`; with every rule off they add nothing, so the model is exactly the
core model.
"""

from __future__ import annotations

import pyomo.environ as pyo

from . import abatement, compliance, external, link, market, objective, offsets, overlap, price_band, shortfall
from .inputs import ModelData, prepare
from .registry import Registry

MODULES = (abatement, offsets, shortfall, overlap, compliance, price_band, external, link, market, objective)

__all__ = ["ModelData", "prepare", "build_model", "MODULES"]


def build_model(md: ModelData) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=f"nationcap:{md.scenario.name}")
    reg = Registry()
    for module in MODULES:
        module.build(m, md, reg)
    return m
