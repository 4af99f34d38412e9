"""The workbook and the report of the shipped baseline and linked scenarios at full scale."""

from __future__ import annotations

import pytest
import xarray as xr
from browser import load_page, pixel_spread
from casebuilder import REPO
from click.testing import CliRunner
from workbookcheck import check_layout, check_values

from nationcap.cli import cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def full_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    for name in ("baseline", "linked"):
        result = CliRunner().invoke(
            cli, ["-q", "run", str(REPO / "models" / f"{name}.toml"), "--out", str(root / name)]
        )
        assert result.exit_code == 0, result.output
    return root


def test_workbook_of_baseline_and_of_the_comparison(full_runs, tmp_path):
    """``export outputs/baseline --format xlsx`` and ``export baseline linked --format xlsx``:
    every number the workbooks hold equals its results variable exactly."""
    base, linked = full_runs / "baseline", full_runs / "linked"
    one, two = tmp_path / "baseline.xlsx", tmp_path / "compare.xlsx"
    for args in ([str(base), "--out", str(one)], [str(base), str(linked), "--out", str(two)]):
        result = CliRunner().invoke(cli, ["export", *args, "--format", "xlsx"])
        assert result.exit_code == 0, result.output
    runs = [xr.load_dataset(p / "results.nc") for p in (base, linked)]
    assert check_values(one, runs[:1]) > 100_000
    check_layout(one)
    assert check_values(two, runs, ["baseline", "linked"]) > 10_000


def test_report_of_baseline_in_chromium(full_runs, tmp_path):
    """The report of the baseline loads in headless Chromium with no error and no request, and
    its figures are drawn."""
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", str(full_runs / "baseline"), "--out", str(out), "--lang", "ja"])
    assert result.exit_code == 0, result.output
    page = load_page(out, ("h1", "table td"))
    assert page.errors == [] and [m for m in page.console if m[0] == "error"] == []
    assert page.requests == [out.resolve().as_uri()]
    assert all(ok and width > 0 for ok, width in page.images) and len(page.images) >= 5
    assert all(pixel_spread(shot) > 0.05 for shot in page.figure_shots)
    assert all(f["isCustomFont"] for fonts in page.fonts.values() for f in fonts)
