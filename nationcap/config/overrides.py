"""``--set`` overrides and value lists: dotted keys into a scenario dict, values read as TOML."""

from __future__ import annotations

import tomllib
from typing import Any


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b.c=0.1"`` -> (["a", "b", "c"], 0.1). The value is TOML if it parses, else a string."""
    if "=" not in text:
        raise ValueError(f"--set expects key.path=value, got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ValueError(f"--set key {key!r} is not a dotted path like markets.regional.banking")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.split("."), value


def apply_override(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``data[path[0]][path[1]]... = value`` in place; list items are addressed by index."""
    node: Any = data
    for i, part in enumerate(path[:-1]):
        if isinstance(node, list):
            node = node[_list_index(node, part, path[: i + 1])]
            continue
        nxt = node.get(part)
        if nxt is None:
            nxt = {}
            node[part] = nxt
        elif not isinstance(nxt, (dict, list)):
            raise ValueError(f"--set {'.'.join(path)}: {'.'.join(path[: i + 1])} is a value, not a table")
        node = nxt
    last = path[-1]
    if isinstance(node, list):
        node[_list_index(node, last, path)] = value
    else:
        node[last] = value


def _list_index(node: list, part: str, path: list[str]) -> int:
    try:
        idx = int(part)
        if idx < 0:
            raise IndexError(idx)
        node[idx]
    except (ValueError, IndexError):
        raise ValueError(f"--set {'.'.join(path)}: '{part}' must be an index 0..{len(node) - 1} of the list") from None
    return idx


def split_values(text: str) -> list[Any]:
    """``"0.1,0.2"`` -> [0.1, 0.2]: split on top-level commas, read each item as a TOML value.

    Commas inside brackets, braces or quotes do not split, so ``[1, 2],[3, 4]`` gives two lists.
    """
    items: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    items.append("".join(cur))
    values = []
    for item in items:
        item = item.strip()
        if not item:
            raise ValueError(f"empty value in {text!r}")
        values.append(parse_override(f"v={item}")[1])
    return values


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b": [1]}`` (unquoted dotted TOML keys become nested tables)."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out
