"""Japanese labels (``--lang ja``) and the packaged Japanese font.

Figures drawn in Japanese use the font shipped with the install (IPAexGothic, from the package
matplotlib-fontja) and draw every glyph: matplotlib warns "Glyph ... missing from font(s)" for a
character its font lacks (drawn as a box), and no such warning may appear. A control draws the
same text in matplotlib's default font, which lacks kanji, to show that the check can fail.
"""

from __future__ import annotations

import io
import warnings

import pytest
import xarray as xr
from click.testing import CliRunner
from matplotlib.figure import Figure
from matplotlib.text import Text

from nationcap.cli import cli
from nationcap.inputs.geo import DESIGNATED_CITIES, PREFECTURES
from nationcap.report.i18n import (
    JA,
    figure_font_context,
    japanese_font_path,
    localize_figure,
    translate,
    use_japanese_font,
    word,
)
from nationcap.report.plots import applicable_kinds, make_figure


def glyph_warnings(fig: Figure) -> list[str]:
    """The missing-glyph warnings of drawing ``fig`` to PNG and PDF."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fmt in ("png", "pdf"):
            fig.savefig(io.BytesIO(), format=fmt)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_labels_table_covers_every_place():
    """Every prefecture and designated city has its kanji name in the one table."""
    assert all(word(p, "ja") != p and word(p, "ja")[-1] in "都道府県" for p in PREFECTURES)
    assert all(word(c, "ja").endswith("市") for c in DESIGNATED_CITIES)
    assert word("regional/Tokyo", "ja") == "地域制度/東京都"
    assert word("Tokyo", "en") == "Tokyo"


def test_translate_whole_words():
    """Phrases are replaced as whole words (``cap`` inside ``capacity`` is left alone) and units
    and money read in Japanese."""
    assert translate("allowance price (JPY/t CO2, each year's money)", "ja") == "排出枠価格 (円/t-CO2、各年の貨幣価値)"
    assert translate("capacity", "ja") == "capacity"
    assert translate("allowance price", "en") == "allowance price"
    assert {"steel", "office", "national", "regional", "Tokyo", "Hokkaido"} <= set(JA)


def test_font_is_packaged():
    """The font file comes with the install and is registered under its family name."""
    assert japanese_font_path().is_file()
    assert use_japanese_font() == "IPAexGothic"


def test_kanji_figure_has_every_glyph():
    """A figure with kanji, kana and Latin text, localized to Japanese, draws without a
    missing-glyph warning; the same text in the default font does warn (the check can fail)."""
    text = "東京都 大阪府 北海道: 排出枠価格 (円/t-CO2) ー テスト"
    fig = Figure()
    ax = fig.subplots()
    ax.set_title(text)
    ax.set_yticks([0, 1], ["Tokyo", "Osaka"])
    ax.plot([0, 1], [-1, 1])
    control = Figure()
    control.suptitle("鹿児島県 沖縄県")
    assert glyph_warnings(control), "the default font should lack kanji"
    with figure_font_context("ja"):
        localize_figure(fig, "ja")
        assert glyph_warnings(fig) == []
    assert [t.get_text() for t in ax.get_yticklabels()] == ["東京都", "大阪府"]


@pytest.mark.solver
def test_every_plot_in_japanese_draws_every_glyph(tiny_outputs):
    """Each kind of figure of a run, in Japanese: no missing glyph, Japanese text in it."""
    res = xr.load_dataset(tiny_outputs["run"] / "results.nc")
    for kind in applicable_kinds(res):
        with figure_font_context("ja"):
            fig = localize_figure(make_figure(res, kind), "ja")
            assert glyph_warnings(fig) == [], kind
        texts = " ".join(t.get_text() for t in fig.findobj(Text))
        assert any("\u3040" <= ch <= "\u9fff" for ch in texts), kind


@pytest.mark.solver
def test_plot_command_in_japanese(tiny_outputs, tmp_path):
    """``nationcap plot --lang ja`` writes every figure without a missing-glyph warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(
            cli, ["plot", str(tiny_outputs["run"]), "--lang", "ja", "--kind", "prefecture", "--out", str(tmp_path)]
        )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prefecture.png").stat().st_size > 10_000
    assert not [w for w in caught if "missing from font" in str(w.message)]
