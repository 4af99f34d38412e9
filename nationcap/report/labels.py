"""Axis and value labels of figures, made from the results' own names and units.

A results variable states its ``long_name``, ``units`` and, in JPY, its ``money`` (see
:mod:`nationcap.results.conventions`); figures label axes with them instead of repeating text:

    >>> axis_label({"long_name": "allowance price", "units": "JPY/t", "money": "each year's money"})
    "allowance price (JPY/t CO2, each year's money)"
    >>> axis_label({"long_name": "abatement", "units": "t"}, scale=1e-6, per_year=True)
    'abatement (Mt CO2/yr)'

Scenario keys (dotted paths, as swept by ``nationcap sweep``) become readable labels:

    >>> param_label("markets.regional.compliance_factor.P2.general")
    'compliance factor, Regional Program, P2, general category (share of base-year emissions)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..results.iamc import program_name

#: scale -> prefix of t and JPY in figures (values are divided accordingly)
_T_PREFIX = {1.0: "t", 1e-3: "kt", 1e-6: "Mt"}
_JPY_PREFIX = {1.0: "JPY", 1e-3: "thousand JPY", 1e-6: "million JPY", 1e-9: "billion JPY", 1e-12: "trillion JPY"}


def unit_label(units: str, money: str = "", scale: float = 1.0, per_year: bool = False) -> str:
    """Units as a figure shows them: tonnes are of CO2, amounts shown x ``scale`` get a prefix
    (``1e-6`` t -> Mt, ``1e-9`` JPY -> billion JPY), and JPY carry their money."""
    if units == "t":
        text = f"{_T_PREFIX.get(scale, f'{1 / scale:g} t')} CO2"
    elif units == "JPY":
        text = _JPY_PREFIX.get(scale, f"{1 / scale:g} JPY")
    elif units == "JPY/t":
        text = "JPY/t CO2" if scale == 1.0 else f"{1 / scale:g} JPY/t CO2"
    elif units == "1":
        text = "share" if scale == 1.0 else f"x {1 / scale:g}"
    else:
        text = units
    if per_year and text:
        text += "/yr"
    if money and "JPY" in units:
        text += f", {money}"
    return text


def axis_label(
    attrs: Mapping[str, Any],
    scale: float = 1.0,
    per_year: bool = False,
    name: str | None = None,
    note: str = "",
) -> str:
    """``"<long_name> (<units>[, <money>][, <note>])"`` of a results variable's attributes
    (``name`` in place of its long_name, ``note`` appended inside the brackets)."""
    what = name or str(attrs.get("long_name", ""))
    unit = unit_label(str(attrs.get("units", "")), str(attrs.get("money", "")), scale, per_year)
    inside = ", ".join(x for x in (unit, note) if x)
    return f"{what} ({inside})" if inside else what


#: what scenario keys measure (their last word), for labels of swept values
_PARAM_UNITS = {
    "compliance_factor": "share of base-year emissions",
    "discount_rate": "per year",
    "auction_share": "share of the cap",
    "limit_fraction": "share",
    "limit_share": "share",
    "penalty_multiplier": "x shortfall",
    "ratio": "national t per regional t",
    "growth_rate": "per year",
}


def _words(part: str) -> str:
    return part.replace("_", " ")


def _carried_unit(part: str) -> tuple[str, str]:
    """("start", "JPY/t CO2") of a key part that carries its unit ("start_jpy_per_t"), else (part, "")."""
    for suffix, unit in (("_jpy_per_t", "JPY/t CO2"), ("_jpy", "JPY"), ("_t", "t CO2"), ("_s", "s")):
        if part.endswith(suffix):
            return part[: -len(suffix)], unit
    return part, ""


def param_label(key: str, short: bool = False) -> str:
    """A readable label of a dotted scenario key (a ``--set`` / ``--param`` path).

    ``markets.<m>.<field>.<...>`` reads "<field>, <Program>, <rest of the path>" (the categories
    of a compliance factor say so); ``periods.<i>.<field>`` reads "<field> of period <i + 1>";
    keys that carry their unit (``..._jpy_per_t``) or known fields (``compliance_factor``) get
    the unit in brackets, which ``short`` leaves out (for legends next to a labelled axis).
    """
    parts = key.split(".")
    program = ""
    if parts[0] == "markets" and len(parts) >= 3:
        program, parts = program_name(parts[1]), parts[2:]
    if parts[0] == "periods" and len(parts) == 3 and parts[1].isdigit():
        text = f"{_words(parts[2])} of period {int(parts[1]) + 1}"
        return text
    head, *rest = parts
    head, unit = _carried_unit(head)
    if rest:
        last, last_unit = _carried_unit(rest[-1])
        rest = [*rest[:-1], last]
        unit = last_unit or unit
    unit = unit or _PARAM_UNITS.get(head, "") or (_PARAM_UNITS.get(rest[-1], "") if rest else "")
    if head == "compliance_factor" and len(rest) == 2:  # compliance_factor.<period>.<category>
        rest = [rest[0], f"{rest[1]} category"]
    text = ", ".join([_words(head)] + ([program] if program else []) + [_words(r) for r in rest if r])
    return text if short or not unit else f"{text} ({unit})"
