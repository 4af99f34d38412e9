"""Messages for scenario problems: pydantic's errors in words a modeller can act on.

Used by :mod:`nationcap.config.loading` (the scenario) and :mod:`nationcap.config.batch` (the
``[montecarlo]`` table). Every message says what is expected; an unknown key or name gets the
closest known one (``difflib``); a number out of its bounds gets the whole range it must lie in,
as the schema's ``Field`` constraints state it.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

#: pydantic's error types for a number out of a bound, and the constraint each one breaks
BOUND_ERRORS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (same name in another case first), or None."""
    known = [str(k) for k in known]
    for k in known:
        if k.lower() == name.lower():
            return k
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(name: str, known: Iterable[str], then: str = "") -> str:
    """``"; did you mean 'regional'? Then..."`` or ``"; then..."``: a suggestion, and ``then``
    (a sentence in lower case, without its full stop) after it."""
    best = closest(name, known)
    if best:
        return f"; did you mean '{best}'?" + (f" {then[:1].upper()}{then[1:]}" if then else "")
    return f"; {then}" if then else ""


def describe(err: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a message.

    ``model`` is the model that was validated; with it an unknown key gets the closest allowed one.
    """
    kind = err["type"]
    loc = tuple(err.get("loc", ()))
    name = str(loc[-1]) if loc else "value"
    got = err.get("input")
    if kind == "extra_forbidden":
        allowed = known_keys(model, loc[:-1]) if model is not None else []
        listed = f" (allowed here: {', '.join(allowed)})" if allowed and len(allowed) <= 12 else ""
        then = "see the scenario reference in README.md for the allowed keys"
        return f"unknown key '{name}' (a typo?){listed}{did_you_mean(name, allowed, then)}"
    if kind == "missing":
        return "required key is missing"
    if kind in BOUND_ERRORS:
        return _out_of_bounds(err, model)
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "float_type":
        return f"a number is expected, got {_shown(got)}{_unquote_hint(name, got)}"
    if kind == "int_type":
        return f"a whole number is expected, got {_shown(got)}{_unquote_hint(name, got, whole=True)}"
    if kind == "bool_type":
        return f"true or false is expected (without quotes), got {_shown(got)}"
    if kind == "string_type":
        return f"a text in quotes is expected, got {_shown(got)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"a table is expected ({name} = {{ ... }} or a [{'.'.join(map(str, loc))}] section), got {_shown(got)}"
    return f"{err['msg']} (got {got!r})"


def _out_of_bounds(err: Any, model: type[BaseModel] | None) -> str:
    """``"factor must be in [0, 1), got 1.5"``: the field's title (if any), every bound of the
    field (not only the one broken), the value given, and an example value if the field has one."""
    loc = tuple(err.get("loc", ()))
    info = field_info(model, loc[:-1], loc[-1]) if model is not None and loc else None
    bounds: dict[str, Any] = {}
    for item in info.metadata if info is not None else []:
        for name in ("gt", "ge", "lt", "le"):
            if isinstance(item, getattr(annotated_types, name.capitalize())):
                bounds[name] = getattr(item, name)
    bounds = bounds or dict(err.get("ctx", {}))
    low = ("(", bounds["gt"]) if "gt" in bounds else ("[", bounds["ge"]) if "ge" in bounds else None
    high = (")", bounds["lt"]) if "lt" in bounds else ("]", bounds["le"]) if "le" in bounds else None
    if low and high:
        rule = f"in {low[0]}{_number(low[1])}, {_number(high[1])}{high[0]}"
    elif low:
        rule = f"{'>' if low[0] == '(' else '>='} {_number(low[1])}"
    elif high:
        rule = f"{'<' if high[0] == ')' else '<='} {_number(high[1])}"
    else:
        return f"{err['msg']} (got {err.get('input')!r})"
    got = err.get("input")
    if isinstance(got, int) and not isinstance(got, bool) and any(isinstance(b, float) for b in bounds.values()):
        got = float(got)  # an integer where a number belongs: shown as the number it is taken for
    title = f"{info.title} " if info is not None and info.title else ""
    example = f" (e.g. {', '.join(map(str, info.examples))})" if info is not None and info.examples else ""
    return f"{title}must be {rule}{example}, got {got}"


def _number(bound: Any) -> str:
    """A bound as written in the schema, without a trailing ``.0``: ``0``, ``0.5``, ``-1``."""
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def field_info(model: type[BaseModel], loc: Sequence[Any], name: Any) -> FieldInfo | None:
    """The ``Field`` (its bounds, title, examples) of the value at ``loc`` + ``name``: a model's
    field, or the ``Annotated[..., Field(...)]`` of a dict's values or a list's items."""
    current: Any = model
    info: FieldInfo | None = None
    for key in (*loc, name):
        current, info = _member(current, info, table=True)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(key))
            if info is None:
                return None
            current = _unwrap(info.annotation)
        elif typing.get_origin(current) in (dict, list, tuple):
            info, current = None, _unwrap(typing.get_args(current)[-1])
        else:
            return None
        if typing.get_origin(current) is typing.Annotated:  # an alias such as NonNegative
            current, *extra = typing.get_args(current)
            info = next((x for x in extra if isinstance(x, FieldInfo)), info)
            current = _unwrap(current)
    return _member(current, info, table=False)[1]


def _member(current: Any, info: FieldInfo | None, table: bool) -> tuple[Any, FieldInfo | None]:
    """For a union of a scalar and a table (``auction_share``'s values): its table member where the
    path goes on (``table``), else its scalar member, with that member's ``Field``; anything else
    as it is."""
    if typing.get_origin(current) not in (typing.Union, types.UnionType):
        return current, info
    members = list(typing.get_args(current))
    pick = [m for m in members if (typing.get_origin(_bare(m)) is dict) == table] or members
    chosen = pick[0]
    while typing.get_origin(chosen) is typing.Annotated:
        chosen, *extra = typing.get_args(chosen)
        info = next((x for x in extra if isinstance(x, FieldInfo)), info)
    return _unwrap(chosen), info


def _bare(annotation: Any) -> Any:
    """``annotation`` without its ``Annotated`` wrappers."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _unquote_hint(name: str, value: Any, whole: bool = False) -> str:
    """``"; write it without quotes: general = 0.08"`` when the text is a number."""
    if isinstance(value, float) and whole and value.is_integer():
        return f"; write {name} = {int(value)}"
    if not isinstance(value, str):
        return ""
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        return ""
    return f"; write it without quotes: {name} = {number!r}"


def known_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys a model allows at ``loc`` (a pydantic error location without its last item).

    Walks the field annotations: a dict's key or a list's index is skipped, ``X | None`` unwraps.
    Returns an empty list where the location is not a model (e.g. inside a free-form table).
    """
    current: Any = model
    i = 0
    while i < len(loc):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(loc[i]))
        if field is None:
            return []
        current = _unwrap(field.annotation)
        i += 1
        while typing.get_origin(current) in (dict, list) and i < len(loc):
            args = typing.get_args(current)
            current = _unwrap(args[-1])
            i += 1
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [k for k, f in current.model_fields.items() if not f.exclude]
    return []


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
