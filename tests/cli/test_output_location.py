"""The output location is checked before anything is loaded or solved.

An unwritable ``--out`` (a read-only folder, or a path under a regular file) is refused with a
short message and exit code 4 (the output location; README "Exit codes"), before the dataset is
read or a model solved: the tests replace the loading and solving functions with ones that fail if
called. CI runs as root, which ignores folder permissions, so the read-only case is skipped there;
the path-under-a-file case fails for root too and is tested for every command with an output.
"""

from __future__ import annotations

import os

import pytest
from casebuilder import batch_case
from click.testing import CliRunner

# imported before any test replaces a function they import by name (see _forbid)
import nationcap.batch.store
import nationcap.report.compare
import nationcap.report.plots
import nationcap.results.iamc
import nationcap.tools.bench
import nationcap.tools.generate  # noqa: F401
from nationcap.atomic import check_location, check_writable
from nationcap.cli import EXIT_OUTPUT, cli
from nationcap.errors import OutputError

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _forbid(monkeypatch, *targets: str) -> None:
    """Make each dotted ``module.function`` fail the test if it is called."""
    import importlib

    for target in targets:
        module, name = target.rsplit(".", 1)
        mod = importlib.import_module(module)

        def boom(*args, _t=target, **kwargs):
            raise AssertionError(f"{_t} was called: the output location should have been refused first")

        monkeypatch.setattr(mod, name, boom)


@pytest.fixture
def blocker(tmp_path):
    """A regular file: any --out below it cannot be created (also for root)."""
    f = tmp_path / "a_file"
    f.write_text("not a folder\n")
    return f


@pytest.fixture
def case(tmp_path):
    return batch_case(tmp_path / "case")


def _check_refused(res, path_text: str) -> None:
    assert res.exit_code == EXIT_OUTPUT, res.output
    assert "Traceback" not in res.output
    assert "cannot create" in res.output and path_text in res.output
    assert "is a file, not a folder" in res.output


# ---------------------------------------------------------------------------------------
# the check itself
# ---------------------------------------------------------------------------------------


def test_check_location_under_a_file(blocker):
    for kind in ("folder", "inside", "file"):
        with pytest.raises(OutputError, match="is a file, not a folder"):
            check_location(blocker / "deeper" / "out", kind)


def test_check_location_kinds(tmp_path, blocker):
    with pytest.raises(OutputError, match="exists and is not a folder"):
        check_location(blocker, "folder")
    with pytest.raises(OutputError, match="is a folder"):
        check_location(tmp_path, "file")
    check_location(tmp_path / "new" / "deeper", "folder")  # missing folders are fine: they are made
    check_location(tmp_path / "x.csv", "file")
    check_location(tmp_path, "inside")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # the probe left nothing


def test_check_writable_keeps_refusing_existing_results(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "run.json").write_text('{"nationcap_version": "0"}\n')
    with pytest.raises(OutputError, match="already holds results"):
        check_writable(tmp_path / "out", force=False)
    check_writable(tmp_path / "out", force=True)


@pytest.mark.skipif(IS_ROOT, reason="root ignores folder permissions")
def test_read_only_folder_is_refused_before_solving(tmp_path, case, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        _forbid(monkeypatch, "nationcap.pipeline.run_scenario", "nationcap.pipeline.load_dataset")
        res = CliRunner().invoke(cli, ["run", str(case), "--out", str(ro / "out")])
        assert res.exit_code == EXIT_OUTPUT, res.output
        assert "not writable" in res.output and "Traceback" not in res.output
        with pytest.raises(OutputError, match="not writable"):
            check_location(ro / "out", "folder")
    finally:
        ro.chmod(0o755)


# ---------------------------------------------------------------------------------------
# every command with an output, before loading or solving
# ---------------------------------------------------------------------------------------


def test_run_refuses_before_loading(case, blocker, monkeypatch):
    _forbid(
        monkeypatch,
        "nationcap.pipeline.run_scenario",
        "nationcap.pipeline.load_dataset",
        "nationcap.config.load_scenario",
    )
    res = CliRunner().invoke(cli, ["run", str(case), "--out", str(blocker / "out")])
    _check_refused(res, "a_file")


def test_run_default_out_is_checked_before_the_dataset(case, tmp_path, monkeypatch):
    """Without --out the folder is outputs/<scenario name>/ of the working folder."""
    _forbid(monkeypatch, "nationcap.pipeline.run_scenario", "nationcap.pipeline.load_dataset")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").write_text("a file where the outputs folder should be\n")
    res = CliRunner().invoke(cli, ["run", str(case)])
    _check_refused(res, "outputs")


@pytest.mark.parametrize("command", ["sweep", "montecarlo"])
def test_batches_refuse_before_planning(command, tmp_path, blocker, monkeypatch):
    path = batch_case(
        tmp_path / "b",
        '[montecarlo]\ndraws = 2\n[montecarlo.bau_growth]\nby = "all"\ndistribution = "normal"\nsd = 0.01\n',
    )
    _forbid(
        monkeypatch,
        "nationcap.batch.plan.plan_sweep",
        "nationcap.batch.plan.plan_montecarlo",
        "nationcap.batch.store.run_batch",
    )
    args = [command, str(path), "--out", str(blocker / "batch"), "--workers", "1"]
    if command == "sweep":
        args += ["--param", "discount_rate", "--values", "0.01,0.02"]
    _check_refused(CliRunner().invoke(cli, args), "a_file")


@pytest.mark.solver
def test_results_commands_refuse_before_reading(case, tmp_path, blocker, monkeypatch):
    runner = CliRunner()
    for name in ("a", "b"):
        res = runner.invoke(cli, ["run", str(case), "--out", str(tmp_path / name), "--engine", "fast"])
        assert res.exit_code == 0, res.output
    _forbid(
        monkeypatch,
        "nationcap.results.io.load_results",
        "nationcap.report.compare.load_results",
        "nationcap.report.plots.save_plots",
        "nationcap.results.iamc.write_iamc",
    )
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    _check_refused(runner.invoke(cli, ["compare", a, b, "--out", str(blocker / "cmp")]), "a_file")
    _check_refused(runner.invoke(cli, ["plot", a, "--out", str(blocker / "plots")]), "a_file")
    _check_refused(runner.invoke(cli, ["export", a, "--out", str(blocker / "iamc.csv")]), "a_file")


def test_generate_and_bench_refuse_before_working(blocker, monkeypatch):
    _forbid(monkeypatch, "nationcap.tools.generate.generate", "nationcap.tools.bench.run_bench")
    runner = CliRunner()
    _check_refused(runner.invoke(cli, ["generate", "--kind", "tiny", "--out", str(blocker / "data")]), "a_file")
    _check_refused(runner.invoke(cli, ["bench", "--out", str(blocker / "bench.csv")]), "a_file")


def test_out_that_is_a_file(case, blocker, monkeypatch):
    _forbid(monkeypatch, "nationcap.pipeline.run_scenario", "nationcap.pipeline.load_dataset")
    res = CliRunner().invoke(cli, ["run", str(case), "--out", str(blocker)])
    assert res.exit_code == EXIT_OUTPUT and "is not a folder" in res.output and "Traceback" not in res.output
