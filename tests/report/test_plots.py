"""Plots: every kind draws a Figure with titled, labelled axes and writes non-empty PNG and PDF."""

from __future__ import annotations

import pytest
from casebuilder import NATIONAL_SUPPLIERS, write_case
from click.testing import CliRunner
from matplotlib.figure import Figure

from nationcap.batch.plan import plan_montecarlo, plan_sweep
from nationcap.batch.store import run_batch
from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.errors import InputError
from nationcap.pipeline import run_scenario
from nationcap.report import plots
from nationcap.report.plots import applicable_kinds, make_figure
from nationcap.results.io import load_results, write_results

pytestmark = pytest.mark.solver

KEY = "markets.regional.compliance_factor.P1.general"  # 0.95 is infeasible
PREFECTURES = [
    "Tokyo",
    "Osaka",
    "Saitama",
    "Chiba",
    "Aichi",
    "Kanagawa",
    "Hyogo",
    "Fukuoka",
    "Hokkaido",
    "Miyagi",
    "Hiroshima",
    "Kyoto",
    "Shizuoka",
    "Ibaraki",
    "Niigata",
    "Nagano",
    "Gifu",
    "Okayama",
]


def make_case(root):
    """Two national suppliers and 18 regional installations in 18 prefectures (> 15: 'other' bar)."""
    ents = list(NATIONAL_SUPPLIERS)
    ents += [
        dict(
            entity_id=f"R{i:02d}",
            market="regional",
            base_emissions_t=100.0 + 10 * i,
            sector=("office", "factory", "retail")[i % 3],
            prefecture=p,
            administrator=p,
        )
        for i, p in enumerate(PREFECTURES)
    ]
    bau = {e["entity_id"]: e["base_emissions_t"] for e in ents}
    mac = [
        (e["entity_id"], s, sh, c + 37 * i)
        for i, e in enumerate(ents)
        for s, sh, c in ((1, 0.1, -200), (2, 0.2, 2000), (3, 0.3, 6000))
    ]
    path = write_case(
        root,
        ents,
        bau,
        mac,
        [("P1", 2026, 2027), ("P2", 2028, 2029)],
        {
            "national": {"compliance_factor": {"P1": {"general": 0.12}, "P2": {"general": 0.2}}},
            "regional": {"compliance_factor": {"P1": {"general": 0.12}, "P2": {"general": 0.2}}},
        },
        discount_rate=0.03,
    )
    path.write_text(
        path.read_text() + '\n[montecarlo]\n[montecarlo.bau_growth]\nby = "market"\nsd = 0.02\n'
        '[montecarlo.mac_cost]\nby = "sector"\ndistribution = "lognormal"\nsd = 0.3\n'
    )
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    path = make_case(root)
    single = run_scenario(load_scenario(path))
    write_results(single, root / "single")
    sweep = run_batch(plan_sweep(path, {KEY: [0.08, 0.12, 0.95, 0.16]}), root / "sweep", workers=1).results
    mc = run_batch(plan_montecarlo(path, draws=6, seed=2), root / "mc", workers=1).results
    return {"single": single, "sweep": sweep, "montecarlo": mc, "root": root}


def labels(fig: Figure) -> list[tuple[str, str, str]]:
    return [(ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) for ax in fig.axes]


def drawn(fig: Figure) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


def legends_clear_of_axes(fig: Figure) -> bool:
    """Every legend of ``fig`` (drawn) lies outside every axes with data: none covers a line or bar."""
    drawn(fig)
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "no legend"
    return not any(
        leg.get_window_extent().overlaps(ax.get_window_extent()) for leg in legends for ax in fig.axes if ax.has_data()
    )


def inside_figure(fig: Figure, texts) -> bool:
    """Every text of ``texts`` lies wholly inside the figure's canvas (no label is cut)."""
    drawn(fig)
    box = fig.bbox
    return all(
        box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1
        for e in (t.get_window_extent() for t in texts if t.get_text())
    )


def check_saved(fig: Figure, tmp_path, name: str) -> None:
    files = plots.save_figure(fig, tmp_path / name)
    assert [f.suffix for f in files] == [".png", ".pdf"]
    for f in files:
        assert f.stat().st_size > 5_000, f
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and files[1].read_bytes()[:5] == b"%PDF-"


def test_mac_curve(results, tmp_path):
    fig = plots.plot_mac(results["single"], period="P1")
    assert "Marginal abatement cost curves, P1 (FY2026–2027) — case" in fig._suptitle.get_text()
    (x1, y1, t1), (_, _, t2) = labels(fig)
    assert x1 == "cumulative abatement over FY2026–2027 (Mt CO2)"
    assert y1 == "abatement cost (JPY/t CO2, present value at FY2026)"
    assert (t1, t2) == ("National Program", "Regional Program")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    price = float(results["single"]["price_pv"].sel(market="national", period="P1"))
    assert f"clearing price {price:,.0f} JPY/t CO2 (present value)" in legend
    assert any(t.startswith("abatement used") for t in legend)
    check_saved(fig, tmp_path, "mac")
    with pytest.raises(InputError, match="unknown period"):
        plots.plot_mac(results["single"], period="P9")


