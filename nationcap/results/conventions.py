"""The netCDF conventions of results files (single runs and batches alike).

``results.nc`` follows the CF conventions where they apply (global attribute ``Conventions``):

- every variable and coordinate has a ``long_name`` (a short human name; figures use it in
  their axis labels) and, for results variables, a ``description`` (what it is, how it is made);
- ``units`` are strings a units library parses (``t``, ``JPY``, ``JPY/t``, ``1`` for shares,
  multipliers and counts). Labels (entity, market, period, sector, ...), text and fiscal years
  have no ``units``: a fiscal year is a label (FY2026 = April 2026 to March 2027), not a time
  since an epoch, so the ``year`` coordinate has ``long_name = "fiscal year"`` and no unit;
- amounts in JPY say what money they are in, in the separate attribute ``money``:
  ``"present value at FY<first year>"`` (discounted to the first model year, e.g. ``price_pv``,
  ``compliance_cost``, ``total_cost``) or ``"each year's money"`` (not discounted: ``price``,
  ``abatement_cost``);
- the Dataset attributes name what the file was computed from: ``dataset_sha256`` (the
  fingerprint of the dataset folder, :func:`nationcap.inputs.dataset_fingerprint`) and
  ``inputs_sha256`` (JSON: the sha256 of every input file, the scenario file and each file of
  the dataset folder, :func:`nationcap.inputs.input_fingerprints`).

:func:`apply_conventions` fills what a variable does not state itself (a ``long_name`` from its
name, the coordinates' names) and is applied to every results Dataset before it is written.
"""

from __future__ import annotations

import xarray as xr

from ..model.rules import RULES
from ..vocab import variable_attrs

CONVENTIONS = "CF-1.10"

#: coordinates of the core results: long_name (and a comment where the name is not enough); a
#: program rule declares its own coordinates (its ``COORDS``), added to :data:`COORDINATES`
_CORE_COORDINATES: dict[str, dict[str, str]] = {
    "entity": {"long_name": "entity id (entities.csv)"},
    "market": {"long_name": "market (scenario key)"},
    "year": {"long_name": "fiscal year", "comment": "FY2026 runs from April 2026 to March 2027"},
    "period": {"long_name": "compliance period"},
    "sector": {"long_name": "sector"},
    "prefecture": {"long_name": "prefecture"},
    "administrator": {"long_name": "administrator (national government, prefecture or designated city)"},
    "entity_market": {"long_name": "market of the entity"},
    "entity_sector": {"long_name": "sector of the entity"},
    "entity_prefecture": {"long_name": "prefecture of the entity"},
    "entity_administrator": {"long_name": "administrator of the entity"},
    "mac_point": {"long_name": "point of the compressed MAC curve (see mac_curve_quantity)"},
    "bau_group": {"long_name": "group of the Monte Carlo BAU draw"},
    "mac_group": {"long_name": "group of the Monte Carlo MAC cost draw"},
    "scenario": {"long_name": "sweep point"},
    "draw": {"long_name": "Monte Carlo draw number"},
}
#: every coordinate: the core's and the rules'
COORDINATES: dict[str, dict[str, str]] = {
    **_CORE_COORDINATES,
    **{name: attrs for rule in RULES for name, attrs in getattr(rule, "COORDS", {}).items()},
}

#: short names of the core variables (rules' variables and aggregates are named from their
#: variable name unless they set their own)
LONG_NAMES: dict[str, str] = {
    "price": "allowance price",
    "price_pv": "allowance price (present value)",
    "price_low": "least clearing allowance price",
    "price_high": "greatest clearing allowance price",
    "price_low_pv": "least clearing allowance price (present value)",
    "price_high_pv": "greatest clearing allowance price (present value)",
    "bau_emissions": "business-as-usual emissions",
    "emissions": "emissions",
    "abatement": "abatement",
    "abatement_cost": "abatement cost",
    "allocation": "free allocation",
    "net_purchase": "net allowance purchase",
    "compliance_cost": "compliance cost",
    "cap": "cap",
    "market_emissions": "market emissions",
    "bank": "bank at the end of the period",
    "expired": "expired allowances",
    "total_cost": "total cost",
    "base_emissions": "base-year emissions",
    "base_year_first": "first fiscal year of the base window",
    "double_counted": "double-counted electricity emissions",
    "coverage_share": "coverage of national CO2",
    "double_counted_share": "double-counted share of national CO2",
    "combined_coverage_share": "combined coverage of national CO2",
    "mac_curve_cost_pv": "MAC step cost (present value)",
    "mac_curve_quantity": "cumulative abatement of the MAC curve",
}

_AGGREGATE = {"_by_sector": "sector", "_by_prefecture": "prefecture", "_by_administrator": "administrator"}


def long_name(name: str) -> str:
    """The ``long_name`` of a variable that does not state one: known names, else from the name."""
    if name in LONG_NAMES:
        return LONG_NAMES[name]
    for suffix, group in _AGGREGATE.items():
        if name.endswith(suffix) and name[: -len(suffix)] in LONG_NAMES:
            return f"{LONG_NAMES[name[: -len(suffix)]]} by {group}"
    return name.replace("_", " ")


def apply_conventions(ds: xr.Dataset) -> xr.Dataset:
    """Give every variable and coordinate of ``ds`` the attributes of the module docstring (in place;
    on the variables themselves: ``ds[name]`` would make a DataArray of each, slow for many)."""
    variables = ds.variables
    for name in ds.data_vars:
        attrs = dict(variables[name].attrs)
        if "units" in attrs or "description" in attrs:
            attrs.update(
                variable_attrs(str(attrs.get("units", "")), str(attrs.get("description", "")), attrs.get("money"), None)
            )
            if not attrs.get("units"):
                attrs.pop("units", None)
        attrs.setdefault("long_name", long_name(str(name)))
        variables[name].attrs = {"long_name": attrs.pop("long_name"), **attrs}
    for name in ds.coords:
        attrs = dict(variables[name].attrs)
        if attrs.get("units") == "":
            del attrs["units"]
        known = COORDINATES.get(str(name), {})
        attrs = {**known, **{k: v for k, v in attrs.items() if k not in known}}
        attrs.setdefault("long_name", long_name(str(name)))
        variables[name].attrs = attrs
    ds.attrs["Conventions"] = CONVENTIONS
    return ds
