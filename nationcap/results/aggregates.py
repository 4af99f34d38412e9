"""Sums over entities by group: by (market, sector), (market, prefecture) and (market,
administrator), the number of entities in each group, the allowances traded between
administrators of one market, and the entities no market covers by group. Part of the results
Dataset (:func:`nationcap.results.build.build_results`).

What does not change between the solves of a held session is made once and kept while the same
arrays come back (:class:`_SameArrays`): the (group, time) cell of every entity, the entity
counts, the sums of BAU emissions, and the coverage of national CO2 by BAU. The variants of a
held session (:func:`nationcap.model.prepare.reallocate`) and its Monte Carlo draws
(:func:`~nationcap.model.prepare.perturb`) share the arrays they do not change, and no code
changes a model data's array in place (a changed array is a new one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..model.data import ModelData
from ..model.rules.base import variable_attrs
from ..vocab import index_coords
from .assembly import Item, Stage


class _SameArrays:
    """Values made from some objects (arrays, tables), kept while the very same objects come back.

    ``get(objects, content, make)`` returns the value made for these objects (compared by
    identity, ``is``) and the hashable ``content`` (what else the value depends on, by value),
    else ``make()``. The objects are held with the value, so an identity cannot be re-used by
    another object while its value is kept; at most ``size`` values are kept (the oldest goes)."""

    def __init__(self, size: int = 8):
        self.size = size
        self._kept: list[tuple[tuple[Any, ...], Any, Any]] = []
        self._lock = threading.Lock()

    def get(self, objects: tuple[Any, ...], content: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            for held, held_content, value in self._kept:
                if len(held) == len(objects) and all(a is b for a, b in zip(held, objects)) and held_content == content:
                    return value
        value = make()
        with self._lock:
            self._kept = [*self._kept[-(self.size - 1) :], (objects, content, value)]
        return value


_CELLS = _SameArrays()
_BAU_SUMS = _SameArrays()
_COVERAGE = _SameArrays()


def entity_year_cells(md: ModelData) -> np.ndarray:
    """(columns,) the (entity, year) cell of every abatement column, ``entity * Y + year``."""
    n_y = len(md.years)
    return _CELLS.get((md.col_entity, md.col_year), ("entity year", n_y), lambda: md.col_entity * n_y + md.col_year)


def coverage_basis(md: ModelData, make: Callable[[ModelData], Any]) -> Any:
    """``make(md)``, kept for the same BAU array, dataset and markets (with their emissions basis)."""
    scn = md.scenario
    content = (
        tuple(md.markets),
        tuple(cfg.emissions_basis for cfg in scn.markets.values()),
        tuple(scn.markets),
        tuple(md.years),
    )
    return _COVERAGE.get((md.bau_t, md.dataset, md.entities), content, lambda: make(md))


_AGG_VARS = {
    "bau_emissions": ("year", "t", "business-as-usual emissions"),
    "emissions": ("year", "t", "emissions"),
    "abatement": ("year", "t", "abatement"),
    "abatement_cost": ("year", "JPY", "abatement cost in that year's money"),
    "net_purchase": ("period", "t", "net allowance purchases (negative = net seller)"),
    "compliance_cost": (
        "period",
        "JPY",
        "compliance cost (abatement plus allowances bought minus sold at the clearing price, and what the rules add)",
    ),
}


def _groups(md: ModelData, group: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted labels, group index of each entity of the model) of an entity attribute. The labels
    are those of every entity of the dataset, covered or not, so that runs with different
    selections (the points of a threshold sweep) share their coordinates."""
    scope = md.scope
    every = scope.input if scope is not None and scope.input is not None else md.dataset
    labels, index = every.groups(group)
    if scope is not None and scope.active:
        index = index[scope.entity_index]
    return labels, index


def _group_cells(md: ModelData) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]]:
    """Per group (sector, prefecture, administrator): (labels, count of entities by market x
    label, each entity's market x label key, key -> time cells of length n_t: ``key * n_t + t``
    flattened entity by entity), made once per model entities."""
    scope = md.scope

    def make() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]]:
        out = {}
        n_m = len(md.markets)
        for group in ("sector", "prefecture", "administrator"):
            labels, gi = _groups(md, group)
            key = md.entity_market * len(labels) + gi
            count = np.bincount(key, minlength=n_m * len(labels)).astype(np.int64).reshape(n_m, len(labels))
            cells = {
                n_t: (key[:, None] * n_t + np.arange(n_t)[None, :]).ravel() for n_t in {len(md.years), len(md.periods)}
            }
            out[group] = (labels, count, key, cells)
        return out

    every = scope.input if scope is not None and scope.input is not None else md.dataset
    index = scope.entity_index if scope is not None and scope.active else None
    return _CELLS.get(
        (md.entity_market, every, index), ("groups", tuple(md.markets), len(md.years), len(md.periods)), make
    )


