"""The package's shared vocabulary (the bottom layer, beside :mod:`nationcap.errors`).

Names that every layer uses the same way live here once: the dimension names of batch results
and of rule coordinates, the money strings of the ``money`` attribute, the attributes of a
results variable, and the map from fiscal years to period names.

- dimensions: :data:`DRAW_DIM` (Monte Carlo draws), :data:`SWEEP_DIM` (sweep points),
  :data:`TRANCHE_DIM` (tranches of an allowance reserve)
- money: :data:`EACH_YEARS_MONEY`, :func:`present_value_money`
- attributes: :func:`variable_attrs`, :func:`data_array`
- periods: :func:`year_period_map`
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import xarray as xr

#: the batch dimension of a Monte Carlo result (one member per draw)
DRAW_DIM = "draw"
#: the batch dimension of a sweep result (one member per point)
SWEEP_DIM = "scenario"
#: the coordinate of a reserve's tranches (their position in the scenario's list)
TRANCHE_DIM = "tranche"

#: the ``money`` attribute of a results variable in JPY that is not discounted: each amount is in
#: the money of the year (or period) it falls in
EACH_YEARS_MONEY = "each year's money"


def present_value_money(first_year: int) -> str:
    """The ``money`` attribute of a results variable discounted to the first model year."""
    return f"present value at FY{first_year}"


def variable_attrs(units: str, description: str, money: str | None = None, long_name: str | None = None) -> dict:
    """The attributes of a results variable (README "Results", netCDF conventions).

    ``units`` is a string a units library parses (``t``, ``JPY``, ``JPY/t``, ``1``; empty for
    labels and text: no ``units`` attribute then). What money an amount in JPY is in goes into
    the separate ``money`` attribute (:data:`EACH_YEARS_MONEY` or :func:`present_value_money`);
    units written with it after a comma (``"JPY, present value at FY2026"``) are split here, and
    JPY without a stated money are each year's money.
    """
    if ", " in units:
        units, rest = (s.strip() for s in units.split(",", 1))
        money = money or rest
    attrs: dict[str, str] = {}
    if long_name:
        attrs["long_name"] = long_name
    if units:
        attrs["units"] = units
    if "JPY" in units:
        attrs["money"] = money or EACH_YEARS_MONEY
    attrs["description"] = description
    return attrs


def data_array(
    values: Any,
    dims: tuple[str, ...],
    coords: Mapping[str, Any],
    units: str,
    description: str,
    money: str | None = None,
    long_name: str | None = None,
) -> xr.DataArray:
    """A results variable with its attributes (:func:`variable_attrs`).

    On dimension coordinates made by :func:`index_coords` (what results are built on) the
    DataArray is put together from their variables and indexes directly: xarray's constructor
    would check and rebuild each index, which costs more than the variable itself on a held
    session's re-solve. The DataArray is the same either way."""
    attrs = variable_attrs(units, description, money, long_name)
    picked = {d: coords[d] for d in dims}
    var = xr.Variable(dims, values, attrs)
    if all(
        isinstance(c, xr.DataArray) and c.dims == (d,) and d in c.xindexes and c.size == var.sizes[d]
        for d, c in picked.items()
    ):
        return xr.DataArray(
            var,
            coords={d: c.variable.copy(deep=False) for d, c in picked.items()},
            indexes={d: c.xindexes[d] for d, c in picked.items()},
            fastpath=True,
        )
    return xr.DataArray(values, dims=dims, coords=picked, attrs=attrs)


def index_coords(values: Mapping[str, Any]) -> dict[str, xr.DataArray]:
    """Dimension coordinates whose indexes are built once, to be shared by many variables.

    Every DataArray given a plain array as a coordinate builds a pandas index of it; for text
    labels pandas 3 first infers its string dtype, about 30 ms for 14,500 entity labels, which
    results variables would pay one by one. Coordinates made here keep their numpy dtype.
    """
    made = xr.Coordinates(dict(values))
    return {k: made[k] for k in values}


def year_period_map(periods: Iterable[Any]) -> dict[int, str]:
    """Fiscal year -> period name, from period objects (``name``, ``first_year``, ``last_year``
    attributes) or their dicts (as stored in the ``config`` attribute of a results file). The one
    place this map is made."""
    out: dict[int, str] = {}
    for p in periods:
        if isinstance(p, Mapping):
            name, first, last = p["name"], p["first_year"], p["last_year"]
        else:
            name, first, last = p.name, p.first_year, p.last_year
        out.update({y: name for y in range(int(first), int(last) + 1)})
    return out
