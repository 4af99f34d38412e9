"""Writers: results.nc (source of truth), tidy CSV tables and run.json, written atomically.

Everything is first written into a temporary sibling folder; only when every file is complete is
it moved into place. An existing results folder is replaced only with ``force=True`` (and then
only after the new one is complete), so a failed run never leaves half an output and never
destroys an old one.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import xarray as xr

from .errors import OutputExistsError

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
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise OutputExistsError(
            f"{out_dir} already holds results; pass --force to replace them or --out to write elsewhere"
        )


def csv_tables(ds: xr.Dataset) -> dict[str, object]:
    """One tidy table per combination of dimensions; value columns carry their unit."""
    import pandas as pd

    groups: dict[tuple[str, ...], list[str]] = {}
    for name, da in ds.data_vars.items():
        groups.setdefault(tuple(da.dims), []).append(name)
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
    check_writable(out_dir, force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        encoding = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars}
        ds.to_netcdf(tmp / "results.nc", engine="netcdf4", encoding=encoding)
        for fname, df in csv_tables(ds).items():
            df.to_csv(tmp / fname, index=False, lineterminator="\n")
        meta = {k: v for k, v in ds.attrs.items() if k != "config"}
        meta["config"] = json.loads(ds.attrs["config"])
        (tmp / "run.json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n")
        _replace(tmp, out_dir, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _replace(tmp: Path, out_dir: Path, force: bool) -> None:
    if out_dir.exists():
        check_writable(out_dir, force)  # re-check: another process may have written meanwhile
        old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out_dir)
