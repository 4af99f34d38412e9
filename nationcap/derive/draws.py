"""Monte Carlo draws: the values of one draw of the ``[montecarlo]`` table, applied to the tables.

Two inputs are uncertain, each drawn once per draw and *group* (a market, a sector, or one
common value), and applied to a copy of the validated dataset tables before the model is built:

``bau_growth``
    An annual growth-rate deviation ``g``. BAU emissions of year ``y`` are multiplied by
    ``(1 + g) ** n`` with ``n = y - first model year + 1`` (the first model year already carries
    one year of deviation, since BAU is itself a projection). With ``process = "random_walk"``
    a new ``g`` is drawn every model year and the multiplier is the running product
    ``prod_{k <= y} (1 + g_k)``. MAC step quantities follow automatically (they are shares of
    BAU). Activity (activity.csv) of the model years moves with BAU by the same multiplier
    (emissions intensity fixed), so a benchmark allocation moves with the draw; grandfathered
    allocations do not (they come from base-year emissions), so higher BAU tightens that cap.
``mac_cost``
    A multiplier ``k >= 0`` on every MAC step cost of the group (``cost_jpy_per_t * k``).

Scenario file::

    [montecarlo]
    draws = 100                 # default for --draws
    seed = 1                    # default for --seed

    [montecarlo.bau_growth]
    by = "market"               # "all" | "market" | "sector"
    distribution = "normal"     # normal(mean, sd) | uniform(low, high) | lognormal(mean, sd)
    mean = 0.0                  # per year
    sd = 0.01                   # per year
    process = "rate"            # "rate" (one g per draw) | "random_walk" (one g per year)

    [montecarlo.mac_cost]
    by = "sector"
    distribution = "lognormal"  # k = exp(N(mean, sd)): mean 0 gives a median multiplier of 1
    sd = 0.2

Distributions: ``normal`` -> ``mean + sd * z``; ``lognormal`` -> ``exp(mean + sd * z)`` (numpy's
convention: ``mean`` and ``sd`` of the logarithm); ``uniform`` -> ``low + (high - low) * u``.
Defaults: ``mean`` 0 except a normal ``mac_cost`` (mean 1). A normal ``mac_cost`` multiplier
below 0 is set to 0 (costs never change sign).

Determinism: draw ``i`` uses ``numpy.random.default_rng([seed, i])``; the BAU values are drawn
first, then the MAC values, each for the sorted group labels; so draw ``i`` is the same whatever
the number of draws, workers or the order in which they run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..config import MonteCarloSpec, Scenario
from ..inputs.tables import Dataset
from .scope import resolve as resolve_scope


def group_labels(by: str, scn: Scenario, ds: Dataset) -> list[str]:
    """The groups of a draw. ``market``: the markets after the scenario's selections and splits
    (:mod:`.scope`: ``regional/Tokyo``, ...), in the scenario's order."""
    if by == "all":
        return ["all"]
    if by == "market":
        return list(resolve_scope(scn, ds).scenario.markets)
    return sorted(set(ds.entities["sector"].astype(str).to_numpy().tolist()))  # (not iterating a pandas column: slow)


#: the groups of the last few (by, dataset, labels, scenario): every draw of a batch asks again
_GROUPS: list[tuple[str, Dataset, tuple[str, ...], Scenario | None, np.ndarray]] = []


def entity_groups(by: str, ds: Dataset, labels: list[str], scn: Scenario | None = None) -> np.ndarray:
    """Group index of every entity of ``ds`` (entities.csv order); -1 for an entity no market
    covers (its draw changes nothing in the model). ``market`` groups need the scenario when it
    selects or splits markets (the entities' resolved markets, :mod:`.scope`). The answer for
    the same dataset and scenario objects is kept (read-only) for the next call."""
    key = tuple(labels)
    for b, d, lab, sc, out in _GROUPS:
        if b == by and d is ds and sc is scn and lab == key:
            return out
    out = _entity_groups(by, ds, labels, scn)
    out.setflags(write=False)
    _GROUPS[:] = [*_GROUPS[-3:], (by, ds, key, scn, out)]
    return out


def _entity_groups(by: str, ds: Dataset, labels: list[str], scn: Scenario | None) -> np.ndarray:
    if by == "all":
        return np.zeros(len(ds.entities), dtype=np.int64)
    if by == "market":
        col = ds.entities["market"].astype(str).to_numpy()
        if scn is not None:
            scope = resolve_scope(scn, ds)
            col = np.full(len(ds.entities), "", dtype=object)
            col[scope.entity_index] = scope.dataset.entities["market"].astype(str).to_numpy()
        return pd.Index(labels).get_indexer(col)
    return pd.Index(labels).get_indexer(ds.entities["sector"].astype(str))


@dataclasses.dataclass
class Draw:
    """The values of one draw: multipliers by group (and year for BAU)."""

    index: int
    bau_labels: list[str]
    bau_multiplier: np.ndarray  # (G_bau, Y), 1 where no BAU uncertainty
    mac_labels: list[str]
    mac_multiplier: np.ndarray  # (G_mac,)


