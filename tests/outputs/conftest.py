"""Results shared by the tests of the outputs (workbook, report, Japanese labels): the tiny
scenario solved once per session as a run, a linked run, a sweep and a Monte Carlo batch,
written by the command line into a session folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from casebuilder import REPO
from click.testing import CliRunner

from nationcap.cli import cli

TINY = str(REPO / "models" / "tiny.toml")
TINY_MC = str(REPO / "models" / "tiny_montecarlo.toml")
#: the link of models/linked.toml, on the tiny data
LINKED = ["--set", 'link.mode="full"', "--set", "link.ratio=1.0", "--set", 'link.direction="both"']
#: the swept key and its values
SWEEP_KEY = "markets.regional.compliance_factor.P2.general"


def invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def tiny_outputs(tmp_path_factory) -> dict[str, Path]:
    """Folders ``run`` (models/tiny.toml), ``linked`` (the same, fully linked), ``sweep`` (three
    regional P2 factors) and ``mc`` (6 Monte Carlo draws of models/tiny_montecarlo.toml)."""
    root = tmp_path_factory.mktemp("tiny_outputs")
    out = {k: root / k for k in ("run", "linked", "sweep", "mc")}
    invoke("-q", "run", TINY, "--out", str(out["run"]))
    invoke("-q", "run", TINY, "--out", str(out["linked"]), *LINKED)
    invoke("-q", "sweep", TINY, "--param", SWEEP_KEY, "--values", "0.1,0.17,0.25", "--workers", "1", "--out", str(out["sweep"]))
    invoke("-q", "montecarlo", TINY_MC, "--draws", "6", "--workers", "1", "--out", str(out["mc"]))
    return out
