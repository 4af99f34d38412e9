"""The figure of `nationcap compare`: costs as signed differences against the first run, one price
axis for every price panel, and a title naming the runs (solver-free: tables built by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from nationcap.report.plots.compare import difference_label, plot_compare


def tables(costs: dict[str, float], gains: dict[str, float]) -> dict[str, pd.DataFrame]:
    """Two scenario tables (national; regional split in two markets) and a summary of total costs
    with the gains of :func:`nationcap.report.compare.compare` (first cost minus each run's)."""
    runs = list(costs)
    idx = pd.MultiIndex.from_tuples(
        [(m, y) for m in ("national", "regional/A", "regional/B") for y in (2026, 2027)], names=["market", "year"]
    )
    prices = pd.DataFrame(
        {
            run: [2000.0 + k, 2100.0, 150.0, 160.0, 1900.0 + k, 2000.0]
            if k
            else [2000.0, 2100.0, 1300, 1400, 1300, 1400]
            for k, run in enumerate(runs)
        },
        index=idx,
    )
    summary = pd.DataFrame({"total_cost_jpy": costs, "gain_vs_first_jpy": gains})
    summary.index.name = "run"
    return {"prices": prices, "summary": summary}


def test_cost_bars_are_differences_with_the_sign_in_words():
    """baseline costs 156.7 bn JPY, prefectural 162.8 bn (gain -6.1 bn: 6.1 bn more cost, +3.9 %),
    linked 150.0 bn (gain +6.7 bn: 6.7 bn less cost, -4.3 %), other on other data (no gain). The
    cost panel draws prefectural's bar at +6.1 and linked's at -6.7 (not totals from 0, where a
    4 % difference would not show) and labels them in words."""
    fig = plot_compare(
        tables(
            {"baseline": 156.7e9, "prefectural": 162.8e9, "linked": 150.0e9, "other": 90e9},
            {"baseline": 0.0, "prefectural": -6.1e9, "linked": 6.7e9, "other": float("nan")},
        )
    )
    cost_ax = fig.axes[-1]
    widths = [round(p.get_width(), 6) for p in cost_ax.patches]
    assert widths == [6.1, -6.7, 0.0]
    texts = [t.get_text() for t in cost_ax.texts]
    assert texts == [
        "+6.1 bn JPY (+3.9%):\nmore cost than baseline",
        "-6.7 bn JPY (-4.3%):\nless cost than baseline",
        "other data: not compared",
    ]
    assert [t.get_text() for t in cost_ax.get_yticklabels()] == ["prefectural", "linked", "other"]
    assert "156.7 bn JPY" in cost_ax.get_title()
    assert fig._suptitle.get_text() == "Comparison of baseline, prefectural, linked, other (costs against baseline)"


def test_price_panels_share_one_range():
    """The national prices (2,000-2,101) and the regional ones (150-1,901) are drawn on one price
    axis, so one price sits at one height in both panels."""
    fig = plot_compare(tables({"a": 100.0, "b": 110.0}, {"a": 0.0, "b": -10.0}))
    national, regional = fig.axes[0], fig.axes[1]
    assert national.get_title() == "Allowance price: National Program"
    assert regional.get_title() == "Allowance price: Regional Program"
    assert national.get_ylim() == regional.get_ylim()
    assert national.get_ylim()[0] == 0 and national.get_ylim()[1] >= 2101


@pytest.mark.parametrize(
    "diff, first, words",
    [(2e9, 100e9, "+2.0 bn JPY (+2.0%):\nmore cost than a"), (1e6, 100e9, "the same cost as a")],
)
def test_difference_label(diff, first, words):
    assert words in difference_label(diff, first, "a")
