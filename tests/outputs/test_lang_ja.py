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


#: Latin words a Japanese figure keeps: units and abbreviations, and the names of the runs
KEPT_LATIN = {"JPY", "CO2", "PV", "FY", "Mt", "BAU", "MAC", "tiny", "nan", "s000", "s001", "s002"}


def english_left(fig: Figure) -> list[str]:
    """Texts of ``fig`` that still hold an English word (three letters or more, not kept)."""
    import re

    left = []
    for t in fig.findobj(Text):
        words = [w for w in re.findall(r"[A-Za-z]{3,}", t.get_text()) if w not in KEPT_LATIN]
        if words:
            left.append(t.get_text())
    return left


@pytest.mark.solver
def test_figures_in_japanese_leave_no_english_text(tiny_outputs):
    """Every figure of a run, a sweep and a Monte Carlo batch, and compare.png, in Japanese: no
    text keeps an English word, including phrases broken over lines and the whole sentences of
    the MAC curve's axis cut and of the comparison's cost bars (TEMPLATES_JA)."""
    from nationcap.report.compare import compare
    from nationcap.report.plots.compare import plot_compare

    for name in ("run", "linked", "sweep", "mc"):
        res = xr.load_dataset(tiny_outputs[name] / "results.nc")
        for kind in applicable_kinds(res):
            with figure_font_context("ja"):
                fig = localize_figure(make_figure(res, kind), "ja")
            assert english_left(fig) == [], (name, kind)
    tables = compare([tiny_outputs["run"], tiny_outputs["linked"]])
    with figure_font_context("ja"):
        fig = localize_figure(plot_compare(tables), "ja")
    assert english_left(fig) == []
    # the check can fail: the same figure in English
    assert english_left(plot_compare(tables))


def test_templates_translate_whole_sentences():
    text = "axis cut at 3,415 JPY/t CO2:\nthe last 0.052 Mt CO2 cost up to\n10,351 JPY/t CO2 (whole curve below)"
    assert translate(text, "ja") == "3,415 円/t-CO2 で軸を省略:\n残りの 0.052 百万t-CO2 の費用は最大\n10,351 円/t-CO2 (曲線全体は下の図)"
    assert translate("+6.1 bn JPY (+3.9 %):\nmore cost than baseline", "ja") == "+6.1 十億円 (+3.9 %):\nbaseline より費用が多い"
    assert translate("sum\nover the period's years", "ja") == "期間内の年の合計"
    assert translate("axis cut at 5", "en") == "axis cut at 5"