def test_mac_curve_of_a_monte_carlo_draw_is_refused_clearly(results):
    with pytest.raises(InputError, match="Monte Carlo draw keeps its market results only"):
        plots.plot_mac(results["montecarlo"], member="0")


def test_prices(results, tmp_path):
    fig = plots.plot_prices(results["single"])
    assert labels(fig) == [("fiscal year", "allowance price (JPY/t CO2, each year's money)", "")]
    assert fig._suptitle.get_text() == "Allowance prices — case"
    assert legends_clear_of_axes(fig)
    check_saved(fig, tmp_path, "prices")
    fig = plots.plot_prices(results["sweep"])
    assert [t for _, _, t in labels(fig)] == ["National Program", "Regional Program"]
    assert len(fig.axes[1].lines) == 3  # the failed member is not drawn
    fig = plots.plot_prices(results["montecarlo"])
    assert "every draw" in fig._suptitle.get_text()


def test_emissions(results, tmp_path):
    fig = plots.plot_emissions(results["sweep"], member="s001")
    assert "(sweep point s001: compliance factor, Regional Program, P1, general category = 0.12)" in (
        fig._suptitle.get_text()
    )
    got = labels(fig)
    assert ("fiscal year", "emissions and cap (Mt CO2/yr)", "National Program") in got
    assert any(y == "bank at the end of the period (Mt CO2)" for _, y, _ in got)
    check_saved(fig, tmp_path, "emissions")
    with pytest.raises(InputError, match="not a successful member"):
        plots.plot_emissions(results["sweep"], member="s002")


def test_sector(results, tmp_path):
    fig = plots.plot_sector(results["single"])
    got = labels(fig)
    assert ("fiscal year", "abatement (Mt CO2/yr)", "Regional Program: abatement by sector") in got
    assert (
        "fiscal year",
        "abatement cost (billion JPY/yr, each year's money)",
        "National Program: abatement cost by sector",
    ) in got
    legend = [t.get_text() for t in fig.axes[3].get_legend().get_texts()]
    assert set(legend) == {"office", "factory", "retail"}
    check_saved(fig, tmp_path, "sector")


def test_prefecture_top_15_and_other(results, tmp_path):
    fig = plots.plot_prefecture(results["single"])
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert len(names) == 16 and names[-1] == "other (3 prefectures)"  # drawn bottom-up: ticks reversed
    assert ax.get_xlabel() == "abatement (Mt CO2, sum over the period's years)" and ax.get_ylabel() == "prefecture"
    assert fig.axes[1].get_xlabel().replace("\n", " ") == (
        "abatement cost (billion JPY, each year's money, sum over the period's years)"
    )
    assert inside_figure(fig, [a.xaxis.label for a in fig.axes])
    assert "Regional Program: abatement and cost by prefecture (top 15 of 18)" in fig._suptitle.get_text()
    check_saved(fig, tmp_path, "prefecture")


def test_sweep(results, tmp_path):
    fig = plots.plot_sweep(results["sweep"])
    x, y, t = labels(fig)[1]
    assert (
        x.replace("\n", " ")
        == "compliance factor, Regional Program, P1, general category (share of base-year emissions)"
    )
    assert y == "allowance price (JPY/t CO2, present value at FY2026)" and t == "Regional Program"
    assert "Allowance price against cap stringency (sweep) — case" in fig._suptitle.get_text()
    assert any(line.get_label().startswith("failed") for line in fig.axes[1].lines)
    check_saved(fig, tmp_path, "sweep")
    with pytest.raises(InputError, match="nationcap sweep"):
        plots.plot_sweep(results["single"])


def test_distribution(results, tmp_path):
    fig = plots.plot_distribution(results["montecarlo"])
    assert labels(fig)[0] == ("fiscal year", "allowance price (JPY/t CO2, each year's money)", "National Program")
    assert "6 Monte Carlo draws (seed 2)" in fig._suptitle.get_text()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"5–95 % of draws", "25–75 % of draws", "median"} <= set(legend)
    assert legends_clear_of_axes(fig)
    check_saved(fig, tmp_path, "distribution")
    with pytest.raises(InputError, match="nationcap montecarlo"):
        plots.plot_distribution(results["sweep"])


