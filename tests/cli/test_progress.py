"""Progress of a run: the phases with their times on a terminal, nothing otherwise.
The pipeline reports ``progress(event, elapsed_s)``; the command line prints it on
standard error when that is a terminal (``nationcap.cli.common.stderr_is_tty``, replaced here)."""

from __future__ import annotations

import pytest
from casebuilder import batch_case
from click.testing import CliRunner

import nationcap.cli.common as common
from nationcap.cli import cli
from nationcap.cli.common import PhaseReporter, format_phase_end, format_phase_start
from nationcap.pipeline import run_scenario

PHASES = ["load", "build", "solve", "extract"]


def test_format_phase_lines():
    assert format_phase_start("solve") == "  solve    solving ..."
    assert format_phase_start("load") == "  load     reading the scenario and the dataset ..."
    assert format_phase_start("custom") == "  custom   custom ..."
    assert format_phase_end(12.345) == " 12.3 s"
    assert format_phase_end(-1e-9) == " 0.0 s"


def test_phase_reporter_prints_one_line_per_phase():
    out: list[str] = []
    rep = PhaseReporter(out.append)
    rep("load", 0.0)
    rep("load done", 1.25)
    rep("build", 1.25)
    rep("build done", 9.0)
    rep("solve", 9.0)  # fails: no "done"
    rep.close()
    assert "".join(out) == (
        "  load     reading the scenario and the dataset ... 1.2 s\n"
        "  build    building the model ... 7.8 s\n"
        "  solve    solving ...\n"
    )


def test_phase_reporter_ends_an_open_line_when_the_next_phase_starts():
    out: list[str] = []
    rep = PhaseReporter(out.append)
    rep("build", 0.0)
    rep("solve", 2.0)
    rep("solve done", 5.0)
    assert "".join(out) == "  build    building the model ...\n  solve    solving ... 3.0 s\n"


@pytest.mark.solver
@pytest.mark.parametrize("engine", ["pyomo", "fast"])
def test_pipeline_reports_each_phase_start_and_end(tmp_path, engine):
    events: list[tuple[str, float]] = []
    run_scenario(batch_case(tmp_path), engine=engine, progress=lambda e, t: events.append((e, t)))
    names = [e for e, _ in events]
    assert names == [x for p in PHASES for x in (p, f"{p} done")]
    times = [t for _, t in events]
    assert times == sorted(times) and times[0] >= 0.0


@pytest.mark.solver
def test_run_shows_phases_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "stderr_is_tty", lambda: True)
    res = CliRunner().invoke(cli, ["run", str(batch_case(tmp_path)), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert [line.split()[0] for line in lines] == [*PHASES, "write"]
    assert all(line.endswith(" s") for line in lines)
    assert "scenario 'case'" in res.stdout and "scenario 'case'" not in res.stderr


@pytest.mark.solver
def test_no_progress_when_not_a_terminal_or_quiet(tmp_path, monkeypatch):
    path = batch_case(tmp_path)
    res = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "a")])
    assert res.exit_code == 0 and res.stderr == ""
    monkeypatch.setattr(common, "stderr_is_tty", lambda: True)
    res = CliRunner().invoke(cli, ["--quiet", "run", str(path), "--out", str(tmp_path / "b")])
    assert res.exit_code == 0 and res.stderr == "" and res.stdout == ""


@pytest.mark.solver
def test_a_failed_phase_ends_its_line_before_the_error(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "stderr_is_tty", lambda: True)
    path = batch_case(tmp_path)
    args = ["run", str(path), "--set", "markets.regional.banking=false"]
    args += ["--set", "markets.regional.compliance_factor.P2.general=0.95", "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 3
    lines = res.stderr.splitlines()
    assert lines[0].split()[0] == "load" and lines[1] == "  build    building the model ..."
    assert lines[2].startswith("error: infeasible")
