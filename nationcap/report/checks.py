"""What ``nationcap validate`` checks besides the input contract: the pre-solve feasibility
diagnosis and notes on a scenario that is valid but probably not what was meant.

- :func:`feasibility` runs the engines' own pre-solve diagnosis
  (:func:`nationcap.engines.feasibility.check_feasible`) on the prepared model data, so an
  infeasible cap is reported by ``validate`` exactly as ``run`` would report it (exit 3), and
  returns the lines that say what was checked and what only a solve can decide; under a rolling
  horizon it first refuses, as ``run`` does, a rule that cannot be windowed.
- :func:`notes` lists covered entities that have no row in ``mac.csv`` (they cannot abate, so
  they buy every allowance they need) and compliance-factor categories of a market table that
  no entity the table covers has (the factor applies to no one).
"""

from __future__ import annotations

import pandas as pd

from ..config import Scenario
from ..config.schema import market_table
from ..derive.scope import resolve as resolve_scope
from ..engines.feasibility import check_feasible
from ..engines.foresight import check_rolling, rolling
from ..inputs.tables import Dataset
from ..model import prepare
from ..model.rules import RULES

#: entity ids named in a note before "and N more"
SHOWN = 5


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:SHOWN]) + (f" and {len(ids) - SHOWN:,} more" if len(ids) > SHOWN else "")


def feasibility(scn: Scenario, ds: Dataset) -> list[str]:
    """Run the pre-solve diagnosis; raise its :class:`~nationcap.errors.ModelError` for a cap that
    cannot be met, else return the lines saying what was and was not checked."""
    md = prepare(scn, ds)
    if rolling(md) is not None:  # a rule a rolling horizon refuses: the same report as run's (exit 2)
        check_rolling(md)
    check_feasible(md)
    rules = [rule.NAME for rule in RULES if rule.active(md.scenario)]
    lines = [
        "Feasibility (checked before any solve): every cap can be reached with every abatement step"
        + (f" and the most the rules on ({', '.join(rules)}) could supply" if rules else "")
        + ", period by period under the bank rules.",
        "Not checked (only a solve decides): "
        + (
            "whether the rules' own limits together (per-entity offset limits, limits on links, "
            "volumes per year, the bank) still let every cap be met; "
            if rules
            else ""
        )
        + "prices, and whether the solver finishes within the scenario's time limit.",
    ]
    return lines


def notes(scn: Scenario, ds: Dataset) -> list[str]:
    """Notes (not errors) on the covered entities and the compliance-factor categories."""
    scope = resolve_scope(scn, ds)
    ent = scope.dataset.entities
    table_of = ent["market"].map(market_table)
    out = []
    with_mac = set(ds.mac["entity_id"].astype(str))
    missing = ~ent["entity_id"].astype(str).isin(with_mac)
    for table in dict.fromkeys(table_of[missing]):
        ids = ent.loc[missing & (table_of == table), "entity_id"].astype(str).tolist()
        out.append(
            f"note: {len(ids):,} entit{'y' if len(ids) == 1 else 'ies'} of market {table!r} "
            f"{'has' if len(ids) == 1 else 'have'} no row in mac.csv and cannot abate (they buy every "
            f"allowance they need): {_ids(ids)}"
        )
    all_categories = scope.all_entities["category"].astype(str)
    for table, cfg in scope.source.markets.items():
        named = sorted({c for per in cfg.compliance_factor.values() for c in per} - {"general"})
        covered = set(ent.loc[table_of == table, "category"].astype(str))
        for cat in (c for c in named if c not in covered):
            elsewhere = _where(all_categories, cat, scope.uncovered)
            out.append(
                f"note: markets.{table}.compliance_factor sets category {cat!r}, but no entity the market "
                f"covers has it ({elsewhere}): that factor applies to no one"
            )
    return out


def _where(categories: pd.Series, cat: str, uncovered: pd.DataFrame) -> str:
    """How many entities of entities.csv have category ``cat`` and how many of them no market covers."""
    n = int((categories == cat).sum())
    if not n:
        return "no entity of entities.csv has it"
    n_uncovered = int((uncovered["category"].astype(str) == cat).sum()) if len(uncovered) else 0
    text = f"{n:,} {'entity' if n == 1 else 'entities'} of entities.csv {'has' if n == 1 else 'have'} it"
    others = n - n_uncovered
    where = [f"{others:,} in other markets"] if others else []
    where += [f"{n_uncovered:,} uncovered"] if n_uncovered else []
    return text + ": " + ", ".join(where)
