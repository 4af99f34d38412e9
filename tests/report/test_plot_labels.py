"""Figures fit for a paper: labels from the results' names and units, the MAC cut marked."""

from __future__ import annotations

import doctest
import re

import numpy as np
import pytest
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.report import labels, plots
from nationcap.report.labels import axis_label, param_label, unit_label
from nationcap.results.io import load_results

EACH_YEAR = {"money": "each year's money"}
PV = {"money": "present value at FY2026"}
KEY = "markets.regional.compliance_factor.P2.general"


def test_docstring_examples():
    assert doctest.testmod(labels).failed == 0


def test_unit_label():
    assert unit_label("t") == "t CO2"
    assert unit_label("t", scale=1e-6) == "Mt CO2"
    assert unit_label("t", scale=1e-6, per_year=True) == "Mt CO2/yr"
    assert unit_label("JPY", "each year's money", scale=1e-9) == "billion JPY, each year's money"
    assert unit_label("JPY", "each year's money", scale=1e-9, per_year=True) == "billion JPY/yr, each year's money"
    assert unit_label("JPY/t", "present value at FY2026") == "JPY/t CO2, present value at FY2026"
    assert unit_label("1") == "share"
    assert unit_label("") == ""


def test_axis_label_states_the_money_of_costs():
    cost = {"long_name": "abatement cost by prefecture", "units": "JPY", **EACH_YEAR}
    text = axis_label(cost, scale=1e-9, name="abatement cost", note="sum over the period's years")
    assert text == "abatement cost (billion JPY, each year's money, sum over the period's years)"
    price_pv = {"long_name": "allowance price (present value)", "units": "JPY/t", **PV}
    assert axis_label(price_pv, name="allowance price") == "allowance price (JPY/t CO2, present value at FY2026)"
    assert axis_label({"long_name": "fiscal year"}) == "fiscal year"


@pytest.mark.parametrize(
    "key, label",
    [
        (KEY, "compliance factor, Regional Program, P2, general category (share of base-year emissions)"),
        (
            "markets.national.compliance_factor.P1.dhc",
            "compliance factor, National Program, P1, dhc category (share of base-year emissions)",
        ),
        ("discount_rate", "discount rate (per year)"),
        ("markets.national.price_floor.start_jpy_per_t", "price floor, National Program, start (JPY/t CO2)"),
        ("periods.1.last_year", "last year of period 2"),
        ("markets.regional.banking", "banking, Regional Program"),
    ],
)
def test_param_label_reads_dotted_keys(key, label):
    assert param_label(key) == label
    assert "." not in param_label(key) and "_" not in param_label(key)


def test_param_label_short_leaves_out_the_unit():
    assert param_label(KEY, short=True) == "compliance factor, Regional Program, P2, general category"


def test_mac_cut_only_when_steps_are_far_above_the_price():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    # price 1,000, abatement used 1 Mt: the panel shows up to max(3 x 1,000, cost at 2 Mt = 2,000) x 1.05
    assert plots.mac_cut(np.array([500.0, 2000.0, 3000.0]), edges, 1000.0, 1.0) is None
    assert plots.mac_cut(np.array([500.0, 2000.0, 90_000.0]), edges, 1000.0, 1.0) == pytest.approx(3150.0)


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    root = tmp_path_factory.mktemp("figs")
    path = batch_case(root)
    runner = CliRunner()
    run, sweep = root / "run", root / "sweep"
    assert runner.invoke(cli, ["run", str(path), "--out", str(run)]).exit_code == 0
    r = runner.invoke(
        cli, ["sweep", str(path), "--param", KEY, "--values", "0.08,0.1", "--out", str(sweep), "--workers", "1"]
    )
    assert r.exit_code == 0, r.output
    return load_results(run), load_results(sweep)


def texts(fig):
    """Every axis label, legend entry and annotation of a figure."""
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
        out += [t.get_text() for t in ax.texts]
    for legend in fig.legends:
        out += [t.get_text() for t in legend.get_texts()]
    return [t for t in out if t]


NUMBER = re.compile(r"\d[\d,.]*")
UNIT = re.compile(r"JPY|Mt|t CO2|%|share|draws|FY\d{4}")


@pytest.mark.solver
@pytest.mark.parametrize("kind", ["mac", "prices", "emissions", "sector", "prefecture", "sweep"])
def test_labels_have_units_and_no_raw_keys(figures, kind):
    run, sweep = figures
    fig = plots.make_figure(sweep if kind == "sweep" else run, kind)
    for text in texts(fig):
        assert "markets." not in text and "compliance_factor" not in text, text
    for ax in fig.axes:
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            if label and label not in ("fiscal year", "prefecture"):
                assert "(" in label, f"{kind}: axis label without units: {label!r}"
    if kind == "mac":  # every value in a label has its unit
        for text in texts(fig):
            if NUMBER.search(text.replace("FY2026", "")):
                assert UNIT.search(text), f"value without unit: {text!r}"
    if kind == "prefecture":
        assert "each year's money" in fig.axes[1].get_xlabel()


@pytest.mark.solver
def test_mac_steps_above_the_axis_are_marked_and_drawn_whole(figures):
    """batch_case P2: the dearest steps (8,000-8,400 JPY/t) are far above the clearing prices,
    so the panels are cut; the cut value is written on the panel and a second row draws the
    whole curve up to its highest stored cost."""
    run, _ = figures
    fig = plots.plot_mac(run, period="P2")
    top = fig.axes[0]
    cut = top.get_ylim()[1]
    note = " ".join(t.get_text() for t in top.texts)
    assert f"axis cut at {cut:,.0f} JPY/t CO2" in note
    highest = float(run["mac_curve_cost_pv"].sel(market="national", period="P2").max())
    assert f"{highest:,.0f} JPY/t CO2" in note
    assert highest > cut
    assert len(fig.axes) == 4  # two markets x (cut panel, whole curve)
    whole = fig.axes[2]
    assert whole.get_title() == "whole curve" and whole.get_ylim()[1] >= highest
