"""Reading and writing results: one netCDF encoding, one results writer, one reader.

``results.nc`` is the source of truth of a run (or of a batch: the same variables with a
``scenario`` or ``draw`` dimension); the CSV tables and ``run.json`` are views of it. Every file
and folder is written atomically and safely against interruption (:mod:`nationcap.atomic`).

Byte-stable results. Two runs of the same scenario on the same data write identical
``results.nc`` files: what differs from one run to the next (phase timings, wall time, solver
statistics: :data:`RUN_ATTRS`) stays in the in-memory Dataset and goes to ``run.json`` only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..atomic import atomic_file, atomic_folder, signals_deferred, write_error
from ..errors import InputError, Problem
from ..vocab import year_period_map

log = logging.getLogger(__name__)

#: variables a batch adds per member; they describe the run rather than its results
MEMBER_VARS = ("status", "error", "config_hash", "config", "termination", "objective")

_UNIT_SUFFIX = {"t": "t", "JPY": "jpy", "JPY/t": "jpy_per_t", "1": "", "": ""}


def unit_suffix(units: str, money: str = "") -> str:
    """The unit part of a column name: ``t``, ``jpy``, ``jpy_per_t``, with ``_pv`` for an amount in
    present value (``money`` "present value at FY...", see :mod:`.conventions`); nothing for
    shares, multipliers and counts (units ``1``) and for labels. Units written with their money
    after a comma (``"JPY/t, present value at FY2026"``) are read as well."""
    if ", " in units:
        units, money = (x.strip() for x in units.split(",", 1))
    suffix = _UNIT_SUFFIX.get(units, units.replace("/", "_per_").replace(" ", "_").lower())
    if suffix and money.startswith("present value"):
        suffix += "_pv"
    return suffix


def column_name(name: str, attrs: Mapping[str, Any], stat: str | None = None) -> str:
    """THE name of a CSV column holding variable ``name`` (with attributes ``attrs``), in every
    table nationcap writes (a run's tables, a batch's tables, summary.csv, draws.csv)::

        <variable>[_<statistic>]_<unit suffix>       price_jpy_per_t, emissions_t,
                                                     total_cost_jpy_pv, price_p05_jpy_per_t

    The unit suffix is :func:`unit_suffix`; it is left out where the name already ends with it
    or the variable has no unit (``coverage_share``, ``noncompliant_entities``), and its ``_pv``
    is left out where the variable's name already says present value (``price_pv_jpy_per_t``).
    """
    suffix = unit_suffix(str(attrs.get("units", "")), str(attrs.get("money", "")))
    stem = f"{name}_{stat}" if stat else name
    if suffix.endswith("_pv") and name.endswith("_pv"):
        suffix = suffix[: -len("_pv")]
    if not suffix or stem.endswith("_" + suffix):
        return stem
    return f"{stem}_{suffix}"


def netcdf_encoding(ds: xr.Dataset) -> dict[Hashable, dict[str, Any]]:
    """The one netCDF encoding: numeric variables compressed (zlib, level 4), text as is."""
    return {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind in "fiu"}


#: attributes that differ between two runs of the same scenario (phase timings, wall time, solver
#: statistics): kept in the in-memory Dataset and written to run.json, never into results.nc
RUN_ATTRS = ("timings_s", "wall_time_s", "solve_time_s", "solver_info", "reused_model")


def stable(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without its run-specific attributes (:data:`RUN_ATTRS`): what results.nc holds."""
    out = ds.copy(deep=False)
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in RUN_ATTRS}
    return out


def to_netcdf(ds: xr.Dataset, path: Path, shown: Path | None = None) -> None:
    """Write ``ds`` (its :func:`stable` part) to the file ``path`` with :func:`netcdf_encoding`.

    The netCDF library holds a lock until the file is closed, so the write is not cut by Ctrl-C
    or SIGTERM (:func:`nationcap.atomic.signals_deferred`: the signal takes effect when it is
    done). The library reports a full disk as RuntimeError: it becomes the same
    :class:`~nationcap.errors.OutputError` as an OSError (``shown`` is the path named in it).
    """
    ds = stable(ds)
    try:
        with signals_deferred():
            ds.to_netcdf(path, engine="netcdf4", encoding=netcdf_encoding(ds))
    except RuntimeError as exc:
        raise write_error(shown or path, exc) from exc


def write_netcdf(ds: xr.Dataset, path: Path, clean: bool = True) -> None:
    """Write ``ds`` to ``path`` (netCDF4) in place of any older file, atomically (``clean`` as
    for :func:`nationcap.atomic.atomic_file`)."""
    with atomic_file(path, clean=clean) as tmp:
        to_netcdf(ds, tmp, shown=path)


def write_csv(df: pd.DataFrame, path: Path, index: bool = False) -> None:
    """One CSV convention for every table: UTF-8, ``\\n`` line ends."""
    df.to_csv(path, index=index, lineterminator="\n")


