"""Reading a scenario file: TOML -> ``--set`` overrides -> one validated :class:`Scenario`.

``[sweep]`` and ``[montecarlo]`` tables are taken out of the scenario and checked here too, so a
typo in them is reported by ``nationcap validate`` and ``nationcap run`` as well.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import re
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import InputError, Problem, Problems
from .batch import parse_montecarlo, parse_sweep_table
from .checks import check_scenario
from .messages import BOUND_ERRORS, describe, did_you_mean
from .overrides import apply_override, parse_override
from .schema import Scenario


def read_scenario_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """TOML -> (scenario dict, ``[sweep]`` table, ``[montecarlo]`` table); the tables are popped."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            [Problem(str(path), "", "", "file not found; give the path of a scenario .toml file")], "scenario"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(str(path), "", "", f"not valid TOML: {exc}")], "scenario") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(str(path), f"byte {exc.start}", "", "not UTF-8 text; save the file as UTF-8")], "scenario"
        ) from None
    except OSError as exc:
        raise InputError([Problem(str(path), "", "", f"cannot be read: {exc.strerror or exc}")], "scenario") from None
    return raw, raw.pop("sweep", None), raw.pop("montecarlo", None)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file; raise :class:`InputError` listing all problems.

    ``[sweep]`` and ``[montecarlo]`` describe batches of runs (``nationcap sweep`` /
    ``montecarlo``); a single run ignores them, but they are checked so a typo is reported here too.
    """
    raw, sweep, montecarlo = read_scenario_file(path)
    rest, tables = batch_table_overrides(path, {"sweep": sweep, "montecarlo": montecarlo}, overrides)
    scn = scenario_from_dict(raw, source=path, overrides=rest)
    check_batch_tables(tables)
    return scn


#: the tables of a scenario file that describe batches of runs rather than the scenario
BATCH_TABLES = ("sweep", "montecarlo")


@dataclasses.dataclass
class BatchTable:
    """A ``[sweep]`` or ``[montecarlo]`` table with the ``--set`` overrides applied to it."""

    table: dict[str, Any] | None
    fname: str  #: what its problems are reported against: the file, with the --set that changed it


def batch_table_overrides(
    path: str | Path, tables: dict[str, dict[str, Any] | None], overrides: Iterable[str]
) -> tuple[tuple[str, ...], dict[str, BatchTable]]:
    """Apply the ``--set sweep.KEY=...`` and ``--set montecarlo.KEY=...`` overrides to those
    tables (documented tables of the same file); return the other overrides and the tables."""
    rest: list[str] = []
    out = {k: BatchTable(copy.deepcopy(t), str(path)) for k, t in tables.items()}
    problems = Problems(context="scenario")
    for text in overrides:
        try:
            key, value = parse_override(text)
        except ValueError:
            rest.append(text)  # reported by scenario_from_dict
            continue
        if key[0] not in BATCH_TABLES or len(key) < 2:
            rest.append(text)
            continue
        bt = out[key[0]]
        table = bt.table if bt.table is not None else {}
        try:
            apply_override(table, key[1:], value)
        except ValueError as exc:
            problems.add(f"--set {text}", "", "", str(exc))
            continue
        bt.table = table
        bt.fname = f"{bt.fname} with --set {text}" if " with --set " not in bt.fname else f"{bt.fname} --set {text}"
    problems.raise_if_any()
    return tuple(rest), out


def check_batch_tables(tables: dict[str, BatchTable]) -> None:
    """Check the ``[sweep]`` and ``[montecarlo]`` tables; one report for both."""
    problems = Problems(context="scenario")
    for name, parse in (("sweep", parse_sweep_table), ("montecarlo", parse_montecarlo)):
        bt = tables[name]
        if bt.table is None:
            continue
        try:
            parse(bt.table, bt.fname)
        except InputError as exc:
            problems.items.extend(exc.problems)
    problems.raise_if_any()


def scenario_from_dict(
    raw: dict[str, Any], source: str | Path | None = None, overrides: Iterable[str] = ()
) -> Scenario:
    """Validate a scenario given as a dict (as read from TOML), applying ``--set`` overrides.

    Every problem is reported once, in one :class:`InputError`. A problem that an override caused
    names the override (``--set KEY=VALUE``), not the file: one whose key lies on the override's
    path, or, failing that, one that the file alone does not have (then both are named). An
    override may change a market (or a period's entry) that the file defines but not add one, so a
    typo in a name is refused with the closest known name instead of creating an empty market.
    """
    fname = str(source) if source else "<scenario>"
    data = copy.deepcopy(raw)
    problems = Problems(context="scenario")
    applied: list[tuple[str, list[str]]] = []
    for text in overrides:
        label = f"--set {text}"
        try:
            path, value = parse_override(text)
            _refuse_new_entry(data, path)
            apply_override(data, path, value)
        except _NewEntry as exc:
            problems.add(label, f"key '{exc.key}'", "", str(exc))
        except ValueError as exc:
            problems.add(label, "", "", str(exc))
        else:
            applied.append((text, path))
    found, scn = _validate(data, source, fname)
    if found and applied:
        found = _attribute(found, raw, source, fname, applied)
    problems.extend(found)
    problems.raise_if_any()
    assert scn is not None
    return scn


def _validate(data: dict[str, Any], source: str | Path | None, fname: str) -> tuple[Problems, Scenario | None]:
    """Schema, then the cross-field checks: the problems, and the Scenario they were checked on.

    A number out of its bounds does not stop the cross-field checks (one report lists every
    problem, as when those bounds were checked by hand): they run on the scenario as given (see
    :func:`_past_bounds`). Any other schema problem (a type, an unknown or missing key) does; the
    Scenario is then None.
    """
    problems = Problems(context="scenario")
    payload = {**data, "source": str(source) if source else None}
    try:
        scn: Scenario | None = Scenario.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors()
        for err in errors:
            key = ".".join(str(x) for x in err["loc"])
            problems.add(fname, f"key '{key}'", "", describe(err, Scenario))
        scn = _past_bounds(payload, errors)
    if scn is not None:
        problems.extend(check_scenario(scn, fname))
    return problems, scn


def _past_bounds(payload: dict[str, Any], errors: list[Any]) -> Scenario | None:
    """The Scenario with its out-of-bounds numbers as given, when they are its only schema errors.

    Each such number is replaced by one within its bound for a second validation, and put back
    afterwards (``model_copy`` does not validate), so the cross-field checks see the file's values.
    None if any error is not a bound, or the stand-ins do not validate.
    """
    if not errors or any(err["type"] not in BOUND_ERRORS for err in errors):
        return None
    standin = copy.deepcopy(payload)
    for err in errors:
        (name, bound), *_ = err["ctx"].items()
        shift = {"gt": 1, "lt": -1}.get(name, 0)
        _set(standin, err["loc"], bound + shift)
    try:
        scn = Scenario.model_validate(standin)
    except ValidationError:
        return None
    for err in errors:
        scn = _put_back(scn, err["loc"], err["input"])
    return scn


def _set(data: Any, loc: tuple[Any, ...], value: Any) -> None:
    for key in loc[:-1]:
        data = data[key]
    data[loc[-1]] = value


def _put_back(obj: Any, loc: tuple[Any, ...], value: Any) -> Any:
    """``obj`` with the value at ``loc`` replaced (a copy of each model, dict or list on the way)."""
    key, rest = loc[0], loc[1:]
    current = getattr(obj, key) if isinstance(obj, BaseModel) else obj[key]
    if rest:
        new = _put_back(current, rest, value)
    elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        new = float(value)  # an integer given for a number: taken as the number, as validation does
    else:
        new = value
    if isinstance(obj, BaseModel):
        return obj.model_copy(update={key: new})
    if isinstance(obj, dict):
        return {**obj, key: new}
    items = list(obj)
    items[key] = new
    return type(obj)(items)


_KEY = re.compile(r"key '([^']*)'")


def _attribute(
    found: Problems, raw: dict[str, Any], source: str | Path | None, fname: str, applied: list[tuple[str, list[str]]]
) -> Problems:
    """Rename the file of each problem an override caused (see :func:`scenario_from_dict`)."""
    file_alone: set[tuple[str, str]] | None = None
    out = Problems(context="scenario")
    for p in found.items:
        m = _KEY.search(p.where)
        key = m.group(1).split(".") if m else []
        on_path = [text for text, path in applied if key and _related(key, path)]
        if on_path:
            out.items.append(dataclasses.replace(p, file=f"--set {on_path[-1]}"))
            continue
        if file_alone is None:
            alone, scn = _validate(copy.deepcopy(raw), source, fname)
            # a file that fails the schema alone was not checked further: leave its problems to it
            file_alone = {(q.where, q.message) for q in alone.items} if scn is not None else None
        if file_alone is not None and (p.where, p.message) not in file_alone:
            texts = " ".join(f"--set {text}" for text, _ in applied)
            out.items.append(dataclasses.replace(p, file=f"{fname} with {texts}"))
        else:
            out.items.append(p)
    return out


def override_paths(overrides: Iterable[str] = (), params: Iterable[str] = ()) -> list[tuple[str, list[str]]]:
    """(label, dotted path) of each ``--set KEY=VALUE`` and swept ``--param KEY`` (for :func:`blame`)."""
    applied = []
    for text in overrides:
        try:
            path, _ = parse_override(text)
        except ValueError:
            continue
        applied.append((f"--set {text}", path))
    applied += [(f"--param {key}", key.split(".")) for key in params]
    return applied


def blame(problems: Iterable[Problem], applied: list[tuple[str, list[str]]]) -> list[Problem]:
    """``problems`` with each one whose scenario key lies on the path of an override or swept key
    reported against that override (the last one, as it wins) instead of the scenario file."""
    out = []
    for p in problems:
        m = _KEY.search(p.where)
        key = m.group(1).split(".") if m else []
        on_path = [label for label, path in applied if key and _related(key, path)]
        out.append(dataclasses.replace(p, file=on_path[-1]) if on_path else p)
    return out


@contextlib.contextmanager
def blame_overrides(overrides: Iterable[str] = (), params: Iterable[str] = ()) -> Iterator[None]:
    """Report the problems of an :class:`InputError` raised in the block against the ``--set``
    (or swept ``--param``) that caused them (:func:`blame`), as :func:`scenario_from_dict` does
    for the scenario's own checks: for the checks that need the dataset (names that come from the
    data: categories, offset types, selection labels; ``nationcap/inputs/names.py``)."""
    applied = override_paths(overrides, params)
    try:
        yield
    except InputError as exc:
        if applied:  # the same exception (of its own class), its problems re-attributed
            exc.problems = blame(exc.problems, applied)
            exc.args = (exc._render(),)
        raise


def _related(key: list[str], path: list[str]) -> bool:
    """One dotted path lies on the other (``markets.regional`` and ``markets.regional.banking``)."""
    n = min(len(key), len(path))
    return key[:n] == path[:n]


class _NewEntry(ValueError):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def _refuse_new_entry(data: dict[str, Any], path: list[str]) -> None:
    """Refuse an override that would add a market, or a period to a table keyed by period.

    Markets and periods are defined by the file; an override that names one the file does not
    define is almost always a typo, and letting it through would create an empty market (reported
    as a missing 'general' factor) or a stray period entry.
    """
    markets = data.get("markets")
    if not (path[0] == "markets" and len(path) >= 2 and isinstance(markets, dict) and markets):
        return
    name = path[1]
    if name not in markets:
        known = [str(k) for k in markets]
        raise _NewEntry(
            f"markets.{name}",
            f"unknown market '{name}' (known: {', '.join(known)})"
            + did_you_mean(name, known, "--set can change a market that the scenario file defines but not add one"),
        )
    periods = data.get("periods")
    if len(path) >= 4 and path[2] in _BY_PERIOD and isinstance(periods, list):
        known = [str(p.get("name")) for p in periods if isinstance(p, dict)]
        period = path[3]
        if known and period not in known:
            raise _NewEntry(
                ".".join(path[:4]),
                f"unknown period '{period}' (known: {', '.join(known)}){did_you_mean(period, known)}",
            )


#: tables of a market keyed by period name
_BY_PERIOD = ("compliance_factor", "auction_share")
