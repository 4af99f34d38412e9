"""``nationcap report``: one self-contained HTML file, rendered in headless Chromium.

The page of a run, a comparison, a sweep and a Monte Carlo batch loads with no console message
of level error or warning, no uncaught error and no request but the file itself (figures and
fonts are embedded); its figures are decoded images that are not blank; it prints to PDF; with
--lang ja its Japanese text is drawn with the embedded Japanese font only (no fallback font,
so no missing-glyph boxes).
"""

from __future__ import annotations

import re

import pytest
from browser import load_page, pixel_spread
from click.testing import CliRunner

from nationcap.cli import cli

pytestmark = pytest.mark.solver


def write_report(tmp_path, *args: str):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def check_self_contained(path) -> str:
    """No reference to anything outside the file: no src/href to a URL or path, no @import."""
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "@import" not in text
    for ref in re.findall(r'(?:src|href)="([^"]*)"', text) + re.findall(r"url\(([^)]*)\)", text):
        assert ref.startswith(("data:", "#")), ref[:80]
    return text


def check_loaded(path, min_figures: int = 1, fonts=("h1",)):
    page = load_page(path, fonts)
    assert page.errors == []
    assert [m for m in page.console if m[0] in ("error", "warning")] == []
    assert page.requests == [path.resolve().as_uri()]
    assert len(page.images) >= min_figures and all(ok and width > 0 for ok, width in page.images)
    assert len(page.figure_shots) >= min(min_figures, 3)
    for shot in page.figure_shots:
        assert pixel_spread(shot) > 0.05  # a drawn figure, not a blank box
    assert pixel_spread(page.screenshot) > 0.05
    assert page.pdf.startswith(b"%PDF")
    return page


def test_report_of_a_run(tiny_outputs, tmp_path):
    """A run's report: every section, figures of prices, emissions, sectors, prefectures, the
    MAC curve; the data fingerprint in the provenance."""
    out = write_report(tmp_path, str(tiny_outputs["run"]))
    text = check_self_contained(out)
    for title in ("Headline numbers", "Allowance prices", "Emissions, caps and the bank", "Cost account", "By sector"):
        assert title in text
    assert "clearing price" in text.lower() and "dataset_sha256" in text
    page = check_loaded(out, min_figures=5)
    assert "Who abates and who pays" in page.text


def test_report_of_a_comparison(tiny_outputs, tmp_path):
    """Two runs: the comparison figure and the gains against the first run."""
    out = write_report(tmp_path, str(tiny_outputs["run"]), str(tiny_outputs["linked"]))
    text = check_self_contained(out)
    assert "Comparison of runs" in text and "gain_vs_first_jpy" in text
    check_loaded(out, min_figures=1)


@pytest.mark.parametrize(("batch", "figure"), [("sweep", "Sweep curve"), ("mc", "Monte Carlo fan")])
def test_report_of_a_batch(tiny_outputs, tmp_path, batch, figure):
    """A sweep's report has the sweep curve, a Monte Carlo report the price fan."""
    out = write_report(tmp_path, str(tiny_outputs[batch]))
    check_self_contained(out)
    page = check_loaded(out, min_figures=3)
    assert "Batch summary" in page.text
    assert figure in page.text


def test_report_in_japanese(tiny_outputs, tmp_path):
    """--lang ja: Japanese titles and kanji names, rendered by Chromium with the embedded
    Japanese font alone (no fallback to a system font, which would show boxes without glyphs)."""
    out = write_report(tmp_path, str(tiny_outputs["run"]), "--lang", "ja")
    check_self_contained(out)
    page = check_loaded(out, min_figures=5, fonts=("h1", "h2", "table td"))
    assert "主要な数値" in page.text and "東京都" in page.text and "国制度" in page.text
    for selector, fonts in page.fonts.items():
        assert fonts, selector
        assert all(f["isCustomFont"] and f["familyName"] == "IPAexGothic" for f in fonts), (selector, fonts)


def test_report_refuses_to_overwrite(tiny_outputs, tmp_path):
    """An existing report is kept (exit 4) unless --force is given."""
    out = write_report(tmp_path, str(tiny_outputs["run"]))
    again = CliRunner().invoke(cli, ["report", str(tiny_outputs["run"]), "--out", str(out)])
    assert again.exit_code == 4 and "--force" in again.output