def write_json(data: dict[str, Any], path: Path) -> None:
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def csv_tables(ds: xr.Dataset) -> dict[str, object]:
    """One tidy table per combination of dimensions; value columns are named by :func:`column_name`."""
    import pandas as pd

    groups: dict[tuple[str, ...], list[str]] = {}
    for name, da in ds.data_vars.items():
        groups.setdefault(tuple(str(d) for d in da.dims), []).append(str(name))
    tables = {}
    for dims, names in groups.items():
        cols = {}
        for n in names:
            cols[column_name(str(n), ds[n].attrs)] = ds[n].to_series() if dims else pd.Series([ds[n].item()])
        df = pd.DataFrame(cols)
        tables["_".join(dims) + ".csv"] = df.reset_index() if dims else df
    labels = ["entity_market", "entity_sector", "entity_prefecture", "entity_administrator"]
    if all(c in ds.coords for c in labels):  # a single run (batch members keep no entity detail)
        tables["entities.csv"] = ds[labels].coords.to_dataset().to_dataframe().reset_index()
    return tables


def write_results(ds: xr.Dataset, out_dir: Path, force: bool = False) -> Path:
    """Write results.nc, the CSV tables and run.json into ``out_dir`` atomically (results.nc
    without the run-specific attributes, :data:`RUN_ATTRS`, which run.json keeps)."""
    out_dir = Path(out_dir)
    with atomic_folder(out_dir, force) as tmp:
        to_netcdf(ds, tmp / "results.nc", shown=out_dir)
        for fname, df in csv_tables(ds).items():
            write_csv(df, tmp / fname)
        meta = {k: v for k, v in ds.attrs.items() if k != "config"}
        meta["config"] = json.loads(ds.attrs["config"])
        write_json(meta, tmp / "run.json")
    return out_dir


# ---------------------------------------------------------------------------------------
# reading results (single runs and batches alike)
# ---------------------------------------------------------------------------------------


def load_results(path: str | Path) -> xr.Dataset:
    """A results folder (``results.nc`` inside) or a ``.nc`` file, loaded into memory."""
    path = Path(path)
    nc = path / "results.nc" if path.is_dir() else path
    if not nc.is_file():
        raise InputError(
            [Problem(str(path), "", "", "no results here: give a results folder (with results.nc) or a .nc file")],
            "arguments",
        )
    try:
        ds = xr.load_dataset(nc, engine="netcdf4")
    except Exception as exc:
        raise InputError([Problem(str(nc), "", "", f"cannot be read as netCDF results: {exc}")], "arguments") from None
    if "config" not in ds.attrs or ("price" not in ds and "batch" not in ds.attrs):
        raise InputError(
            [
                Problem(
                    str(nc),
                    "",
                    "",
                    "a netCDF file, but not nationcap results (no 'config' attribute or 'price' variable); "
                    "give the results of `nationcap run`, `sweep` or `montecarlo`",
                )
            ],
            "arguments",
        )
    return ds


def year_periods(res: xr.Dataset) -> dict[int, str]:
    """Fiscal year -> period name of a results Dataset (from its stored configuration)."""
    return year_period_map(json.loads(res.attrs["config"])["periods"])


def batch_dim(res: xr.Dataset) -> str | None:
    dim = res.attrs.get("batch_dim")
    return dim if dim in res.dims else None


def members(res: xr.Dataset) -> list[tuple[Any, str]]:
    """(coordinate, display label) of the successful members of a batch; [] for a single run."""
    dim = batch_dim(res)
    if dim is None:
        return []
    out = []
    for i, c in enumerate(res[dim].values.tolist()):
        if str(res["status"].values[i]) == "ok":
            out.append((c, str(c)))
    return out


def select_member(res: xr.Dataset, which: str | None = None) -> tuple[xr.Dataset, str]:
    """One run out of a batch (``which`` = label or draw number; default the first successful).

    Returns the single-run Dataset (its ``config`` attribute is the member's) and a label.
    """
    dim = batch_dim(res)
    if dim is None:
        return res, ""
    ok = members(res)
    if not ok:
        raise InputError([Problem("results", "", "", "every member of this batch failed: no run to show")], "results")
    if which is None:
        coord = ok[0][0]
    else:
        labels = {str(c): c for c, _ in ok}
        if str(which) not in labels:
            raise InputError(
                [Problem("--member", str(which), "", f"not a successful member; choose one of {sorted(labels)[:10]}")],
                "arguments",
            )
        coord = labels[str(which)]
    one = res.sel({dim: coord})
    cfg = str(one["config"].values) if "config" in one else res.attrs["config"]
    one = one.drop_vars([v for v in MEMBER_VARS if v in one.data_vars])
    one.attrs = {**res.attrs, "config": cfg, "member": coord}
    return one, f"{dim} {coord}{member_description(res, coord)}"


def member_description(res: xr.Dataset, coord) -> str:
    """ ", key=value, ..." of a sweep member's swept values ('' for a draw)."""
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    if not params:
        return ""
    dim = batch_dim(res)
    one = res.sel({dim: coord})
    return ": " + ", ".join(f"{k}={one[k].values.item()}" for k in params)
