"""One self-contained HTML report of results: ``nationcap report RESULTS [RESULTS ...]``.

The file needs nothing but itself: figures are PNG images embedded as ``data:`` URIs, the style
sheet is inline, there is no script, and with ``lang="ja"`` the Japanese font is embedded too
(IPAexGothic cut down to the characters the page uses, as a ``data:`` @font-face), so the page
makes no request to any network and shows kanji on any computer. A print style sheet (A4, no
page break inside a figure or table) lets a browser print it cleanly to PDF.

What it shows:

- one run: the headline numbers by market; price paths with their interval where the price is
  not unique; emissions against the caps and the bank; the cost account; coverage of national
  CO2; who abates and who pays by sector, prefecture and administrator; the MAC curve with the
  clearing price; the provenance (settings, data fingerprint, versions);
- several runs: the comparison (:func:`nationcap.report.compare.compare`: costs, the gains
  against the first run, prices side by side, who pays more or less), then each run's headline;
- a batch: its summary and the sweep curve or the Monte Carlo fan, prices of every member, and
  the figures of one member.

Numbers in tables are rounded for reading; the exact values are in ``results.nc`` and the
workbook (:mod:`nationcap.report.workbook`).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..results.io import batch_dim, select_member
from ..vocab import DRAW_DIM, SWEEP_DIM
from .i18n import figure_font_context, header, japanese_font_path, localize_figure, translate, word

#: the section titles and sentences of the page
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "nationcap report",
        "headline": "Headline numbers",
        "prices": "Allowance prices",
        "prices_note": "Each year's money. Where the price is not unique (the LP has several optimal prices), "
        "the least and greatest clearing prices are shown.",
        "emissions": "Emissions, caps and the bank",
        "costs": "Cost account (present value)",
        "coverage": "Coverage of national CO2",
        "who": "Who abates and who pays",
        "sectors": "By sector",
        "prefectures": "By prefecture",
        "administrators": "By administrator",
        "mac": "Marginal abatement cost curve and the clearing price",
        "provenance": "Provenance",
        "comparison": "Comparison of runs",
        "gains": "Costs and gains against the first run",
        "batch": "Batch summary",
        "member": "Figures of one member",
        "settings": "Resolved settings",
        "no_figure": "Figure not available",
        "runs": "Runs",
        "sweep_fig": "Sweep curve: allowance price against the swept value",
        "fan_fig": "Monte Carlo fan: the spread of the allowance price across the draws",
        "generated": "Made by nationcap",
    },
    "ja": {
        "title": "nationcap レポート",
        "headline": "主要な数値",
        "prices": "排出枠価格",
        "prices_note": "各年の貨幣価値。価格が一意でない場合 (LPの最適価格が複数ある場合) は、均衡価格の下限と上限を示します。",
        "emissions": "排出量、排出上限とバンキング",
        "costs": "費用勘定 (現在価値)",
        "coverage": "全国CO2に占めるカバー率",
        "who": "誰が削減し、誰が負担するか",
        "sectors": "部門別",
        "prefectures": "都道府県別",
        "administrators": "管理者別",
        "mac": "限界削減費用曲線と均衡価格",
        "provenance": "来歴",
        "comparison": "実行の比較",
        "gains": "最初の実行に対する費用と便益",
        "batch": "バッチの概要",
        "member": "メンバーの図",
        "settings": "解決された設定",
        "no_figure": "図はありません",
        "runs": "実行",
        "sweep_fig": "スイープ曲線: スイープした値に対する排出枠価格",
        "fan_fig": "モンテカルロのファンチャート: 試行間の排出枠価格のばらつき",
        "generated": "nationcap で作成",
    },
}

_CSS = """
body { font-family: %(font)s; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #3182bd; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .8em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; }
th { background: #eef3f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
figure img { max-width: 100%%; height: auto; border: 1px solid #eee; }
figcaption, .note { color: #555; font-size: 0.9em; }
nav ul { columns: 2; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, table { break-inside: avoid; }
  figure img { max-height: 240mm; border: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _t(key: str, lang: str) -> str:
    return TEXT["ja" if lang == "ja" else "en"][key]


def _e(text: Any) -> str:
    return html.escape(str(text))


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not np.isfinite(x):
            return ""
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"
    return str(v)  # integers: years and counts, as they are


def table_html(df: pd.DataFrame, lang: str = "en", index: bool = True) -> str:
    """A DataFrame as an HTML table: numbers right-aligned with thousands separators, names
    (markets, sectors, prefectures) in ``lang``."""
    if index and not isinstance(df.index, pd.RangeIndex):
        df = df.rename_axis([n if n is not None else "" for n in df.index.names])
        flat = df.reset_index()
    else:
        flat = df.reset_index(drop=True)
    heads = "".join(f"<th>{_e(_label(str(c), lang))}</th>" for c in flat.columns)
    rows = []
    for row in flat.itertuples(index=False):
        cells = []
        for v in row:
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            text = _fmt(v) if num else word(str(v), lang)
            cells.append(f'<td class="num">{_e(text)}</td>' if num else f"<td>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _label(column: str, lang: str) -> str:
    return word(column, lang) if lang == "ja" else column


def _var_frame(res: xr.Dataset, names: Iterable[str], lang: str, scale: float = 1.0) -> pd.DataFrame:
    """Variables of one set of dimensions as columns with readable headers (unit included)."""
    names = [n for n in names if n in res]
    df = res[names].to_dataframe()[names] * scale
    df.columns = [header(n, dict(res[n].attrs), lang) for n in names]
    df.index.names = [_label(str(n), lang) for n in df.index.names]
    return df


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------


def figure_html(fig, caption: str, lang: str) -> str:
    """A Figure as an embedded PNG (``data:`` URI), labelled in ``lang``; the figure is closed."""
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    with figure_font_context(lang):
        localize_figure(fig, lang)
        fig.savefig(buf, format="png", dpi=96)
    if not isinstance(fig, Figure):  # pragma: no cover
        raise TypeError(type(fig))
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _plot(res: xr.Dataset, kind: str, caption: str, lang: str, **options) -> str:
    """The figure of ``kind`` (:mod:`nationcap.report.plots`), or a note why there is none."""
    from .plots import make_figure

    try:
        with figure_font_context(lang):
            fig = make_figure(res, kind, **options)
    except InputError as exc:
        why = "; ".join(p.message for p in exc.problems)
        return f'<p class="note">{_e(_t("no_figure", lang))}: {_e(translate(why, lang))}</p>'
    return figure_html(fig, caption, lang)


# ---------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------


def headline(res: xr.Dataset, lang: str) -> pd.DataFrame:
    """Per market: entities, BAU and emissions over all years (Mt), abatement, the price in the
    first and last year, the total cost and net cost to the covered entities (PV, billion JPY)
    and the cost per tonne abated."""
    rows = []
    first, last = int(res["year"].values[0]), int(res["year"].values[-1])
    for m in [str(x) for x in res["market"].values]:
        bau = float(res["bau_emissions_by_sector"].sel(market=m).sum())
        em = float(res["emissions_by_sector"].sel(market=m).sum())
        row = {
            "market": m,
            "entities": int(res["entities_by_sector"].sel(market=m).sum()),
            "BAU emissions (Mt CO2, all years)": bau / 1e6,
            "emissions (Mt CO2, all years)": em / 1e6,
            "abatement (Mt CO2, all years)": (bau - em) / 1e6,
            f"allowance price FY{first} (JPY/t CO2)": float(res["price"].sel(market=m, year=first)),
            f"allowance price FY{last} (JPY/t CO2)": float(res["price"].sel(market=m, year=last)),
        }
        for v in ("total_cost", "net_cost_covered"):
            if v in res:
                row[f"{res[v].attrs.get('long_name', v)} (billion JPY, present value)"] = (
                    float(res[v].sel(market=m).sum()) / 1e9
                )
        if "cost_per_t_abated" in res:
            row["cost per t abated (JPY/t CO2, present value)"] = float(res["cost_per_t_abated"].sel(market=m))
        rows.append(row)
    df = pd.DataFrame(rows).set_index("market")
    if lang == "ja":
        df.columns = [translate(c, lang) for c in df.columns]
        df.index.name = word("market", lang)
    return df


def _group_table(res: xr.Dataset, group: str, lang: str, top: int = 15) -> str:
    """Abatement (Mt, all years), abatement cost (billion JPY, each year's money, summed),
    compliance cost (billion JPY PV) and net purchase (Mt) by market and group, largest first."""
    parts = {}
    for v, scale in (("abatement", 1e-6), ("abatement_cost", 1e-9), ("compliance_cost", 1e-9), ("net_purchase", 1e-6)):
        name = f"{v}_by_{group}"
        if name not in res:
            continue
        da = res[name]
        time = [d for d in da.dims if d in ("year", "period")]
        unit = {1e-6: "Mt CO2", 1e-9: "billion JPY"}[scale]
        money = str(da.attrs.get("money", ""))
        label = f"{da.attrs.get('long_name', v)} ({unit}{', ' + money if money else ''}, sum)"
        parts[translate(label, lang)] = da.sum(time).to_series() * scale
    df = pd.DataFrame(parts)
    counts = res[f"entities_by_{group}"].to_series()
    df = df[counts.reindex(df.index).fillna(0) > 0]
    first = df.columns[0]
    df = df.sort_values(first, ascending=False, key=lambda s: s.abs())
    shown = df.groupby(level="market", group_keys=False).head(top)
    shown.index.names = [_label(str(n), lang) for n in shown.index.names]
    return table_html(shown, lang)


def run_sections(res: xr.Dataset, lang: str) -> list[tuple[str, str]]:
    """(key, html) of the sections of a single run."""
    out = [("headline", table_html(headline(res, lang), lang))]
    price_vars = ["price", "price_low", "price_high", "price_floor", "price_ceiling"]
    prices = _var_frame(res, price_vars, lang).dropna(axis=1, how="all")
    year = prices.index.names[1]
    prices = prices.stack().unstack(year)  # one row per market and measure, one column per year
    prices.index.names = [prices.index.names[0], ""]
    out.append(
        (
            "prices",
            _plot(res, "prices", _t("prices", lang), lang)
            + f'<p class="note">{_e(_t("prices_note", lang))}</p>'
            + table_html(prices, lang),
        )
    )
    em = _var_frame(res, ["cap", "market_emissions", "bank"], lang)
    out.append(("emissions", _plot(res, "emissions", _t("emissions", lang), lang) + table_html(em, lang)))
    items = [v for v in res.data_vars if str(v).startswith("account_") or v in ("total_cost", "net_cost_covered")]
    items = [v for v in items if "period" in res[v].dims and float(abs(res[v]).sum()) > 0 or v == "total_cost"]
    costs = _var_frame(res, [str(v) for v in items], lang)
    out.append(("costs", table_html(costs, lang)))
    cov = [v for v in ("coverage_share", "combined_coverage_share", "double_counted_share") if v in res]
    if cov and bool(res["coverage_share"].notnull().any()):
        out.append(("coverage", table_html(_var_frame(res, ["coverage_share"], lang).unstack(0), lang)))
    who = [
        f"<h3>{_e(_t('sectors', lang))}</h3>" + _plot(res, "sector", _t("sectors", lang), lang),
        _group_table(res, "sector", lang),
        f"<h3>{_e(_t('prefectures', lang))}</h3>" + _plot(res, "prefecture", _t("prefectures", lang), lang),
        _group_table(res, "prefecture", lang),
        f"<h3>{_e(_t('administrators', lang))}</h3>",
    ]
    if batch_dim(res) is None and "net_purchase_by_administrator" in res:
        from .plots import applicable_kinds

        if "administrators" in applicable_kinds(res):
            who.append(_plot(res, "administrators", _t("administrators", lang), lang))
    who.append(_group_table(res, "administrator", lang))
    out.append(("who", "".join(who)))
    out.append(("mac", _plot(res, "mac", _t("mac", lang), lang)))
    return out


def provenance(res: xr.Dataset, lang: str) -> str:
    """Scenario, dataset, fingerprint, engine, status and versions, and the resolved settings."""
    keys = (
        "scenario",
        "description",
        "dataset",
        "dataset_sha256",
        "first_year",
        "engine",
        "termination",
        "batch",
        "n_members",
        "n_ok",
        "montecarlo_seed",
        "nationcap_version",
        "pyomo_version",
        "highspy_version",
        "python_version",
    )
    rows = [(k, str(res.attrs[k])) for k in keys if k in res.attrs]
    facts = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    cfg = json.dumps(json.loads(res.attrs.get("config", "{}")), indent=1, ensure_ascii=False)
    return f"<table>{facts}</table><details><summary>{_e(_t('settings', lang))}</summary><pre>{_e(cfg)}</pre></details>"


def batch_sections(res: xr.Dataset, lang: str, summary: pd.DataFrame | None) -> list[tuple[str, str]]:
    dim = batch_dim(res)
    kind, caption = ("sweep", "sweep_fig") if dim == SWEEP_DIM else ("distribution", "fan_fig")
    body = _plot(res, kind, _t(caption, lang), lang) + _plot(res, "prices", _t("prices", lang), lang)
    if summary is not None and len(summary):
        body += table_html(summary.head(60), lang, index=False)
    out = [("batch", body)]
    one, label = select_member(res)
    member = f'<p class="note">{_e(label)}</p>'
    member += _plot(res, "emissions", _t("emissions", lang), lang)
    member += _plot(res, "sector", _t("sectors", lang), lang)
    if dim != DRAW_DIM:
        member += _plot(res, "mac", _t("mac", lang), lang)
    out.append(("member", member))
    out.append(("headline", table_html(headline(one, lang), lang)))
    return out


def compare_sections(runs: list[xr.Dataset], labels: list[str], tables: dict[str, pd.DataFrame], lang: str):
    """The comparison of several runs: the figure, costs and gains, prices, coverage, sectors and
    administrators."""
    from .plots.compare import plot_compare

    fig = plot_compare(tables)  # a Figure of its own, no pyplot state to close
    body = figure_html(fig, _t("comparison", lang), lang)
    summary = tables["summary"]
    gains = [c for c in summary.columns if c.startswith(("total_cost_jpy", "net_cost_covered", "gain", "emissions_t"))]
    body += f"<h3>{_e(_t('gains', lang))}</h3>" + table_html(summary[gains].T, lang)
    for note in tables["notes"]["note"] if len(tables["notes"]) else []:
        body += f'<p class="note">{_e(note)}</p>'
    body += f"<h3>{_e(_t('prices', lang))}</h3>" + table_html(tables["prices"], lang)
    if len(tables.get("coverage", ())):
        body += f"<h3>{_e(_t('coverage', lang))}</h3>" + table_html(tables["coverage"], lang)
    if len(tables.get("sectors", ())):
        body += f"<h3>{_e(_t('sectors', lang))}</h3>" + table_html(tables["sectors"], lang)
    if len(tables["administrators"]):
        body += f"<h3>{_e(_t('administrators', lang))}</h3>" + table_html(tables["administrators"], lang)
    out = [("comparison", body)]
    for lab, r in zip(labels, runs):
        out.append(("headline", f"<h3>{_e(lab)}</h3>" + table_html(headline(r, lang), lang)))
    return out


# ---------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------


def _font_face(text: str) -> str:
    """The packaged Japanese font, cut down to the characters of ``text``, as an inline
    @font-face (TrueType in a ``data:`` URI)."""
    from fontTools import subset  # type: ignore[import-untyped]  # matplotlib's own dependency

    font = subset.load_font(str(japanese_font_path()), subset.Options())
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(text=text + "0123456789,.-()%/ ")
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'@font-face {{ font-family: "nationcap-ja"; src: url(data:font/ttf;base64,{data}) format("truetype"); }}\n'


def page(title: str, sections: list[tuple[str, str]], lang: str) -> str:
    """The whole HTML document: a table of contents and the sections."""
    nav = "".join(
        f'<li><a href="#s{i}">{_e(_t(key, lang))}</a></li>' for i, (key, _) in enumerate(sections) if key in TEXT["en"]
    )
    body = "".join(
        f'<section id="s{i}"><h2>{_e(_t(key, lang))}</h2>{content}</section>'
        for i, (key, content) in enumerate(sections)
    )
    font = "system-ui, 'DejaVu Sans', Arial, sans-serif"
    face = ""
    if lang == "ja":
        face = _font_face(html.unescape(title + body + nav))
        font = "'nationcap-ja', " + font
    css = face + _CSS % {"font": font}
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{css}</style></head>"
        f"<body><h1>{_e(title)}</h1><nav><ul>{nav}</ul></nav>{body}"
        f'<footer class="note">{_e(_t("generated", lang))}</footer></body></html>\n'
    )


def build_report(
    runs: list[xr.Dataset],
    labels: list[str],
    lang: str = "en",
    compare_tables: dict[str, pd.DataFrame] | None = None,
    summary: pd.DataFrame | None = None,
) -> str:
    """The report of one results Dataset (a run or a batch, with the batch's ``summary``) or of
    several runs (with their ``compare_tables``), as one HTML document."""
    if len(runs) > 1:
        assert compare_tables is not None
        sections = compare_sections(runs, labels, compare_tables, lang)
        title = f"{_t('title', lang)}: {' / '.join(labels)}"
        sections.append(
            ("provenance", "".join(f"<h3>{_e(lab)}</h3>" + provenance(r, lang) for lab, r in zip(labels, runs)))
        )
        return page(title, sections, lang)
    res = runs[0]
    title = f"{_t('title', lang)}: {labels[0]}"
    sections = batch_sections(res, lang, summary) if batch_dim(res) is not None else run_sections(res, lang)
    sections.append(("provenance", provenance(res, lang)))
    return page(title, sections, lang)


def is_report_file(path: str | Path) -> bool:
    """Whether ``path`` is an HTML report nationcap wrote (its footer says so, in English or
    Japanese): what ``report --force`` may replace."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return text.lstrip().lower().startswith("<!doctype html") and any(
        f'<footer class="note">{html.escape(t["generated"])}</footer>' in text for t in TEXT.values()
    )
