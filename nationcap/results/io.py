"""Reading and writing results: one atomic writer, one netCDF encoding, one reader.

``results.nc`` is the source of truth of a run (or of a batch: the same variables with a
``scenario`` or ``draw`` dimension); the CSV tables and ``run.json`` are views of it.

Atomic writing. Everything is first written into a temporary sibling (``.NAME.tmp-XXXXXXXX``);
only when it is complete is it moved into place, and an existing folder is replaced only with
``force`` and only after the new one is complete (the old one is moved aside, the new one moved
in, then the old one removed). A failed or interrupted write never leaves half an output and
never destroys an old one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import uuid
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..errors import InputError, OutputExistsError, Problem

#: batch dimensions of combined results: sweep points and Monte Carlo draws
SWEEP_DIM = "scenario"
DRAW_DIM = "draw"
#: variables a batch adds per member; they describe the run rather than its results
MEMBER_VARS = ("status", "error", "config_hash", "config", "termination", "objective")

_UNIT_SUFFIX = {
    "t": "t",
    "JPY": "jpy",
    "JPY/t": "jpy_per_t",
    "1": "share",
    "": "",
}


def unit_suffix(units: str) -> str:
    if units in _UNIT_SUFFIX:
        return _UNIT_SUFFIX[units]
    if units.startswith("JPY/t, present value"):
        return "jpy_per_t_pv"
    if units.startswith("JPY, present value"):
        return "jpy_pv"
    return units.replace("/", "_per_").replace(" ", "_").lower()


def check_writable(out_dir: Path, force: bool) -> None:
    """Raise :class:`OutputExistsError` if ``out_dir`` holds anything and ``force`` is off."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir} exists and is not a folder; give another --out")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise OutputExistsError(
            f"{out_dir} already holds results; pass --force to replace them or --out to write elsewhere"
        )


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def atomic_folder(out_dir: Path, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``out_dir`` (see the module doc)."""
    out_dir = Path(out_dir)
    check_writable(out_dir, force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(out_dir, "tmp")
    tmp.mkdir()
    try:
        # keep the old folder's permissions (a new one gets the usual rwxr-xr-x)
        os.chmod(tmp, stat.S_IMODE(out_dir.stat().st_mode) if out_dir.is_dir() else 0o755)
        yield tmp
        if out_dir.exists():
            check_writable(out_dir, force)  # re-check: another process may have written meanwhile
            old = _sibling(out_dir, "old")
            os.replace(out_dir, old)
            try:
                os.replace(tmp, out_dir)
            except OSError:
                os.replace(old, out_dir)  # put the old folder back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def netcdf_encoding(ds: xr.Dataset) -> dict[Hashable, dict[str, Any]]:
    """The one netCDF encoding: numeric variables compressed (zlib, level 4), text as is."""
    return {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind in "fiu"}


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """Write ``ds`` to ``path`` (netCDF4) in place of any older file, atomically."""
    with atomic_file(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=netcdf_encoding(ds))


def write_csv(df: pd.DataFrame, path: Path, index: bool = False) -> None:
    """One CSV convention for every table: UTF-8, ``\\n`` line ends."""
    df.to_csv(path, index=index, lineterminator="\n")


def write_json(data: dict[str, Any], path: Path) -> None:
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def csv_tables(ds: xr.Dataset) -> dict[str, object]:
    """One tidy table per combination of dimensions; value columns carry their unit."""
    import pandas as pd

    groups: dict[tuple[str, ...], list[str]] = {}
    for name, da in ds.data_vars.items():
        groups.setdefault(tuple(str(d) for d in da.dims), []).append(str(name))
    tables = {}
    for dims, names in groups.items():
        cols = {}
        for n in names:
            suffix = unit_suffix(ds[n].attrs.get("units", ""))
            cols[f"{n}_{suffix}" if suffix else n] = ds[n].to_series() if dims else pd.Series([ds[n].item()])
        df = pd.DataFrame(cols)
        tables["_".join(dims) + ".csv"] = df.reset_index() if dims else df
    ent = ds[["entity_market", "entity_sector", "entity_prefecture", "entity_administrator"]].coords.to_dataset()
    tables["entities.csv"] = ent.to_dataframe().reset_index()
    return tables


def write_results(ds: xr.Dataset, out_dir: Path, force: bool = False) -> Path:
    """Write results.nc, the CSV tables and run.json into ``out_dir`` atomically."""
    out_dir = Path(out_dir)
    with atomic_folder(out_dir, force) as tmp:
        ds.to_netcdf(tmp / "results.nc", engine="netcdf4", encoding=netcdf_encoding(ds))
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
        return xr.load_dataset(nc, engine="netcdf4")
    except Exception as exc:
        raise InputError([Problem(str(nc), "", "", f"cannot be read as netCDF results: {exc}")], "arguments") from None


def year_periods(res: xr.Dataset) -> dict[int, str]:
    """Fiscal year -> period name of a results Dataset (from its stored configuration)."""
    from ..config import year_period_map

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
        raise InputError([Problem("results", "", "", "every member of this batch failed: nothing to plot")], "results")
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
