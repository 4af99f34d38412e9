"""Reading and writing results: one atomic writer, one netCDF encoding, one reader.

``results.nc`` is the source of truth of a run (or of a batch: the same variables with a
``scenario`` or ``draw`` dimension); the CSV tables and ``run.json`` are views of it.

Atomic writing. Everything is first written into a temporary sibling
(``.NAME.tmp-p<pid>-h<host>-<random>``); only when it is complete is it moved into place, and an
existing folder is replaced only with ``force`` and only after the new one is complete (the old
one is moved aside as ``.NAME.old-...``, the new one moved in, then the old one removed). A failed
or interrupted write never leaves half an output and never destroys an old one.

Stale temporaries. A process killed while writing (``kill -9``, a power cut) cannot clean up
after itself, so the next write to the same place removes the temporaries of that name whose
writer is gone (:func:`remove_stale_temps`): the writer's PID and a tag of its host are part of
every temporary name, and a temporary is removed only when that PID is no longer alive on this
host (or, when the writer cannot be identified, e.g. written on another host of a shared file
system or by an older nationcap, when it is older than :data:`STALE_AGE_S`). A concurrent writer's
temporaries are never touched.

The output location is checked before any work (:func:`check_location`); a write that fails
anyway (disk full, permissions changed meanwhile) raises :class:`~nationcap.errors.OutputError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import stat
import time
import uuid
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..errors import InputError, OutputError, OutputExistsError, Problem
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


def check_writable(out_dir: Path, force: bool) -> None:
    """Raise :class:`OutputExistsError` if ``out_dir`` holds anything and ``force`` is off, and
    :class:`OutputError` if it cannot be written (see :func:`check_location`)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir} exists and is not a folder; give another --out")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise OutputExistsError(
            f"{out_dir} already holds results; pass --force to replace them or --out to write elsewhere"
        )
    check_location(out_dir, "folder")


# ---------------------------------------------------------------------------------------
# the output location, temporary names and stale temporaries
# ---------------------------------------------------------------------------------------

#: a temporary whose writer cannot be identified (written on another host, or named by an older
#: nationcap without a PID) is removed only when it is older than this (seconds)
STALE_AGE_S = 6 * 3600.0

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_WRITER = r"(?:p(?P<pid>\d+)-h(?P<host>[0-9a-f]{6})-)?[0-9a-f]{8}"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<tag>tmp|old)-" + _WRITER + "$")
_STAGING_RE = re.compile(r"^\.staging-" + _WRITER + "$")


def temp_tag() -> str:
    """``p<pid>-h<host>-<random>``: every temporary name carries its writer (see the module doc)."""
    return f"p{os.getpid()}-h{_HOST}-{uuid.uuid4().hex[:8]}"


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{temp_tag()}"


def staging_name() -> str:
    """The name of a batch folder's staging folder (``.staging-p<pid>-h<host>-<random>``)."""
    return f".staging-{temp_tag()}"


def _writer_alive(pid: str | None, host: str | None) -> bool | None:
    """Whether the writer of a temporary still runs; None when that cannot be told."""
    if pid is None or host != _HOST:
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except (OSError, OverflowError, ValueError):
        return None
    return True


def remove_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove nationcap's temporaries in ``folder`` whose writer is gone; return what was removed.

    Only entries of nationcap's own naming are considered: ``.NAME.tmp-*`` and ``.NAME.old-*``
    (:func:`atomic_folder`, :func:`atomic_file`; only those of ``name`` when it is given) and,
    when ``name`` is None, a batch folder's ``.staging-*``. An entry is removed when its writer's
    PID is not alive on this host, or, if the writer cannot be identified, when it is older than
    :data:`STALE_AGE_S`. A stale ``.NAME.old-*`` is the previous output moved aside; it is kept
    (and a warning logged) when ``NAME`` itself is missing, since it is then the only copy.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        m = _TEMP_RE.match(entry.name)
        if m is not None and name is not None and m["name"] != name:
            continue
        if m is None and (name is not None or (m := _STAGING_RE.match(entry.name)) is None):
            continue
        alive = _writer_alive(m["pid"], m["host"])
        if alive is None:
            try:
                alive = now - entry.stat(follow_symlinks=False).st_mtime <= STALE_AGE_S
            except OSError:
                continue
        if alive:
            continue
        path = Path(entry.path)
        if m.groupdict().get("tag") == "old" and not (folder / m["name"]).exists():
            log.warning("kept %s: an interrupted write left it, and %s is missing", path, folder / m["name"])
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        if not os.path.lexists(path):
            log.info("removed %s, left by an interrupted nationcap run", path)
            removed.append(path)
    return removed