def aggregates(md: ModelData, per_entity: dict[str, np.ndarray], pv: str) -> Stage:
    """Sums over entities by (market, sector), (market, prefecture) and (market, administrator),
    the number of entities in each group (``entities_by_<group>``), and the allowances that move
    between administrators of one market (``traded_between_administrators``): the stage of the
    results Dataset that :func:`.assembly.assemble` adds as ``ds.merge(xr.Dataset(...))``.

    The coordinates' indexes are built once (:func:`~nationcap.vocab.index_coords`); the sums are
    one weighted bincount per variable and group over precomputed (group, time) cells, and BAU's
    are made once per BAU array."""
    markets = np.array(md.markets, dtype=str)
    cells = _group_cells(md)
    coords = _coords(md, markets, {g: (c[0], c[2]) for g, c in cells.items()})
    n_m = len(markets)

    def summed(vals: np.ndarray, key_cells: np.ndarray, n_g: int) -> np.ndarray:
        # one weighted bincount over (group, time) cells: the same sums as np.add.at (entities
        # added in the same order), much faster
        n_t = vals.shape[1]
        return np.bincount(key_cells, weights=vals.ravel(), minlength=n_m * n_g * n_t).reshape(n_m, n_g, n_t)

    bau = per_entity["bau_emissions"]
    bau_sums = _BAU_SUMS.get(
        (bau, md.entity_market, *(c[2] for c in cells.values())),
        ("bau sums", n_m),
        lambda: {g: summed(bau, c[3][bau.shape[1]], len(c[0])) for g, c in cells.items()},
    )
    out: dict[str, Any] = {}
    for group, (labels, count, _, key_cells) in cells.items():
        out[f"entities_by_{group}"] = Item(
            ("market", group), count, variable_attrs("1", f"number of the market's entities, by {group}")
        )
        for var, (tdim, units, desc) in _AGG_VARS.items():
            vals = per_entity[var]
            agg = bau_sums[group] if var == "bau_emissions" else summed(vals, key_cells[vals.shape[1]], len(labels))
            out[f"{var}_by_{group}"] = Item(
                ("market", group, tdim),
                agg,
                variable_attrs(
                    units,
                    f"{desc}, summed by market and {group}",
                    **({"money": pv} if var == "compliance_cost" else {}),
                ),
            )
    # allowances matched between administrators: min(bought by net buyers, sold by net sellers);
    # the rest of a period's positions is the market's bank (every entity's banking goes through it)
    position = out["net_purchase_by_administrator"].values  # market x administrator x period
    horizon = position.sum(axis=2)
    for name, pos, dims, when in (
        ("traded_between_administrators", position, ("market", "period"), "in the period"),
        ("traded_between_administrators_total", horizon, ("market",), "over all periods"),
    ):
        bought = pos.clip(min=0.0).sum(axis=1)
        sold = (-pos).clip(min=0.0).sum(axis=1)
        out[name] = Item(
            dims,
            np.minimum(bought, sold),
            variable_attrs(
                "t",
                f"allowances that move between administrators of the market {when}: the smaller of what the "
                "net buying administrators bought and what the net selling ones sold (net_purchase_by_administrator"
                + (" summed over periods" if dims == ("market",) else "")
                + "); the rest is banked or drawn from the bank",
            ),
        )
    return Stage("dataset", out, coords)


def _coords(
    md: ModelData, markets: np.ndarray, groups: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, xr.DataArray]:
    """The aggregates' coordinates, made once per dataset and labels (:meth:`Dataset.memo
    <nationcap.inputs.tables.Dataset.memo>`)."""
    values = {
        "market": markets,
        **{g: labels for g, (labels, _) in groups.items()},
        "year": np.array(md.years, dtype=np.int64),
        "period": np.array(md.periods, dtype=str),
    }
    key = ("aggregate coordinates", *((k, v.dtype.str, v.tobytes()) for k, v in values.items()))
    return md.dataset.memo(key, lambda: index_coords(values))


def uncovered_results(md: ModelData, coords: dict) -> dict[str, Item]:
    """Entities no market selects (:mod:`nationcap.derive.scope`): they emit their BAU. Counts and
    BAU by sector, prefecture and administrator, their total and its share of national CO2
    (``coords``: the results' coordinates, the groups' among them)."""
    assert md.scope is not None
    unc = md.scope.uncovered
    bau = md.scope.uncovered_bau_t
    years = coords["year"]
    out: dict[str, Item] = {}
    for group in ("sector", "prefecture", "administrator"):
        labels, _ = _groups(md, group)
        gi = pd.Index(labels).get_indexer(unc[group].astype(str))
        count = np.bincount(gi, minlength=len(labels)).astype(np.int64)
        cells = (gi[:, None] * len(years) + np.arange(len(years))[None, :]).ravel()
        agg = np.bincount(cells, weights=bau.ravel(), minlength=len(labels) * len(years)).reshape(
            len(labels), len(years)
        )
        out[f"uncovered_entities_by_{group}"] = Item(
            (group,), count, variable_attrs("1", f"number of entities no market covers, by {group}")
        )
        out[f"uncovered_bau_emissions_by_{group}"] = Item(
            (group, "year"),
            agg,
            variable_attrs("t", f"BAU emissions of the entities no market covers (they emit it), by {group}"),
        )
    total = bau.sum(axis=0)
    national = np.array([md.dataset.national_co2_t.get(int(y), np.nan) for y in years])
    out["uncovered_bau_emissions"] = Item(
        ("year",), total, variable_attrs("t", "BAU emissions of the entities no market covers (they emit it)")
    )
    out["uncovered_share"] = Item(
        ("year",),
        total / national,
        variable_attrs(
            "1",
            "BAU emissions of the entities no market covers / national CO2 (dataset.toml); with coverage_share "
            "summed over markets, the share of national CO2 of every entity of the dataset",
        ),
    )
    return out
