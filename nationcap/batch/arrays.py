"""Monte Carlo draws as plain arrays: no Dataset per draw crosses between processes.

A worker solves a chunk of draws (:func:`nationcap.batch.worker.solve_chunk`) and returns one
stacked numpy array per results variable (:class:`ChunkOutcome`); the names, dimensions,
coordinates and attributes those arrays share are the batch's :class:`Template`, sent once per
worker and execution. The main process puts each chunk in place in preallocated arrays
(:class:`DrawStack`), so the combined Dataset is built once.

Memory. The market-level variables (prices, caps, the cost account: a few kB a draw) are kept in
memory. The detail variables (the sums by sector, prefecture and administrator, :func:`is_detail`:
~0.1 MB a draw on the full dataset) are kept in memory too unless the batch is large
(:func:`streams`): then each chunk's detail arrays go to a file in a staging folder, and
``results.nc`` receives them block by block (:meth:`DrawStack.write_detail`), so that no more
than one block of them is in memory at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..results.io import RUN_ATTRS

#: dimensions that make a variable a detail variable (kept out of memory in a large batch)
DETAIL_DIMS = ("sector", "prefecture", "administrator")
#: per-draw attributes of a member that the combined results keep (:func:`nationcap.batch.store.combine`)
MEMBER_ATTRS = ("config", "termination", "objective_jpy", "dataset_sha256", "inputs_sha256")
#: a batch whose detail arrays would take more than this many bytes streams them (tests lower it)
STREAM_BYTES = 256 * 2**20


@dataclasses.dataclass(frozen=True)
class VarSpec:
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: str
    attrs: dict[str, Any]

    @property
    def text(self) -> bool:
        return np.dtype(self.dtype).kind in "OUS"

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclasses.dataclass(frozen=True)
class Template:
    """What every draw's results share: the data variables (in order) with their dimensions,
    shapes, dtypes and attributes, the coordinates with their values and attributes, and the
    Dataset attributes of the first draw (without the run-specific ones)."""

    variables: dict[str, VarSpec]
    coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, Any]]]
    attrs: dict[str, Any]

    def fits(self, ds: xr.Dataset) -> bool:
        """Whether ``ds`` has exactly these variables, shapes and coordinate values."""
        if list(ds.data_vars) != list(self.variables) or set(ds.coords) != set(self.coords):
            return False
        for name, spec in self.variables.items():
            if ds[name].dims != spec.dims or ds[name].shape != spec.shape:
                return False
        return all(np.array_equal(ds[c].values, v) for c, (_, v, _) in self.coords.items())

    def detail(self) -> list[str]:
        return [n for n, s in self.variables.items() if is_detail(s)]


def is_detail(spec: VarSpec) -> bool:
    return any(d in DETAIL_DIMS for d in spec.dims)


def template_of(ds: xr.Dataset) -> Template:
    variables = {
        str(n): VarSpec(tuple(str(d) for d in da.dims), da.shape, da.dtype.str, dict(da.attrs))
        for n, da in ds.data_vars.items()
    }
    coords = {str(c): (tuple(str(d) for d in ds[c].dims), ds[c].values.copy(), dict(ds[c].attrs)) for c in ds.coords}
    return Template(variables, coords, {k: v for k, v in ds.attrs.items() if k not in RUN_ATTRS})


@dataclasses.dataclass
class ChunkOutcome:
    """A chunk's draws: per draw its key, error ("" when solved), log (failed draws only) and wall
    time; the values of the solved draws stacked per variable, in draw order; the solved draws'
    :data:`MEMBER_ATTRS`; the template when this worker has not sent it yet in this execution."""

    keys: list[str]
    errors: list[str]
    logs: list[str]
    wall_times_s: list[float]
    values: dict[str, np.ndarray]
    member_attrs: list[tuple[Any, ...]]
    template: Template | None = None

    @property
    def ok(self) -> list[bool]:
        return [not e for e in self.errors]


@dataclasses.dataclass
class PairOutcome:
    """The same draws solved under the two designs of a paired Monte Carlo
    (:func:`nationcap.batch.worker.solve_pair`): each design's :class:`ChunkOutcome`."""

    a: ChunkOutcome
    b: ChunkOutcome


def streams(n_draws: int, template: Template) -> bool:
    """Whether a batch of ``n_draws`` streams its detail arrays (:data:`STREAM_BYTES`)."""
    per_draw = sum(s.nbytes for s in template.variables.values() if is_detail(s))
    return n_draws * per_draw > STREAM_BYTES