def check_location(path: Path, kind: str = "folder") -> None:
    """Raise :class:`OutputError` unless outputs can be written at ``path``; leaves nothing behind.

    ``kind`` is how ``path`` is written: ``"folder"`` (a folder made or replaced as a whole:
    :func:`atomic_folder`), ``"inside"`` (a folder written into: batch folders, plots) or
    ``"file"`` (one file: :func:`atomic_file`). The folder where entries will be created (or the
    nearest existing folder above it) must be a folder in which a temporary folder can be created
    and removed; this catches read-only folders and a file standing where a folder must be, before
    anything is loaded or solved.
    """
    path = Path(path)
    if kind == "file" and path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name (--out FILE)")
    if kind != "file" and path.exists() and not path.is_dir():
        raise OutputError(f"{path} exists and is not a folder; give another --out")
    target = path if kind == "inside" and path.is_dir() else path.parent
    where = target
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise OutputError(f"cannot create {path}: {where} is a file, not a folder; give another --out")
    probe = where / f".nationcap-probe-{temp_tag()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {where} is not writable ({exc.strerror or exc}); "
            f"give another --out or make {where} writable"
        ) from None


def write_error(path: Path, exc: OSError) -> OutputError:
    """An OSError met while writing ``path``, as the OutputError the command line reports."""
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return OutputError(
        f"cannot write {path}: {exc.strerror or exc}{where}; nothing was written there "
        f"(check the free space and permissions, or give another --out)"
    )


@contextlib.contextmanager
def atomic_folder(out_dir: Path, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``out_dir`` (see the module doc).

    An OSError while writing (in the caller's block too) becomes :class:`OutputError`.
    """
    out_dir = Path(out_dir)
    check_writable(out_dir, force)
    remove_stale_temps(out_dir.parent, out_dir.name)
    tmp = _sibling(out_dir, "tmp")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        raise write_error(out_dir, exc) from exc
    old: Path | None = None
    try:
        try:
            yield tmp
            # keep the old folder's permissions (a new one gets the usual rwxr-xr-x); set last, so
            # that a read-only old folder does not make the temporary one unwritable
            os.chmod(tmp, stat.S_IMODE(out_dir.stat().st_mode) if out_dir.is_dir() else 0o755)
            if out_dir.exists():
                check_writable(out_dir, force)  # re-check: another process may have written meanwhile
                old = _sibling(out_dir, "old")
                os.replace(out_dir, old)
                os.replace(tmp, out_dir)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out_dir)
        except OSError as exc:
            raise write_error(out_dir, exc) from exc
    except BaseException:
        if old is not None and old.exists() and not out_dir.exists():
            os.replace(old, out_dir)  # interrupted between the two moves: put the old folder back
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(path: Path, clean: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    ``clean`` first removes stale temporaries of ``path`` (:func:`remove_stale_temps`); callers
    that write many files into a folder they clean once themselves pass False. An OSError while
    writing becomes :class:`OutputError`.
    """
    path = Path(path)
    if clean:
        remove_stale_temps(path.parent, path.name)
    tmp = _sibling(path, "tmp")
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            yield tmp
            os.replace(tmp, path)
        except OSError as exc:
            raise write_error(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def netcdf_encoding(ds: xr.Dataset) -> dict[Hashable, dict[str, Any]]:
    """The one netCDF encoding: numeric variables compressed (zlib, level 4), text as is."""
    return {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind in "fiu"}


def write_netcdf(ds: xr.Dataset, path: Path, clean: bool = True) -> None:
    """Write ``ds`` to ``path`` (netCDF4) in place of any older file, atomically (``clean`` as
    for :func:`atomic_file`)."""
    with atomic_file(path, clean=clean) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=netcdf_encoding(ds))


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
