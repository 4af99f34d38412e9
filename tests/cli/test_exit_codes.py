"""Exit codes as documented in README.md ("Exit codes") and nationcap/cli/common.py:
2 bad input or usage, 3 the model, 4 the output location, 130 interrupted, 1 a bug;
no traceback without --debug, and with --debug the exception propagates.
"""

from __future__ import annotations

import errno
import json

import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.engines.base import UnsupportedError
from nationcap.errors import InputError, ModelError, OutputError

INFEASIBLE = ["--set", "markets.regional.banking=false", "--set", "markets.regional.compliance_factor.P2.general=0.95"]


def invoke(args, debug: bool = False):
    return CliRunner().invoke(cli, (["--debug"] if debug else []) + [str(a) for a in args])


def assert_exit(res, code: int, *texts: str) -> None:
    assert res.exit_code == code, (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    for text in texts:
        assert text in res.output, res.output


@pytest.fixture
def case(tmp_path):
    return batch_case(tmp_path / "case")


def leftovers(folder) -> list[str]:
    """Hidden temporaries in ``folder`` (nothing may be left half-written)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------
# 2: bad input or usage
# ---------------------------------------------------------------------------------------


def test_bad_override_is_2_and_propagates_with_debug(case):
    assert_exit(invoke(["validate", case, "--set", "discount_rate=abc"]), 2, "discount_rate", "abc")
    res = invoke(["validate", case, "--set", "discount_rate=abc"], debug=True)
    assert isinstance(res.exception, InputError)


def test_dataset_folder_that_is_a_file_is_2(case):
    data = case.parent / "data"
    for f in data.iterdir():
        f.unlink()
    data.rmdir()
    data.write_text("not a folder\n")
    assert_exit(invoke(["validate", case]), 2, "is a file, not a folder")


def test_scenario_not_utf8_is_2(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes('name = "東京"\n'.encode("shift_jis"))
    assert_exit(invoke(["validate", path]), 2, "not UTF-8", "save the file as UTF-8")


def test_unreadable_results_files_are_2(tmp_path):
    garbage = tmp_path / "garbage.nc"
    garbage.write_text("not netCDF\n")
    other = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", [1.0, 2.0])}).to_netcdf(other)
    for bad, text in ((garbage, "cannot be read as netCDF"), (other, "not nationcap results")):
        assert_exit(invoke(["plot", bad, "--out", tmp_path / "p"]), 2, text)
        assert_exit(invoke(["export", bad, "--out", tmp_path / "i.csv"]), 2, text)
        assert_exit(invoke(["compare", bad, bad, "--out", tmp_path / "c"]), 2, text)
    assert_exit(invoke(["plot", tmp_path / "missing"]), 2)


@pytest.mark.solver
def test_engine_that_does_not_implement_a_setting_is_2_with_file_key_and_fix(case):
    res = invoke(["run", case, "--engine", "fast", "--set", "markets.regional.auction_share={ P1 = 0.1 }"])
    # reported against the --set that caused it
    assert_exit(
        res, 2, "--set markets.regional.auction_share=", "key 'markets.regional.auction_share'", "--engine pyomo"
    )
    assert "'fast' engine does not implement it" in res.output
    res = invoke(["run", case, "--engine", "fast", "--set", "markets.regional.auction_share={ P1 = 0.1 }"], debug=True)
    assert isinstance(res.exception, UnsupportedError) and isinstance(res.exception, InputError)
    assert not isinstance(res.exception, ModelError)


def test_unsupported_error_lists_one_problem_per_setting():
    exc = UnsupportedError("fast", ["markets.regional.use_offsets = True", "a limited link: cannot"], "s.toml")
    assert [p.where for p in exc.problems] == ["key 'markets.regional.use_offsets'", ""]
    assert all(p.file == "s.toml" and "--engine pyomo" in p.message for p in exc.problems)


# ---------------------------------------------------------------------------------------
# 3: the model
# ---------------------------------------------------------------------------------------


@pytest.mark.solver
def test_infeasible_is_3(case, tmp_path):
    res = invoke(["run", case, "--out", tmp_path / "out", *INFEASIBLE])
    assert_exit(res, 3, "infeasible", "market 'regional', period P2")
    assert not (tmp_path / "out").exists()
    assert isinstance(invoke(["run", case, "--out", tmp_path / "out", *INFEASIBLE], debug=True).exception, ModelError)


# ---------------------------------------------------------------------------------------
# 4: the output location
# ---------------------------------------------------------------------------------------


@pytest.mark.solver
def test_existing_results_are_4(case, tmp_path):
    assert invoke(["run", case, "--out", tmp_path / "out", "--engine", "fast"]).exit_code == 0
    assert_exit(invoke(["run", case, "--out", tmp_path / "out", "--engine", "fast"]), 4, "--force")


@pytest.mark.solver
def test_oserror_while_writing_is_4_and_writes_nothing(case, tmp_path, monkeypatch):
    """A disk that fills up while results.nc is written: exit 4, no traceback, no output folder
    and no temporary left behind."""

    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    res = invoke(["run", case, "--out", tmp_path / "out", "--engine", "fast"])
    assert_exit(res, 4, "No space left on device", "cannot write")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []
    res = invoke(["run", case, "--out", tmp_path / "out", "--engine", "fast"], debug=True)
    assert isinstance(res.exception, OutputError)


# ---------------------------------------------------------------------------------------
# a damaged batch cache is solved again (exit 0), not a failure
# ---------------------------------------------------------------------------------------


@pytest.mark.solver
def test_corrupt_cache_file_is_solved_again(case, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", case, "--param", "discount_rate", "--values", "0.01,0.02", "--out", out, "--workers", "1"]
    assert invoke(args).exit_code == 0
    cache = sorted((out / "runs").glob("*.nc"))
    assert len(cache) == 2
    cache[0].write_text("damaged\n")
    res = invoke(args)
    assert_exit(res, 0, "solved 1, reused 1")
    meta = json.loads((out / "run.json").read_text())
    assert meta["n_failed"] == 0
    assert xr.load_dataset(cache[0])["price"].notnull().all()  # a valid cache file again


# ---------------------------------------------------------------------------------------
# 130: interrupted; 1: a bug
# ---------------------------------------------------------------------------------------


def test_keyboard_interrupt_is_130_with_one_line(case, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("nationcap.pipeline.run_scenario", interrupted)
    res = invoke(["run", case, "--out", tmp_path / "out"])
    assert_exit(res, 130, "interrupted")
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    res = invoke(["run", case, "--out", tmp_path / "out"], debug=True)  # the traceback, still 130
    assert res.exit_code == 130 and "Traceback" in res.output and "KeyboardInterrupt" in res.output


@pytest.mark.solver
def test_keyboard_interrupt_while_writing_leaves_nothing_half_written(case, tmp_path, monkeypatch):
    import nationcap.results.io as io

    assert invoke(["run", case, "--out", tmp_path / "out", "--engine", "fast"]).exit_code == 0
    before = (tmp_path / "out" / "results.nc").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "write_json", interrupted)  # the last file of a results folder
    res = invoke(["run", case, "--out", tmp_path / "out", "--engine", "fast", "--force", "--set", "discount_rate=0.05"])
    assert_exit(res, 130, "interrupted")
    assert (tmp_path / "out" / "results.nc").read_bytes() == before  # the old results are intact
    assert leftovers(tmp_path) == []


def test_keyboard_interrupt_outside_reported_is_130(case, monkeypatch):
    """Outside a command's `reported` block (here: as it is entered) the command group catches it."""

    def interrupted(ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr("nationcap.cli.single.reported", interrupted)
    assert_exit(invoke(["run", case]), 130, "interrupted")
    res = invoke(["run", case], debug=True)
    assert res.exit_code == 130 and "Traceback" in res.output


def test_unexpected_exception_is_1_with_a_short_message(case, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("nationcap.pipeline.run_scenario", bug)
    res = invoke(["run", case, "--out", tmp_path / "out"])
    assert_exit(res, 1, "internal error", "ZeroDivisionError", "--debug", "report it")
    res = invoke(["run", case, "--out", tmp_path / "out"], debug=True)
    assert isinstance(res.exception, ZeroDivisionError)


def test_usage_errors_of_click_are_2(case):
    res = invoke(["run", case, "--engine", "nope"])
    assert res.exit_code == 2 and "Traceback" not in res.output
