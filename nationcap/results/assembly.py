"""Putting a results Dataset together from its variables, without xarray's alignment.

A results Dataset is made of a few dozen variables that all lie on the same few coordinates
(entity, market, year, period, sector, ...). Made as DataArrays and merged, every variable pays
for xarray's alignment of its coordinates with the others' (index comparisons, copies of
variables and attributes), which cost more than the numbers themselves on a held session's
re-solve. Here the variables are laid out directly, in the order xarray's merge gives them, and
the Dataset is made once; the result equals the merged one (:func:`merged`, the straightforward
way, kept as the reference and as the fallback) in every variable, coordinate, index, attribute
and in the order of its variables.

The parts of a Dataset are a list of *stages*, applied in order:

``Stage("arrays", items)``
    variables as ``xr.Dataset(items)`` makes them, or ``ds.merge(items)`` adds them: each
    variable's coordinates not yet placed come first, then the variable itself
``Stage("dataset", items, coords)``
    ``ds.merge(xr.Dataset(items, coords=coords))``: the variables, then the coordinates of
    ``coords`` that they use (in the order of ``coords``) and that are not placed yet
``Stage("labels", items)``
    non-index coordinates added to the Dataset (``ds.assign_coords``), with their attributes

An item is a :class:`Item` (dimensions, values, attributes; its dimension coordinates are taken
from the shared ``coords``) or a DataArray (a program rule's variable, with its own coordinates).
Where a DataArray's coordinate differs from the one already placed (the merge would align them),
:func:`assemble` falls back to :func:`merged`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Item:
    """One results variable on the shared dimension coordinates."""

    dims: tuple[str, ...]
    values: Any
    attrs: dict[str, Any]


@dataclass(frozen=True)
class Stage:
    """One step of making a results Dataset (module doc)."""

    kind: str  #: "arrays", "dataset" or "labels"
    items: Mapping[str, Item | xr.DataArray]
    #: "dataset": its own dimension coordinates (its items' dimensions are looked up here)
    coords: Mapping[str, xr.DataArray] = field(default_factory=dict)


class _Conflict(Exception):
    """The layout cannot reproduce the merge (coordinates to align, a name given twice)."""


def assemble(stages: Sequence[Stage], coords: Mapping[str, xr.DataArray]) -> xr.Dataset:
    """The Dataset of ``stages`` on the dimension coordinates ``coords`` (module doc)."""
    try:
        return _laid_out(stages, coords)
    except _Conflict:
        return merged(stages, coords)


def _laid_out(stages: Sequence[Stage], coords: Mapping[str, xr.DataArray]) -> xr.Dataset:
    variables: dict[str, xr.Variable] = {}
    source: dict[str, xr.Variable] = {}  # each placed coordinate as it was given
    source_index: dict[str, Any] = {}  # and its index (the shared coordinates' own index objects)
    coord_names: list[str] = []

    def place(name: str, var: xr.Variable, index: Any = None) -> None:
        if name in source:
            given = source[name]
            same = var is given or (index is not None and index is source_index[name])
            if not same and not (
                var.dims == given.dims and var.shape == given.shape and np.array_equal(var.values, given.values)
            ):
                raise _Conflict(name)
            return
        if name in variables:
            raise _Conflict(name)
        source[name] = var
        source_index[name] = index
        # a shallow copy: the Dataset's attributes are set later, never on shared coordinates
        variables[name] = var.copy(deep=False)
        coord_names.append(name)

    def add(name: str, var: xr.Variable) -> None:
        if name in variables:
            raise _Conflict(name)
        variables[name] = var

    for stage in stages:
        if stage.kind == "labels":
            for name, item in stage.items.items():
                assert isinstance(item, Item)
                add(name, xr.Variable(item.dims, item.values, dict(item.attrs)))
                coord_names.append(name)
            continue
        own_coords = stage.kind == "arrays"
        used: set[str] = set()
        for name, item in stage.items.items():
            if isinstance(item, xr.DataArray):
                indexes = item.xindexes
                for c, v in item.coords.variables.items():
                    place(str(c), v, indexes.get(c))
                add(name, item.variable.copy(deep=False))
                used.update(str(d) for d in item.dims)
            else:
                if own_coords:
                    for d in item.dims:
                        place(d, coords[d].variable, coords[d].xindexes.get(d))
                add(name, xr.Variable(item.dims, item.values, dict(item.attrs)))
                used.update(item.dims)
        for c, coord in stage.coords.items():
            if c in used:
                place(c, coord.variable, coord.xindexes.get(c))
    ds = xr.Dataset(variables)
    extra = [c for c in coord_names if c not in ds.coords]
    return ds.set_coords(extra) if extra else ds


def merged(stages: Sequence[Stage], coords: Mapping[str, xr.DataArray]) -> xr.Dataset:
    """The Dataset of ``stages`` made the straightforward way: DataArrays merged by xarray."""

    def array(item: Item | xr.DataArray) -> xr.DataArray:
        if isinstance(item, xr.DataArray):
            return item
        return xr.DataArray(
            item.values, dims=item.dims, coords={d: coords[d] for d in item.dims}, attrs=dict(item.attrs)
        )

    ds: xr.Dataset | None = None
    for stage in stages:
        if stage.kind == "labels":
            assert ds is not None
            ds = ds.assign_coords({n: (i.dims, i.values) for n, i in stage.items.items() if isinstance(i, Item)})
            for n, i in stage.items.items():
                assert isinstance(i, Item)
                ds[n].attrs = dict(i.attrs)
            continue
        if stage.kind == "arrays":
            part = {n: array(i) for n, i in stage.items.items()}
            ds = xr.Dataset(part) if ds is None else ds.merge(part)
        else:
            data = {n: (i.dims, i.values, dict(i.attrs)) if isinstance(i, Item) else i for n, i in stage.items.items()}
            used = {d for i in stage.items.values() for d in i.dims}
            part_ds = xr.Dataset(data, coords={c: v for c, v in stage.coords.items() if c in used})
            ds = part_ds if ds is None else ds.merge(part_ds)
    assert ds is not None
    return ds
