"""Writing a scenario dict (as read from TOML, with overrides applied) back as TOML text.

The standard library reads TOML but does not write it; scenario files hold only tables, arrays of
tables, arrays of scalars and scalars (strings, booleans, integers, floats), which is all this
writer handles. :func:`scenario_toml` checks its own output: the text read back with
:mod:`tomllib` equals the dict it was given, or it raises ``ValueError``.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    """A scalar, an array or an inline table as TOML."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise ValueError(f"cannot write {type(v).__name__} {v!r} as TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _flat(d: dict[str, Any]) -> bool:
    """A dict whose values hold no dict deeper than one level: written inline (compliance factors)."""
    return all(not isinstance(x, dict) or all(not isinstance(y, dict) for y in x.values()) for x in d.values())


def _table(lines: list[str], header: str, d: dict[str, Any]) -> None:
    simple = {k: v for k, v in d.items() if not isinstance(v, dict) and not _is_table_array(v)}
    nested = {k: v for k, v in d.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in d.items() if _is_table_array(v)}
    for k, v in nested.items():  # small tables of scalars (or of tables of scalars) inline
        if _flat(v) and len(_value(v)) <= 100:
            simple[k] = v
    for k in simple:
        nested.pop(k, None)
    if header and (simple or not (nested or arrays)):
        lines.append(f"\n[{header}]")
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in simple.items())
    prefix = f"{header}." if header else ""
    for k, items in arrays.items():
        for item in items:
            lines.append(f"\n[[{prefix}{_key(k)}]]")
            sub: list[str] = []
            _table(sub, f"{prefix}{_key(k)}", item)
            # the item's own scalars follow its [[header]]; its sub-tables keep their full header
            head = f"\n[{prefix}{_key(k)}]"
            lines.extend(x for x in sub if x != head)
    for k, v in nested.items():
        _table(lines, f"{prefix}{_key(k)}", v)


def scenario_toml(raw: dict[str, Any], comment: str = "") -> str:
    """``raw`` as the text of a TOML file (each line of ``comment`` first, as a ``#`` comment)."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    _table(lines, "", raw)
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib.loads(text) != _plain(raw):
        raise ValueError("the scenario does not read back as written (a value TOML cannot hold?)")
    return text


def _plain(v: Any) -> Any:
    """``v`` as tomllib reads it back (tuples become lists)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
