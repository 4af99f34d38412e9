"""Which variants of a scenario a held model can be re-solved for in place.

A variant is *in place* when only the right-hand sides of the balance rows change: the
scenario differs from the held one in the allocation keys of its markets only
(:data:`ALLOCATION_KEYS`, compared by :func:`structure_key`), and no program rule that is on
has parameters that depend on the allocation. The second part is an **allow-list**: every
active rule must declare itself through its ``allocation_dependence(scenario)`` hook
(:class:`nationcap.model.rules.base.Rule`), returning ``None`` when its parameters do not
depend on the allocation and the reason when they do. A rule without the hook forces a
rebuild, so a rule added later is never re-solved in place by mistake.
"""

from __future__ import annotations

import hashlib
import json

from ..config import Scenario
from .rules import RULES

#: market keys whose change moves only the allocations (the compliance right-hand sides)
ALLOCATION_KEYS = ("compliance_factor", "top_level_multiplier")


def structure_key(scn: Scenario) -> str:
    """Hash of the resolved configuration without the allocation keys, the name and description."""
    d = scn.resolved()
    d.pop("name", None)
    d.pop("description", None)
    for mkt in d["markets"].values():
        for k in ALLOCATION_KEYS:
            mkt.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def in_place_reason(scn: Scenario) -> str | None:
    """None if allocation variants of ``scn`` can be re-solved in place, else why they cannot."""
    for rule in RULES:
        if not rule.active(scn):
            continue
        declare = getattr(rule, "allocation_dependence", None)
        if declare is None:
            return f"the rule {rule.NAME!r} does not declare whether its parameters depend on the allocation"
        why = declare(scn)
        if why:
            return why
    return None
