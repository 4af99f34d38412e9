"""Scenario keys whose names come from the data, checked against the data.

A compliance-factor category, an offset type, a selection label or a power-sector prefix that
the data does not have would apply to nothing, and the run would silently use other values:
:func:`check_scenario_names` (called by :func:`nationcap.inputs.tables.load_dataset` and by the
batch planner for every sweep point) and :func:`select_label_problems` (used by
:func:`nationcap.derive.scope.resolve`) report them with the closest known name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config.messages import did_you_mean
from ..errors import Problems

if TYPE_CHECKING:
    from ..config import Scenario

# ---------------------------------------------------------------------------------------------


def select_label_problems(scenario: Scenario, ent: pd.DataFrame, fname: str, problems: Problems) -> None:
    """A ``select`` value (market label, sector, prefecture, administrator, category) that no
    entity of entities.csv has, with the closest one (:func:`nationcap.derive.scope.resolve`
    reports these with the other problems of the selections)."""
    for m, cfg in scenario.markets.items():
        if cfg.select is None:
            continue
        for col, values in cfg.select.labels().items():
            if col not in ent.columns:
                continue
            present = set(ent[col].astype(str))
            for v in values:
                if v not in present:
                    problems.add(
                        str(scenario.source or "scenario"),
                        f"key 'markets.{m}.select.{col}'",
                        "",
                        f"{v!r} is not a {col} of any entity in {fname}" + did_you_mean(v, sorted(present)),
                    )


def _market_entities(scenario: Scenario, ent: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The entities each market table may cover: its entities.csv market label or, with
    ``select``, the entities matching its labels (base-year bounds aside). A market that covers
    no entity (e.g. a misspelt selection, reported by :func:`select_label_problems` and
    :func:`nationcap.derive.scope.resolve`) is left out: its names cannot be checked."""
    out = {}
    for m, cfg in scenario.markets.items():
        if cfg.select is None:
            out[m] = ent[ent["market"] == m]
            continue
        mask = np.ones(len(ent), dtype=bool)
        for col, values in cfg.select.labels().items():
            if col in ent.columns:
                mask &= ent[col].astype(str).isin(values).to_numpy()
        out[m] = ent[mask]
    return {m: e for m, e in out.items() if len(e)}


def check_scenario_names(
    scenario: Scenario, ent: pd.DataFrame, offsets: pd.DataFrame | None, path: Path, problems: Problems
) -> None:
    """Keys of the scenario whose names come from the data, against the data: a misspelt name
    would otherwise be ignored and the run would silently use another value.

    - ``compliance_factor.<period>.<category>``: a category that an entity of the market has
      (``general`` always: the fallback);
    - ``offsets.<type>``: a type that offsets.csv offers to the market;
    - ``overlap.power_sector_prefix`` (coupled electricity): the start of a sector of the supplier
      market's entities.

    Problems are reported against the scenario file; :func:`nationcap.config.loading.blame_overrides`
    reports those that a ``--set`` or swept key caused against it.
    """
    if not {"market", "category", "sector"} <= set(ent.columns):
        return  # entities.csv lacks a column: reported already
    if offsets is not None and not {"market", "offset_type"} <= set(offsets.columns):
        offsets = None
    src = str(scenario.source or "scenario")
    ent_file, off_file = str(path / "entities.csv"), str(path / "offsets.csv")
    covered = _market_entities(scenario, ent)
    for m, cfg in scenario.markets.items():
        if m not in covered:
            continue
        cats = sorted(set(covered[m]["category"].astype(str)) | {"general"})
        for period, table in cfg.compliance_factor.items():
            for cat in table:
                if cat not in cats:
                    problems.add(
                        src,
                        f"key 'markets.{m}.compliance_factor.{period}.{cat}'",
                        "",
                        f"no entity of market '{m}' has category {cat!r} (its categories in {ent_file}: "
                        f"{', '.join(cats)}), so the factor would apply to nothing"
                        + did_you_mean(cat, cats, "see the column 'category' of entities.csv"),
                    )
        if cfg.offsets:
            have = (
                [] if offsets is None else sorted(set(offsets.loc[offsets["market"] == m, "offset_type"].astype(str)))
            )
            for otype in cfg.offsets:
                if otype not in have:
                    offered = f"it offers {', '.join(have)}" if have else f"it offers market '{m}' none"
                    problems.add(
                        src,
                        f"key 'markets.{m}.offsets.{otype}'",
                        "",
                        f"offsets.csv has no offset type {otype!r} for market '{m}' ({off_file}: {offered}), "
                        f"so the limit would apply to nothing" + did_you_mean(otype, have),
                    )
    ov = scenario.overlap
    if ov.electricity == "coupled" and ov.markets[0] in covered:
        sectors = sorted(set(covered[ov.markets[0]]["sector"].astype(str)))
        if sectors and not any(s.startswith(ov.power_sector_prefix) for s in sectors):
            problems.add(
                src,
                "key 'overlap.power_sector_prefix'",
                "",
                f"no sector of market '{ov.markets[0]}' starts with {ov.power_sector_prefix!r}, so no entity would "
                f"be a power supplier (sectors in {ent_file}: {', '.join(sectors[:12])}"
                f"{' ...' if len(sectors) > 12 else ''})" + did_you_mean(ov.power_sector_prefix, sectors),
            )
