"""The pipeline as one call: scenario -> dataset -> model -> solve -> results Dataset.

>>> from nationcap.run import run_scenario
>>> res = run_scenario("models/tiny.toml")          # doctest: +SKIP
>>> res["price"].sel(market="regional").values      # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import xarray as xr

from .config import Scenario, load_scenario
from .data import load_dataset
from .model import build_model, prepare
from .model.market import check_feasible
from .results import build_results
from .solve import solve


def run_scenario(
    scenario: Scenario | str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    log_file: str | None = None,
    engine: str = "pyomo",
) -> xr.Dataset:
    """Load, build, solve and return the results Dataset (nothing is written).

    ``engine`` is ``"pyomo"`` (the LP with HiGHS, the reference) or ``"fast"`` (the exact
    merit-order engine of :mod:`nationcap.fast`, core rules only).
    """
    t_start = time.perf_counter()
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, overrides)
    ds = load_dataset(scn.inputs_path, scn)
    return run_dataset(
        scn, ds, engine=engine, log_file=log_file, timings={"load": time.perf_counter() - t_start}, t_start=t_start
    )


def run_dataset(
    scn: Scenario,
    ds,
    engine: str = "pyomo",
    log_file: str | None = None,
    timings: dict[str, float] | None = None,
    t_start: float | None = None,
) -> xr.Dataset:
    """prepare -> build -> solve -> results on an already loaded (possibly modified) dataset."""
    if engine not in ("pyomo", "fast"):
        raise ValueError(f"unknown engine {engine!r}; use 'pyomo' or 'fast'")
    t_start = time.perf_counter() if t_start is None else t_start
    timings = dict(timings or {})
    t = time.perf_counter()
    md = prepare(scn, ds)
    if engine == "fast":
        from .fast import check_supported, solve_fast

        check_supported(md)
    check_feasible(md)
    m = build_model(md) if engine == "pyomo" else None
    timings["build"] = time.perf_counter() - t
    t = time.perf_counter()
    sr = solve(m, md, log_file=log_file) if engine == "pyomo" else solve_fast(md)
    timings["solve"] = time.perf_counter() - t
    t = time.perf_counter()
    res = build_results(md, sr, timings)
    timings["extract"] = time.perf_counter() - t
    res.attrs["timings_s"] = json.dumps({k: round(v, 4) for k, v in timings.items()}, sort_keys=True)
    res.attrs["wall_time_s"] = time.perf_counter() - t_start
    return res
