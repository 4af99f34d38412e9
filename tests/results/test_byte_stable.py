"""results.nc is byte-stable, and a full disk while it is written is an output error.

Two runs of the same scenario on the same data write byte-identical ``results.nc`` files: the
phase timings, wall time and solver statistics that differ from run to run are kept in the
in-memory Dataset (``nationcap bench`` and the run summary read them there) and written to
``run.json`` only. The netCDF library reports a full disk as ``RuntimeError``, not ``OSError``: it
gives the same message and exit code 4 as a full disk while a CSV table is written, and nothing is
left where the results would go.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import EXIT_OUTPUT, cli
from nationcap.pipeline import run_scenario
from nationcap.results.io import RUN_ATTRS, write_results

REPO = Path(__file__).resolve().parents[2]
FULL_DISK = "NetCDF: HDF error"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.solver
def test_two_runs_of_the_tiny_scenario_write_identical_files(tmp_path):
    first, second = (run_scenario(REPO / "models" / "tiny.toml") for _ in range(2))
    assert (
        first.attrs["timings_s"] != second.attrs["timings_s"]
        or first.attrs["wall_time_s"] != second.attrs["wall_time_s"]
    )
    write_results(first, tmp_path / "a")
    write_results(second, tmp_path / "b")
    assert sha256(tmp_path / "a" / "results.nc") == sha256(tmp_path / "b" / "results.nc")
    with xr.open_dataset(tmp_path / "a" / "results.nc") as a, xr.open_dataset(tmp_path / "b" / "results.nc") as b:
        assert a.identical(b)
        assert not set(RUN_ATTRS) & set(a.attrs)
    # run.json keeps them, and the in-memory results too (the run summary and bench read them)
    meta = json.loads((tmp_path / "a" / "run.json").read_text())
    assert {"timings_s", "wall_time_s", "solve_time_s", "solver_info"} <= set(meta)
    assert {"timings_s", "wall_time_s", "solve_time_s", "solver_info"} <= set(first.attrs)


@pytest.fixture
def full_disk(monkeypatch):
    """Every netCDF write fails as the netCDF library fails on a full disk."""

    def fail(self, *args, **kwargs):
        raise RuntimeError(FULL_DISK)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", fail)


def assert_full_disk_reported(res, out: Path) -> None:
    assert res.exit_code == EXIT_OUTPUT, res.output
    assert "Traceback" not in res.output and "bug in nationcap" not in res.output
    assert f"cannot write {out}" in res.output and FULL_DISK in res.output
    assert "nothing was written there (check the free space and permissions" in res.output


@pytest.mark.solver
def test_full_disk_while_writing_a_run_is_4_and_leaves_nothing(tmp_path, full_disk):
    path = batch_case(tmp_path / "case")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(path), "--out", str(out), "--engine", "fast"])
    assert_full_disk_reported(res, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]  # no results, no temporaries


@pytest.mark.solver
def test_full_disk_while_writing_a_sweep_is_4(tmp_path, full_disk):
    path = batch_case(tmp_path / "case")
    out = tmp_path / "sw"
    args = ["sweep", str(path), "--param", "discount_rate", "--values", "0.02,0.03", "--workers", "1"]
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--set", 'solver.engine="fast"'])
    assert res.exit_code == EXIT_OUTPUT and FULL_DISK in res.output and "Traceback" not in res.output, res.output
    assert not list(out.glob("runs/*.nc")) and not (out / "results.nc").exists()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


@pytest.mark.solver
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_real_full_disk_is_4(tmp_path):
    """A 64 kB tmpfs: too small for the results of the tiny scenario."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = small / "out"
        res = CliRunner().invoke(
            cli, ["run", str(REPO / "models" / "tiny.toml"), "--out", str(out), "--engine", "fast"]
        )
        assert res.exit_code == EXIT_OUTPUT, res.output
        assert f"cannot write {out}" in res.output and "Traceback" not in res.output
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)  # lazy: the netCDF library may still hold its file