def draw_inputs(spec: MonteCarloSpec, scn: Scenario, ds: Dataset) -> tuple:
    """What :func:`draw` reads besides the seed and the index: the table, the model years and the
    group labels. Two scenarios (e.g. the designs of a paired Monte Carlo) with equal answers
    have equal draws for every seed and index, so a draw made for one serves the other."""
    return (spec.uncertain_json(), tuple(scn.years), scn.first_year, *_labels(spec, scn, ds))


def _labels(spec: MonteCarloSpec, scn: Scenario, ds: Dataset) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The BAU and the MAC-cost group labels of ``spec``'s draws."""
    bau = group_labels(spec.bau_growth.by, scn, ds) if spec.bau_growth else ["all"]
    mac = group_labels(spec.mac_cost.by, scn, ds) if spec.mac_cost else ["all"]
    return tuple(bau), tuple(mac)


def draw(spec: MonteCarloSpec, seed: int, index: int, scn: Scenario, ds: Dataset) -> Draw:
    """The values of draw ``index``; depends only on (spec, seed, index, group labels, years):
    :func:`draw_inputs`."""
    rng = np.random.default_rng([int(seed), int(index)])
    years = np.array(scn.years)
    n = years - scn.first_year + 1
    bau_t, mac_t = _labels(spec, scn, ds)
    bau_labels, mac_labels = list(bau_t), list(mac_t)
    bau: np.ndarray = np.ones((len(bau_labels), len(years)))
    if spec.bau_growth is not None:
        u = spec.bau_growth
        shape = (len(bau_labels), len(years)) if u.process == "random_walk" else (len(bau_labels),)
        g = u.transform(rng.standard_normal(shape), rng.random(shape), default_mean=0.0)
        if np.any(g <= -1.0):
            raise ValueError("a BAU growth draw is -100% or less; lower bau_growth.sd")
        bau = np.cumprod(1.0 + g, axis=1) if u.process == "random_walk" else (1.0 + g)[:, None] ** n[None, :]
    mac = np.ones(len(mac_labels))
    if spec.mac_cost is not None:
        shape = (len(mac_labels),)
        mac = np.maximum(spec.mac_cost.transform(rng.standard_normal(shape), rng.random(shape), default_mean=1.0), 0.0)
    return Draw(index, bau_labels, bau, mac_labels, mac)


def _pick(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``values[groups]`` with 1 where the group is -1 (an uncovered entity)."""
    out = values[np.maximum(groups, 0)]
    out[groups < 0] = 1.0
    return out


def entity_multipliers(
    spec: MonteCarloSpec, d: Draw, ds: Dataset, scn: Scenario | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The draw per entity of ``ds`` (entities.csv order): BAU multiplier (E, model years) and MAC
    cost multiplier (E,); ones where the draw has no such uncertainty. For perturbing model arrays
    directly (``nationcap bench`` times re-solves that way); ``scn`` as for :func:`entity_groups`."""
    n_e = len(ds.entities)
    bau = np.ones((n_e, d.bau_multiplier.shape[1]))
    mac = np.ones(n_e)
    if spec.bau_growth is not None:
        bau = _pick(d.bau_multiplier, entity_groups(spec.bau_growth.by, ds, d.bau_labels, scn))
    if spec.mac_cost is not None:
        mac = _pick(d.mac_multiplier, entity_groups(spec.mac_cost.by, ds, d.mac_labels, scn))
    return bau, mac


def apply_draw(spec: MonteCarloSpec, d: Draw, scn: Scenario, ds: Dataset) -> Dataset:
    """A copy of ``ds`` with BAU, the model years' activity and MAC costs multiplied by the draw
    (the original is untouched)."""
    bau = ds.bau.copy()
    mac = ds.mac.copy()
    activity = ds.activity
    if spec.bau_growth is not None:
        eg = pd.Series(entity_groups(spec.bau_growth.by, ds, d.bau_labels, scn), index=ds.entities.index)

        def multiplier(rows: pd.DataFrame) -> np.ndarray:
            g = eg.reindex(rows["entity_id"]).to_numpy()
            yi = pd.Index(scn.years).get_indexer(rows["year"])
            mult = np.ones(len(rows))
            # rows for years outside the model horizon (base years), and of uncovered entities, stay
            inside = (yi >= 0) & (g >= 0)
            mult[inside] = d.bau_multiplier[g[inside], yi[inside]]
            return mult

        bau["bau_emissions_t"] = bau["bau_emissions_t"].to_numpy(dtype=float) * multiplier(bau)
        if activity is not None:
            activity = activity.copy()
            activity["activity"] = activity["activity"].to_numpy(dtype=float) * multiplier(activity)
    if spec.mac_cost is not None:
        eg = pd.Series(entity_groups(spec.mac_cost.by, ds, d.mac_labels, scn), index=ds.entities.index)
        g = eg.reindex(mac["entity_id"]).to_numpy()
        mac["cost_jpy_per_t"] = mac["cost_jpy_per_t"].to_numpy(dtype=float) * _pick(d.mac_multiplier, g)
    return dataclasses.replace(ds, bau=bau, mac=mac, activity=activity)
