"""Scenario files: TOML -> one typed, validated :class:`Scenario`.

A scenario file (``models/*.toml``) names a dataset folder and describes the cap design::

    name = "baseline"
    inputs = "../inputs/japan"     # dataset folder, relative to this file
    discount_rate = 0.03           # real, per year; costs are discounted to the first model year
    [[periods]]                    # compliance periods, contiguous and in order
    name = "P1"
    first_year = 2026
    last_year = 2030
    [markets.regional]             # one table per market; entities name their market
    banking = true                 # unused allowances carry to the next period
    borrowing = false              # true: a period may draw on later allocations (bank < 0)
    compliance_factor = { P1 = { general = 0.08, dhc = 0.06 } }

Every key is typed; an unknown key is an error (a typo must never be silently ignored). Any value
can be overridden with ``--set dotted.key=value``; the value is read as a TOML value when it
parses as one (``0.1``, ``true``, ``"text"``, ``[1, 2]``) and as a plain string otherwise.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, Problems

#: HiGHS options used unless the scenario overrides them. HiGHS presolve stalls on this model's
#: shape (few rows, ~10^6 bounded columns); IPX with crossover gives vertex duals (prices).
DEFAULT_HIGHS_OPTIONS: dict[str, Any] = {
    "presolve": "off",
    "solver": "ipx",
    "run_crossover": "on",
    "threads": 1,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    """A compliance period: fiscal years ``first_year..last_year`` inclusive."""

    name: str = Field(description="period name used as a key, e.g. P1")
    first_year: int = Field(description="first fiscal year of the period")
    last_year: int = Field(description="last fiscal year of the period (inclusive)")

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def n_years(self) -> int:
        return self.last_year - self.first_year + 1


class MarketConfig(_Strict):
    """Rules of one allowance market."""

    banking: bool = Field(True, description="unused allowances carry over to the next period")
    borrowing: bool = Field(
        False, description="a period may use allowances of later periods (bank below zero)"
    )
    compliance_factor: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="period -> category -> reduction factor in [0, 1); "
        "a category missing from a period falls back to 'general'",
    )


class SolverConfig(_Strict):
    """Solver settings. ``highs`` entries are passed to HiGHS as options."""

    name: str = Field("highs", description="only 'highs' is supported")
    highs: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="HiGHS options, merged over the nationcap defaults"
    )
    time_limit_s: float | None = Field(None, description="wall-clock limit for one solve")

    def highs_options(self) -> dict[str, Any]:
        opts = dict(DEFAULT_HIGHS_OPTIONS)
        opts.update(self.highs)
        if self.time_limit_s is not None:
            opts["time_limit"] = float(self.time_limit_s)
        return opts


class Scenario(_Strict):
    """One cap design, fully resolved (see the module docstring for the file format)."""

    name: str
    description: str = ""
    inputs: str = Field(description="dataset folder, relative to the scenario file")
    discount_rate: float = Field(0.03, description="real discount rate per year")
    periods: list[Period]
    markets: dict[str, MarketConfig]
    solver: SolverConfig = Field(default_factory=SolverConfig)

    # where the file was read from; not a TOML key
    source: str | None = Field(None, exclude=True)

    # -- derived -------------------------------------------------------------------------
    @property
    def inputs_path(self) -> Path:
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / self.inputs).resolve()

    @property
    def years(self) -> list[int]:
        return [y for p in self.periods for y in p.years]

    @property
    def first_year(self) -> int:
        return self.periods[0].first_year

    def period_of_year(self) -> dict[int, str]:
        return {y: p.name for p in self.periods for y in p.years}

    def discount_factor(self, year: int) -> float:
        """``(1 + r) ** -(year - first model year)``: PV weight of money in ``year``."""
        return (1.0 + self.discount_rate) ** -(year - self.first_year)

    def factor(self, market: str, period: str, category: str) -> float:
        """Compliance factor of ``category`` in ``period``, falling back to ``general``."""
        table = self.markets[market].compliance_factor.get(period, {})
        if category in table:
            return table[category]
        return table["general"]

    def resolved(self) -> dict[str, Any]:
        """The configuration as run: every key with its value, plus the absolute inputs path."""
        d = self.model_dump(mode="json")
        d["inputs_resolved"] = str(self.inputs_path)
        d["solver"]["highs_resolved"] = self.solver.highs_options()
        return d

    def resolved_json(self) -> str:
        return json.dumps(self.resolved(), sort_keys=True, indent=1)


# ---------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------


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
        raise ValueError(
            f"--set {'.'.join(path)}: '{part}' must be an index 0..{len(node) - 1} of the list"
        ) from None
    return idx


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, override and validate a scenario file; raise :class:`InputError` listing all problems."""
    path = Path(path)
    fname = str(path)
    if not path.is_file():
        raise InputError(
            [_p(fname, "", "", "file not found; give the path of a scenario .toml file")],
            "scenario",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError([_p(fname, "", "", f"not valid TOML: {exc}")], "scenario") from None
    return scenario_from_dict(raw, source=path, overrides=overrides)


def scenario_from_dict(
    raw: dict[str, Any], source: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Validate a scenario given as a dict (as read from TOML), applying ``--set`` overrides."""
    fname = str(source) if source else "<scenario>"
    data = copy.deepcopy(raw)
    problems = Problems(context="scenario")
    for text in overrides:
        try:
            apply_override(data, *parse_override(text))
        except ValueError as exc:
            problems.add("--set", text, "", str(exc))
    problems.raise_if_any()
    try:
        scn = Scenario.model_validate({**data, "source": str(source) if source else None})
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(x) for x in err["loc"])
            problems.add(fname, f"key '{key}'", "", _pydantic_message(err))
        problems.raise_if_any()
    problems.extend(check_scenario(scn, fname))
    problems.raise_if_any()
    return scn


def _pydantic_message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (a typo?); see the scenario reference in README.md for the allowed keys"
    if kind == "missing":
        return "required key is missing"
    return f"{err['msg']} (got {err.get('input')!r})"


def check_scenario(scn: Scenario, fname: str) -> Problems:
    """Semantic checks that do not need the dataset: periods and factors."""
    problems = Problems(context="scenario")
    if not scn.periods:
        problems.add(fname, "key 'periods'", "", "at least one [[periods]] table is required")
    if not 0.0 <= scn.discount_rate < 1.0:
        problems.add(fname, "key 'discount_rate'", "", f"must be in [0, 1), got {scn.discount_rate}")
    if scn.solver.name != "highs":
        problems.add(fname, "key 'solver.name'", "", f"only 'highs' is supported, got {scn.solver.name!r}")
    names = [p.name for p in scn.periods]
    for i, p in enumerate(scn.periods):
        where = f"key 'periods.{i}' ({p.name})"
        if p.last_year < p.first_year:
            problems.add(fname, where, "", f"last_year {p.last_year} is before first_year {p.first_year}")
        if names.count(p.name) > 1:
            problems.add(fname, where, "", f"period name {p.name!r} is used more than once")
        if i > 0:
            prev = scn.periods[i - 1]
            if p.first_year <= prev.last_year:
                problems.add(
                    fname, where, "",
                    f"overlaps period {prev.name} (which ends in {prev.last_year}); "
                    f"periods must be in order and must not overlap",
                )
            elif p.first_year > prev.last_year + 1:
                problems.add(
                    fname, where, "",
                    f"gap after period {prev.name}: years {prev.last_year + 1}..{p.first_year - 1} "
                    f"are in no period; periods must be contiguous",
                )
    if not scn.markets:
        problems.add(fname, "key 'markets'", "", "define at least one [markets.<name>] table")
    for m, mc in scn.markets.items():
        for pname, table in mc.compliance_factor.items():
            key = f"key 'markets.{m}.compliance_factor.{pname}'"
            if pname not in names:
                problems.add(fname, key, "", f"unknown period {pname!r}; periods are {names}")
            for cat, f in table.items():
                if not 0.0 <= f < 1.0:
                    problems.add(fname, f"{key[:-1]}.{cat}'", "", f"factor must be in [0, 1), got {f}")
        for pname in names:
            if "general" not in mc.compliance_factor.get(pname, {}):
                problems.add(
                    fname, f"key 'markets.{m}.compliance_factor.{pname}'", "",
                    "a 'general' factor is required for every period (other categories fall back to it)",
                )
    return problems


def _p(file: str, where: str, column: str, message: str):
    from .errors import Problem

    return Problem(file, where, column, message)
