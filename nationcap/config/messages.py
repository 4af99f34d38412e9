"""Messages for scenario problems: pydantic's errors in words a modeller can act on.

Used by :mod:`nationcap.config.loading` (the scenario) and :mod:`nationcap.config.batch` (the
``[montecarlo]`` table). Every message says what is expected; an unknown key or name gets the
closest known one (``difflib``).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel


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
