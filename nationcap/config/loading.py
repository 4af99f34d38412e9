"""Reading a scenario file: TOML -> ``--set`` overrides -> one validated :class:`Scenario`.

``[sweep]`` and ``[montecarlo]`` tables are taken out of the scenario and checked here too, so a
typo in them is reported by ``nationcap validate`` and ``nationcap run`` as well.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError, Problem, Problems
from .batch import parse_montecarlo, parse_sweep_table
from .overrides import apply_override, parse_override
from .schema import Scenario, check_scenario


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
    return raw, raw.pop("sweep", None), raw.pop("montecarlo", None)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file; raise :class:`InputError` listing all problems.

    ``[sweep]`` and ``[montecarlo]`` describe batches of runs (``nationcap sweep`` /
    ``montecarlo``); a single run ignores them, but they are checked so a typo is reported here too.
    """
    raw, sweep, montecarlo = read_scenario_file(path)
    scn = scenario_from_dict(raw, source=path, overrides=tuple(overrides))
    if sweep is not None:
        parse_sweep_table(sweep, str(path))
    if montecarlo is not None:
        parse_montecarlo(montecarlo, str(path))
    return scn


def scenario_from_dict(
    raw: dict[str, Any], source: str | Path | None = None, overrides: Iterable[str] = ()
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


def _pydantic_message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (a typo?); see the scenario reference in README.md for the allowed keys"
    if kind == "missing":
        return "required key is missing"
    return f"{err['msg']} (got {err.get('input')!r})"
