"""Abatement cost curves (mac.csv) and offset supply (offsets.csv) of the synthetic
``inputs/japan`` dataset: the tranches and steps are facts of ``japan_facts.toml``
(inputs/japan/README.md, sections 5 and 6)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .facts import FACTS

# --------------------------------------------------------------------------------------------
# MAC tranches [E] (inputs/japan/README.md, section 5, gives their anchors)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tranche:
    share: tuple[float, float]  # uniform range of the abatement share
    cost: tuple[float, float]  # uniform range of the cost, JPY/t (clip range if normal; unused with step_up)
    keep: float = 1.0  # probability that the entity has this step
    normal: tuple[float, float] | None = None  # (mean, sd) of a clipped normal cost
    step_up: tuple[float, float] | None = None  # cost = previous step's cost + uniform(step_up)


#: MAC tranches per family [E] (japan_facts.toml [mac_families])
MAC_FAMILIES: dict[str, tuple[_Tranche, ...]] = {
    family: tuple(
        _Tranche(
            tuple(t["share"]),
            tuple(t["cost"]),
            t.get("keep", 1.0),
            tuple(t["normal"]) if "normal" in t else None,
            tuple(t["step_up"]) if "step_up" in t else None,
        )
        for t in tranches
    )
    for family, tranches in FACTS["mac_families"].items()
}

# --------------------------------------------------------------------------------------------
# Offsets (inputs/japan/README.md, section 6), per year at FY2026; quantities in t, prices JPY/t
# --------------------------------------------------------------------------------------------

#: (offset_type, market) -> steps of (quantity_t in FY2026, price JPY/t in FY2026) [jpx-jcredit] [gx-ets]
OFFSET_STEPS: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {
    (t, m): tuple(tuple(x) for x in steps) for t, m, steps in FACTS["offsets"]["steps"]
}
OFFSET_QUANTITY_GROWTH = 0.04  # per year [E]
OFFSET_PRICE_GROWTH = 0.02  # per year [E]
OFFSET_NOISE_SD = 0.05


def mac_table(rng: np.random.Generator, ent: pd.DataFrame) -> pd.DataFrame:
    """mac.csv: the steps of every entity, drawn from its family's tranches (column ``_mac``)."""
    ids = ent["entity_id"].to_numpy()
    fam = ent["_mac"].to_numpy()
    frames = []
    for name, tranches in MAC_FAMILIES.items():
        sel = np.flatnonzero(fam == name)
        if sel.size == 0:
            continue
        m, k = sel.size, len(tranches)
        shares = np.empty((m, k))
        costs = np.empty((m, k))
        keep = np.ones((m, k), dtype=bool)
        for j, tr in enumerate(tranches):
            shares[:, j] = tr.share[0] + (tr.share[1] - tr.share[0]) * rng.random(m)
            if tr.step_up is not None:
                costs[:, j] = costs[:, j - 1] + tr.step_up[0] + (tr.step_up[1] - tr.step_up[0]) * rng.random(m)
            elif tr.normal is not None:
                c = tr.normal[0] + tr.normal[1] * rng.standard_normal(m)
                costs[:, j] = np.clip(c, tr.cost[0], tr.cost[1])
            else:
                costs[:, j] = tr.cost[0] + (tr.cost[1] - tr.cost[0]) * rng.random(m)
            if tr.keep < 1.0:
                keep[:, j] = rng.random(m) < tr.keep
        shares = np.round(shares, 4)
        costs = np.round(costs)
        costs[costs == 0] = 1.0
        for j in range(1, k):  # strictly increasing, a gap of at least 50 JPY/t
            costs[:, j] = np.maximum(costs[:, j], costs[:, j - 1] + 50)
        rows, cols = np.nonzero(keep)  # row-major: entity, then tranche
        step = keep.cumsum(axis=1)[rows, cols]
        frames.append(
            pd.DataFrame(
                {
                    "entity_id": ids[sel][rows],
                    "step": step.astype(np.int64),
                    "abatement_share": shares[rows, cols],
                    "cost_jpy_per_t": costs[rows, cols].astype(np.int64),
                }
            )
        )
    mac = pd.concat(frames, ignore_index=True)
    return mac.sort_values(["entity_id", "step"], kind="stable").reset_index(drop=True)


def offsets_table(rng: np.random.Generator, scale: float, model_years: tuple[int, ...]) -> pd.DataFrame:
    """offsets.csv: the FY2026 steps grown and drawn for every model year, quantities x ``scale``."""
    rows = []
    for (otype, market), steps in OFFSET_STEPS.items():
        for y in model_years:
            t = y - model_years[0]
            for q0, p0 in steps:
                q = q0 * (1 + OFFSET_QUANTITY_GROWTH) ** t * scale * math.exp(OFFSET_NOISE_SD * rng.standard_normal())
                p = p0 * (1 + OFFSET_PRICE_GROWTH) ** t * math.exp(0.5 * OFFSET_NOISE_SD * rng.standard_normal())
                rows.append((otype, market, y, round(q, 1), int(round(p))))
    df = pd.DataFrame(rows, columns=["offset_type", "market", "year", "quantity_t", "cost_jpy_per_t"])
    mrank = df["market"].map({"national": 0, "regional": 1})
    trank = df["offset_type"].map({"small_mid": 0, "renewable": 1, "outside": 2})
    df = df.assign(_m=mrank, _t=trank).sort_values(["_m", "year", "_t", "cost_jpy_per_t"], kind="stable")
    # steps of one type and year are increasing in price (noise cannot reorder them, but be safe)
    return df.drop(columns=["_m", "_t"]).reset_index(drop=True)
