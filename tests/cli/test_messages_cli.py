"""Command-line output: the run summary (status, no "-0.0", a negative cost explained), the
Monte Carlo header, and the help texts.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import xarray as xr
from casebuilder import batch_case, write_case
from click.testing import CliRunner

from nationcap.cli import cli

REPO = Path(__file__).resolve().parents[2]

NEGATIVE_ZERO = re.compile(r"-0\.0*(?!\d*[1-9])\b")


def _words(text: str) -> str:
    return " ".join(text.split())


def _no_regret_case(tmp_path: Path) -> Path:
    """One regional entity, one year (FY2026), discount rate 0.

    Base = BAU = 100 t, factor 0.1: allocation and cap 90 t, so 10 t must be abated. Step 1 abates
    5 % of BAU = 5 t at -1,000 JPY/t (no-regret: taken whatever the price), step 2 up to 10 t at
    500 JPY/t, of which 5 t are needed. Price = 500 JPY/t (step 2 is marginal); total cost =
    5 x (-1,000) + 5 x 500 = -2,500 JPY, which is -0.0000025 billion JPY: it rounds to -0.0.
    """
    return write_case(
        tmp_path,
        [dict(entity_id="R1", market="regional", base_emissions_t=100.0)],
        {"R1": 100.0},
        [("R1", 1, 0.05, -1000.0), ("R1", 2, 0.10, 500.0)],
        [("P1", 2026, 2026)],
        {"regional": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )


@pytest.mark.solver
@pytest.mark.parametrize("engine", ["pyomo", "fast"])
def test_run_summary_status_zero_and_negative_cost(tmp_path, engine):
    path = _no_regret_case(tmp_path)
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(out), "--engine", engine])
    assert r.exit_code == 0, r.output
    res = xr.open_dataset(out / "results.nc")
    assert float(res["total_cost"].sel(market="regional").sum("period")) == pytest.approx(-2500.0, abs=1e-3)
    assert float(res["price"].sel(market="regional", year=2026)) == pytest.approx(500.0, abs=1e-6)
    assert res.attrs["engine"] == engine
    res.close()
    lines = r.output.splitlines()
    # nationcap's own status, whatever the engine's label (termination_detail)
    assert lines[0].startswith("scenario 'case': optimal (")
    assert not NEGATIVE_ZERO.search(r.output), r.output
    # -2,500 JPY in the cost account's billions: 0.000, never -0.000
    assert re.search(r"^= total_cost\s+0\.000$", r.output, re.M)
    notes = [ln for ln in lines if ln.startswith("note: a negative total cost")]
    assert len(notes) == 1
    assert "regional -2,500 JPY" in notes[0]
    assert "no-regret" in notes[0] and "cost_jpy_per_t" in notes[0]


@pytest.mark.solver
def test_positive_cost_has_no_note(tmp_path):
    # the same entity without the no-regret step: 10 t at 500 JPY/t = 5,000 JPY > 0
    path = write_case(
        tmp_path,
        [dict(entity_id="R1", market="regional", base_emissions_t=100.0)],
        {"R1": 100.0},
        [("R1", 1, 0.10, 500.0)],
        [("P1", 2026, 2026)],
        {"regional": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out"), "--engine", "fast"])
    assert r.exit_code == 0, r.output
    assert "negative total cost" not in r.output
    assert not NEGATIVE_ZERO.search(r.output)


@pytest.mark.solver
def test_tiny_summary_has_no_negative_zero(tmp_path):
    # models/tiny.toml: the regional market's total cost is about -11.8 million JPY, which printed
    # as "regional   -0.0" billion JPY (rounded to 0.1); the cost account shows -0.012
    r = CliRunner().invoke(cli, ["run", str(REPO / "models" / "tiny.toml"), "--out", str(tmp_path / "tiny")])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("scenario 'tiny': optimal (")
    assert not NEGATIVE_ZERO.search(r.output), r.output
    assert re.search(r"^= total_cost\s+\d+\.\d{3}\s+-0\.012$", r.output, re.M)
    assert "note: a negative total cost (regional -" in r.output


def test_negative_zero_pattern():
    assert NEGATIVE_ZERO.search("regional   -0.0")
    assert NEGATIVE_ZERO.search("x -0.00 y")
    assert not NEGATIVE_ZERO.search("regional   -0.05")
    assert not NEGATIVE_ZERO.search("regional   -0.1")
    assert not NEGATIVE_ZERO.search("regional   0.0")


MONTECARLO = """
[montecarlo]
draws = 2
seed = 3
[montecarlo.bau_growth]
sd = 0.01
"""


@pytest.mark.solver
@pytest.mark.parametrize(("args", "seed"), [((), 3), (("--seed", "7"), 7)])
def test_montecarlo_header_names_the_seed(tmp_path, args, seed):
    path = batch_case(tmp_path, MONTECARLO)
    r = CliRunner().invoke(
        cli, ["montecarlo", str(path), "--workers", "1", "--out", str(tmp_path / "mc"), "--draws", "1", *args]
    )
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert not [ln for ln in lines if ln.strip().startswith("seed")], r.output
    assert lines[0].startswith(f"montecarlo 'case': 1 draw, seed {seed} (1 distinct runs, 0 cached) on ")


def test_top_level_help_shows_whole_summaries():
    r = CliRunner().invoke(cli, ["--help"])
    assert r.exit_code == 0
    commands = r.output.split("Commands:", 1)[1]
    assert "..." not in commands
    shown = _words(commands)
    for name, command in cli.commands.items():
        first = _words(inspect.cleandoc(command.help or "").split("\n\n")[0])
        assert first.endswith("."), name
        assert f"{name} {first}" in shown, name


@pytest.mark.parametrize("command", ["validate", "run", "sweep", "montecarlo"])
def test_set_help_says_it_may_be_repeated(command):
    r = CliRunner().invoke(cli, [command, "--help"])
    assert r.exit_code == 0
    assert "repeat --set for several values" in _words(r.output)