class DrawStack:
    """The main process's arrays of a Monte Carlo batch, filled chunk by chunk (module doc).

    ``stage`` is the folder of the streamed chunks (used only when :func:`streams` says so)."""

    def __init__(self, n: int, stage: Path) -> None:
        self.n = n
        self.stage = stage
        self.template: Template | None = None
        self.ok = np.zeros(n, dtype=bool)
        self.attrs: list[tuple[Any, ...] | None] = [None] * n
        self.arrays: dict[str, np.ndarray] = {}
        self.streamed: list[str] = []
        self.blocks: list[tuple[int, np.ndarray, Path]] = []  # (start, positions solved, file)
        self._texts: dict[Any, Any] = {}  # one object per distinct attribute value
        self.errors = ["not solved"] * n
        self.waiting: list[tuple[int, ChunkOutcome]] = []

    def _allocate(self, template: Template) -> None:
        self.template = template
        if streams(self.n, template):
            self.streamed = template.detail()
            self.stage.mkdir(parents=True, exist_ok=True)
        for name, spec in template.variables.items():
            if name not in self.streamed:
                self.arrays[name] = np.empty((self.n, *spec.shape), dtype=object if spec.text else spec.dtype)

    def add(self, start: int, out: ChunkOutcome) -> None:
        """Put ``out`` (the chunk of draws from position ``start``) in place and record its
        draws' errors (a solved draw whose results do not fit the batch's template fails here).
        A chunk that comes before any template waits for one (:meth:`finish`)."""
        for i, err in enumerate(out.errors):
            self.errors[start + i] = err
        if self.template is None and out.template is not None:
            self._allocate(out.template)
            waiting, self.waiting = self.waiting, []
            for s, o in waiting:
                self._put(s, o)
        if self.template is None:
            if any(not e for e in out.errors):
                self.waiting.append((start, out))
            return
        self._put(start, out)

    def finish(self) -> None:
        """Fail the solved draws whose chunk never met a template (a lost message)."""
        for start, out in self.waiting:
            for i, err in enumerate(out.errors):
                if not err:
                    self.errors[start + i] = "its results arrived without the batch's template"
        self.waiting = []

    def _put(self, start: int, out: ChunkOutcome) -> None:
        solved = [start + i for i, e in enumerate(out.errors) if not e]
        if not solved:
            return
        tpl = self.template
        assert tpl is not None
        fits = set(out.values) == set(tpl.variables) and all(
            out.values[n].shape == (len(solved), *s.shape) for n, s in tpl.variables.items()
        )
        if not fits:
            for p in solved:
                self.errors[p] = "its results do not have the variables and shapes of the batch's other draws"
            return
        pos = np.array(solved)
        for name, arr in self.arrays.items():
            arr[pos] = out.values[name]
        for p, attrs in zip(solved, out.member_attrs):
            self.attrs[p] = tuple(self._texts.setdefault(a, a) if isinstance(a, str) else a for a in attrs)
        self.ok[pos] = True
        if self.streamed:
            path = self.stage / f"draws-{start:09d}.bin"
            with open(path, "wb") as fh:
                for name in self.streamed:
                    fh.write(np.ascontiguousarray(out.values[name]).tobytes())
            self.blocks.append((start, pos, path))

    # -- reading back --------------------------------------------------------------------

    def failed_any(self) -> bool:
        return not bool(self.ok.all())

    def dtype(self, name: str) -> np.dtype:
        """The combined dtype: text stays text; numbers become float64 with NaN for failed draws
        when any draw failed (as stacking a member with a NaN stand-in does)."""
        assert self.template is not None
        spec = self.template.variables[name]
        if spec.text:
            return np.dtype(str)
        return np.dtype(float) if self.failed_any() else np.dtype(spec.dtype)

    def array(self, name: str) -> np.ndarray:
        """The in-memory variable ``name`` over every draw (NaN or "" for failed ones)."""
        arr = self.arrays[name]
        if self.template is not None and self.template.variables[name].text:
            out = arr.copy()
            out[~self.ok] = ""
            return np.array(out.tolist(), dtype=str).reshape(arr.shape)
        if self.failed_any():
            arr = arr.astype(float)
            arr[~self.ok] = np.nan
        return arr

    def detail_blocks(self, name: str) -> Iterator[tuple[int, np.ndarray]]:
        """(first position, values) of the streamed variable ``name``, one block per chunk in
        draw order (from its first to its last solved draw; failed draws NaN); only one block is
        in memory at a time."""
        assert self.template is not None
        specs = self.template.variables
        before = sum(specs[n].nbytes for n in self.streamed[: self.streamed.index(name)])
        spec, dtype = specs[name], self.dtype(name)
        size = int(np.prod(spec.shape, dtype=np.int64))
        for start, pos, path in sorted(self.blocks, key=lambda b: b[0]):
            raw = np.fromfile(path, dtype=spec.dtype, count=len(pos) * size, offset=before * len(pos))
            stop = int(pos[-1]) + 1
            block = np.full((stop - start, *spec.shape), np.nan if dtype.kind == "f" else 0, dtype=dtype)
            block[pos - start] = raw.reshape(len(pos), *spec.shape)
            yield start, block

    def write_detail(self, path: Path, dim: str, attrs: dict[str, dict[str, Any]], chunk: int) -> None:
        """Append the streamed variables to the netCDF file ``path`` (written by xarray with the
        rest of the results), block by block, with the encoding xarray gives the others
        (:func:`nationcap.results.io.netcdf_encoding`: zlib level 4; NaN fill for floats). The
        draws that no block holds (failed) read as the fill value, NaN. ``attrs`` are each
        variable's attributes."""
        import netCDF4

        assert self.template is not None
        with netCDF4.Dataset(path, "a") as nc:
            for name in self.streamed:
                spec, dtype = self.template.variables[name], self.dtype(name)
                sizes = (min(self.n, max(1, chunk)), *spec.shape)
                var = nc.createVariable(
                    name,
                    dtype,
                    (dim, *spec.dims),
                    zlib=True,
                    complevel=4,
                    fill_value=np.nan if dtype.kind == "f" else None,
                    chunksizes=sizes if all(sizes) else None,
                )
                var.setncatts(attrs[name])
                for start, block in self.detail_blocks(name):
                    var[start : start + len(block)] = block