def test_cli_plot_all_kinds_that_apply(results, tmp_path):
    runner = CliRunner()
    root = results["root"]
    r = runner.invoke(cli, ["plot", str(root / "single"), "--kind", "all", "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        f"{k}.{e}"
        for k in ("mac", "prices", "emissions", "sector", "prefecture", "administrators")
        for e in ("png", "pdf")
    )
    r = runner.invoke(cli, ["plot", str(root / "mc" / "results.nc"), "--kind", "distribution", "--kind", "prices"])
    assert r.exit_code == 0, r.output
    assert (root / "mc" / "plots" / "distribution.png").is_file() and (root / "mc" / "plots" / "prices.pdf").is_file()
    r = runner.invoke(
        cli,
        [
            "plot",
            str(root / "sweep"),
            "--kind",
            "sweep",
            "--kind",
            "mac",
            "--member",
            "s003",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s" / "sweep.png").is_file() and (tmp_path / "s" / "mac.png").is_file()
    r = runner.invoke(cli, ["plot", str(root / "single"), "--kind", "sweep"])
    assert r.exit_code == 2 and "nationcap sweep" in r.output


def test_split_markets_plot_as_one_table(tmp_path):
    """A run whose regional table is split by administrator: prices draw the split markets as one
    median line with a band, the per-market panels sum them into the table, the MAC plot draws a
    split market on request, and the administrators plot refuses (one administrator per market)."""
    from casebuilder import REPO

    out = tmp_path / "split"
    r = CliRunner().invoke(
        cli,
        [
            "-q",
            "run",
            str(REPO / "models/tiny.toml"),
            "--out",
            str(out),
            "--set",
            'markets.regional.split_by="administrator"',
        ],
    )
    assert r.exit_code == 0, r.output
    res = load_results(out)
    split = [str(m) for m in res["market"].values if "/" in m]
    assert len(split) >= 2
    fig = make_figure(res, "emissions")
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["National Program", "Regional Program"]
    fig = make_figure(res, "prices")
    assert legends_clear_of_axes(fig)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any(f"median of {len(split)} markets" in lab for lab in labels)
    fig = make_figure(res, "mac", market=split[0])
    assert len([ax for ax in fig.axes if ax.get_title().startswith("Regional")]) == 1
    assert "administrators" not in applicable_kinds(res)
    with pytest.raises(InputError, match="one each"):
        make_figure(res, "administrators")


def test_cli_plot_kinds_are_the_plotters():
    """Every kind the plotters draw is a choice of `nationcap plot --kind` (administrators too)."""
    from nationcap.cli.batch import PLOT_KINDS

    assert list(PLOT_KINDS) == list(plots.PLOTTERS)


def test_administrators_legend_below_the_bars(results, tmp_path):
    """The administrators plot, asked for by name, keeps its legend off the bars."""
    r = CliRunner().invoke(
        cli, ["plot", str(results["root"] / "single"), "--kind", "administrators", "--out", str(tmp_path / "a")]
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["administrators.pdf", "administrators.png"]
    fig = plots.plot_administrators(results["single"])
    assert legends_clear_of_axes(fig)
    assert inside_figure(fig, [a.yaxis.label for a in fig.axes] + [a.xaxis.label for a in fig.axes])


def test_all_kinds_of_a_monte_carlo_batch_leave_out_the_mac_plot(results, tmp_path):
    """`plot` of a Monte Carlo batch with the default `--kind all` draws every kind that applies
    (a draw keeps no MAC curve) and exits 0; `--kind mac` alone is still refused with the reason."""
    assert applicable_kinds(results["montecarlo"]) == ["prices", "emissions", "sector", "prefecture", "distribution"]
    runner = CliRunner()
    r = runner.invoke(cli, ["plot", str(results["root"] / "mc"), "--out", str(tmp_path / "mc")])
    assert r.exit_code == 0, r.output
    assert sorted(p.stem for p in (tmp_path / "mc").glob("*.png")) == sorted(applicable_kinds(results["montecarlo"]))
    r = runner.invoke(cli, ["plot", str(results["root"] / "mc"), "--kind", "mac", "--out", str(tmp_path / "m")])
    assert r.exit_code == 2 and "MAC curve" in r.output
    assert not list((tmp_path / "m").glob("*.png")) if (tmp_path / "m").exists() else True


@pytest.mark.parametrize(
    "which, kind, member, words",
    [
        ("mc", "prices", "99", "not a successful member"),
        ("sweep", "sweep", "s002", "not a successful member"),  # failed member
        ("sweep", "all", "s9", "not a successful member"),
        ("single", "prices", "s001", "single run"),
    ],
)
def test_member_that_does_not_exist_is_refused_by_every_kind(results, tmp_path, which, kind, member, words):
    """A `--member` no successful member has is refused (exit 2), also by the kinds that draw every
    member, and nothing is written."""
    out = tmp_path / "p"
    r = CliRunner().invoke(
        cli, ["plot", str(results["root"] / which), "--kind", kind, "--member", member, "--out", str(out)]
    )
    assert r.exit_code == 2, r.output
    assert "--member" in r.output and words in r.output and "Traceback" not in r.output
    assert not out.exists() or not any(out.iterdir())
