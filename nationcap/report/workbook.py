"""Excel workbook of results: ``nationcap export RESULTS [RESULTS ...] --format xlsx``.

One workbook holds a run, a batch (sweep or Monte Carlo) or a comparison of runs. Every numeric
results variable of ``results.nc`` is in exactly one sheet, as a tidy table: one column per
dimension (a batch's ``scenario`` / ``draw`` first), then one column per variable, so the value
in a cell is the variable's value at that row's coordinates, written as a number (the same
64-bit float; an empty cell where the results hold NaN). Sheets, by the dimensions of their
variables (the batch dimension left aside):

====================  ====================================================================
sheet                 variables
====================  ====================================================================
README                scenario, description, status, engine, dataset fingerprint, versions,
                      every column's unit and money basis, the resolved settings, sources
summary               a batch's summary (``summary.csv``: sweep points or Monte Carlo
                      statistics), or a comparison's summary with the gains
                      (``administrators_compared``, ``sectors_compared``: who pays more or
                      less than in the first run)
prices                prices by market and year, with the least and greatest clearing price
                      (the interval where the price is not unique), floor, ceiling, imports
markets               by market and period: PV prices and their interval, cap, emissions,
                      bank, the cost account
markets_by_year       other variables by market and year (coverage shares)
markets_total         by market, over all periods
sectors, prefectures, administrators
                      by market, group and year; ``*_by_period`` by period; ``*_totals``
                      (entity counts)
entities              one row per entity (single runs): its labels and base-year emissions;
                      ``entities_by_period``: allocation, net purchase, compliance cost (the
                      yearly values per entity are left to the results' ``entity_year.csv``)
links, by_period, by_year, mac_curve, members
                      link transfers; national totals; the stored MAC curves; a batch's
                      members (status, swept values, Monte Carlo multipliers)
====================  ====================================================================

Headers. Row 1 is the readable header with the unit and money basis (``allowance price (JPY/t
CO2, each year's money)``; in Japanese with ``lang="ja"``), row 2 the column name used in the
CSV tables (``price_jpy_per_t``: :func:`nationcap.results.io.column_name`); both rows are frozen.
Read a sheet back with ``pandas.read_excel(path, sheet_name="prices", header=1)``. With
``lang="ja"`` the sheet names stay as above (so scripts work in both languages) and markets,
sectors, prefectures and administrators get a column of their Japanese names beside them
(``prefecture_ja``: 東京都).

Comparison. Several runs are put side by side: the rows are the union of the runs' coordinates,
and each variable has one column per run (``price_jpy_per_t [linked]``).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..atomic import atomic_file
from ..results.io import batch_dim, column_name
from .i18n import header, translate, word

#: dimensions whose values are names that have a Japanese label (a ``<dim>_ja`` column with ja)
NAMED_DIMS = ("market", "sector", "prefecture", "administrator")
#: groups of the aggregates by sector, prefecture and administrator
GROUPS = ("sector", "prefecture", "administrator")
#: the order of the sheets (any other sheet follows, in the order met)
SHEET_ORDER = (
    "README",
    "summary",
    "administrators_compared",
    "sectors_compared",
    "prices",
    "markets",
    "markets_by_year",
    "markets_total",
    *(f"{g}s{s}" for g in GROUPS for s in ("", "_by_period", "_totals")),
    "entities",
    "entities_by_period",
    "links",
    "by_period",
    "by_year",
    "mac_curve",
    "members",
)
#: widest column (characters)
MAX_WIDTH = 60


@dataclass
class Sheet:
    """A table to write: ``frame`` (index columns first, as plain columns), its readable
    headers (row 1) and column names (row 2)."""

    name: str
    frame: pd.DataFrame
    headers: list[str]
    columns: list[str]
    notes: list[str] = field(default_factory=list)


def sheet_of(name: str, da: xr.DataArray, batch: str | None) -> str | None:
    """The sheet of results variable ``name`` (see the module doc); None for what the workbook
    leaves out: the configuration text of batch members (the README sheet has the settings) and
    the per-entity yearly values (``entity_year.csv`` of the results)."""
    dims = tuple(str(d) for d in da.dims if d != batch)
    if name == "config":
        return None
    if not dims:
        return "members" if batch else "by_run"
    if dims == ("market", "year"):
        return "prices" if str(da.attrs.get("units", "")) == "JPY/t" else "markets_by_year"
    if dims == ("market", "period"):
        return "markets"
    if dims == ("market",):
        return "markets_total"
    if len(dims) >= 2 and dims[0] == "market" and dims[1] in GROUPS:
        rest = {("year",): "", ("period",): "_by_period", (): "_totals"}.get(dims[2:], "_" + "_".join(dims[2:]))
        return f"{dims[1]}s{rest}"
    if dims[0] == "entity":
        # an entity's yearly values (14,500 entities x 10 years in the shipped baseline, a million
        # cells) stay in the results' entity_year.csv: the README sheet says so
        return {("entity",): "entities", ("entity", "period"): "entities_by_period"}.get(dims)
    if dims == ("market", "period", "mac_point"):
        return "mac_curve"
    if dims[0] == "direction":
        return "links"
    if dims in (("period",), ("year",)):
        return f"by_{dims[0]}"
    return "_".join(dims)


def _tables(res: xr.Dataset) -> dict[str, tuple[list[str], list[str]]]:
    """sheet -> (index dims, variables), in the order of the results."""
    batch = batch_dim(res)
    out: dict[str, tuple[list[str], list[str]]] = {}
    for name, da in res.data_vars.items():
        sheet = sheet_of(str(name), da, batch)
        if sheet is None:
            continue
        dims = [str(d) for d in da.dims]
        if sheet in out and out[sheet][0] != dims:
            sheet = f"{sheet}_{'_'.join(dims)}"[:31]
        out.setdefault(sheet, (dims, []))[1].append(str(name))
    return out


def results_frames(res: xr.Dataset) -> dict[str, tuple[pd.DataFrame, dict[str, dict[str, Any]]]]:
    """sheet -> (DataFrame indexed by the dimensions with one column per variable, the
    variables' attributes). The values are the results' own (no rounding, no conversion)."""
    frames = {}
    for sheet, (dims, names) in _tables(res).items():
        if dims:
            df = res[names].to_dataframe()[names]
        else:
            df = pd.DataFrame({n: [res[n].values.item()] for n in names})
        if sheet == "entities":
            labels = ("entity_market", "entity_sector", "entity_prefecture", "entity_administrator")
            for c in reversed([c for c in labels if c in res.coords]):
                df.insert(0, c.removeprefix("entity_"), res[c].to_series().reindex(df.index).astype(str))
        if sheet == "members":  # a sweep's swept values (coordinates along the batch dimension)
            swept = [str(c) for c, v in res.coords.items() if v.dims == tuple(dims) and c not in dims]
            for c in reversed(swept):
                df.insert(0, c, res[c].to_series().reindex(df.index))
        frames[sheet] = (df, {n: dict(res[n].attrs) for n in names})
    return frames


def _sheet(name: str, df: pd.DataFrame, attrs: Mapping[str, Mapping[str, Any]], lang: str, runs: list[str]) -> Sheet:
    """A results frame as a :class:`Sheet`: index columns (with their Japanese names with ja),
    then the value columns; ``runs`` labels the columns of a comparison (``(variable, run)``)."""
    flat = df.reset_index() if df.index.names != [None] else df.reset_index(drop=True)
    index = [str(c) for c in df.index.names if c is not None]
    headers, columns, data = [], [], {}
    for c in index:
        headers.append(word(c, lang) if lang == "ja" else c)
        columns.append(c)
        data[c] = flat[c]
        if lang == "ja" and c in NAMED_DIMS:
            headers.append(f"{word(c, lang)} (日本語)")
            columns.append(f"{c}_ja")
            data[f"{c}_ja"] = flat[c].astype(str).map(lambda v: word(v, "ja"))
    for col in df.columns:
        var, run = col if isinstance(col, tuple) else (col, None)
        a = attrs.get(str(var), {})
        text = header(str(var), dict(a), lang) if a else (word(str(var), lang) if lang == "ja" else str(var))
        cname = column_name(str(var), a) if a else str(var)
        if run is not None:
            text, cname = f"{text} — {run}", f"{cname} [{run}]"
        elif str(var) in NAMED_DIMS and lang == "ja":
            headers.append(word(str(var), lang))
            columns.append(cname)
            data[cname] = flat[col]
            headers.append(f"{word(str(var), lang)} (日本語)")
            columns.append(f"{cname}_ja")
            data[f"{cname}_ja"] = flat[col].astype(str).map(lambda v: word(v, "ja"))
            continue
        headers.append(text)
        columns.append(cname)
        data[cname] = flat[col]
    return Sheet(name, pd.DataFrame(data), headers, columns)


def run_sheets(res: xr.Dataset, lang: str = "en") -> list[Sheet]:
    """The data sheets of one results Dataset (a run or a batch)."""
    return [_sheet(name, df, attrs, lang, []) for name, (df, attrs) in results_frames(res).items()]


def compare_sheets(runs: list[xr.Dataset], labels: list[str], lang: str = "en") -> list[Sheet]:
    """The data sheets of several runs side by side (see the module doc)."""
    per_run = [results_frames(r) for r in runs]
    names = list(dict.fromkeys(n for frames in per_run for n in frames))
    sheets = []
    for name in names:
        parts, attrs = {}, {}
        for lab, frames in zip(labels, per_run):
            if name in frames:
                df, a = frames[name]
                parts[lab] = df
                attrs.update(a)
        index_names = [list(df.index.names) for df in parts.values()]
        if name.startswith("entities") or any(n != index_names[0] for n in index_names):
            continue  # entity detail is for single runs; tables of other shapes do not line up
        wide = pd.concat(parts, axis=1, join="outer", sort=False)  # columns (run, variable)
        wide.columns = wide.columns.swaplevel()
        order = list(dict.fromkeys(v for v, _ in wide.columns))
        wide = wide[[(v, r) for v in order for r in parts if (v, r) in wide.columns]]
        sheets.append(_sheet(name, wide, attrs, lang, list(parts)))
    return sheets


def frame_sheet(name: str, df: pd.DataFrame, lang: str = "en", index: bool = False) -> Sheet:
    """A table made elsewhere (a batch's summary, a comparison's gains) as a sheet; its column
    names carry their units already (``price_p50_jpy_per_t``)."""
    flat = df.reset_index() if index else df.reset_index(drop=True)
    flat.columns = [str(c) for c in flat.columns]
    heads = [translate(c.replace("_", " "), lang) if lang == "ja" else c for c in flat.columns]
    return Sheet(name, flat, heads, list(flat.columns))


# ---------------------------------------------------------------------------------------
# the README sheet
# ---------------------------------------------------------------------------------------


def _flatten(obj: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(obj, dict):
        for k in obj:
            yield from _flatten(obj[k], f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for i, x in enumerate(obj):
            yield from _flatten(x, f"{prefix}.{i}")
    else:
        yield prefix, json.dumps(obj, ensure_ascii=False) if not isinstance(obj, str) else obj


_README_EN = {
    "title": "nationcap results workbook",
    "how": "Each sheet is a table: row 1 the readable header with the unit, row 2 the column name of the "
    "CSV tables; numbers are the values of results.nc (empty = not a number). JPY amounts are in the money "
    "basis given for each column: present value at the first model year, or each year's money.",
    "entities": "Per-entity yearly values (BAU, emissions, abatement, abatement cost) are not in this workbook: "
    "see entity_year.csv of the results folder.",
    "sources": "The data's sources are listed in the dataset folder's dataset.toml ([[sources]]) and README.md; "
    "the model is documented in nationcap's README.md.",
}
_README_JA = {
    "title": "nationcap 結果ワークブック",
    "how": "各シートは表です。1行目は単位付きの見出し、2行目はCSV表の列名です。数値は results.nc の値です"
    " (空欄 = 数値なし)。円の金額は列ごとに示した貨幣価値 (初年度の現在価値または各年の貨幣価値) です。",
    "entities": "事業者別・年度別の値 (BAU、排出量、削減量、削減費用) はこのワークブックにはありません。"
    "結果フォルダの entity_year.csv を参照してください。",
    "sources": "データの出典はデータセットのフォルダの dataset.toml ([[sources]]) と README.md に、"
    "モデルの説明は nationcap の README.md にあります。",
}


def readme_sheet(runs: list[xr.Dataset], labels: list[str], sheets: list[Sheet], lang: str = "en") -> Sheet:
    """What the workbook holds: per run its scenario, description, status, engine, data and
    versions; each sheet's columns with their units and money; the resolved settings; sources."""
    text = _README_JA if lang == "ja" else _README_EN
    rows: list[tuple[str, str, str]] = [("", text[k], "") for k in ("title", "how", "entities", "sources")]
    keys = (
        "scenario",
        "description",
        "batch",
        "dataset",
        "dataset_sha256",
        "first_year",
        "engine",
        "termination",
        "n_members",
        "n_ok",
        "n_failed",
        "montecarlo_seed",
        "sweep_params",
        "nationcap_version",
        "pyomo_version",
        "highspy_version",
        "python_version",
    )
    for lab, r in zip(labels, runs):
        rows.append((lab, "run", ""))
        for k in keys:
            if k in r.attrs:
                rows.append((lab, k, str(r.attrs[k])))
        if "member" in r.attrs:
            rows.append((lab, "member", str(r.attrs["member"])))
    for s in sheets:
        for h, c in zip(s.headers, s.columns):
            rows.append((f"sheet {s.name}", c, h))
    for lab, r in zip(labels, runs):
        for k, v in _flatten(json.loads(r.attrs.get("config", "{}"))):
            rows.append((f"settings {lab}", k, v))
    df = pd.DataFrame(rows, columns=["what", "item", "value"])
    heads = ["項目", "名前", "値"] if lang == "ja" else ["what", "item", "value"]
    return Sheet("README", df, heads, list(df.columns))


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


def _cell(v: Any) -> Any:
    """A value as openpyxl writes it: numbers as numbers (NaN and infinities as empty cells),
    NumPy scalars as Python scalars, everything else as text."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if v is pd.NA or v is pd.NaT:
        return None
    return str(v)


def _exact(ws, v: Any) -> Any:
    """A float as a number cell holding its shortest exact decimal (``repr``), which reads back
    as the same 64-bit float; openpyxl would write 16 significant digits (``%.16g``), one short of
    what some doubles need (2427.1844660194174 would come back as 2427.184466019417)."""
    if not isinstance(v, float):
        return v
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=repr(v))
    cell.data_type = "n"
    return cell


def _width(values: Iterable[Any]) -> float:
    """A column width that shows its longest value (CJK characters count double)."""
    longest = 0
    for v in values:
        s = f"{v:,.6g}" if isinstance(v, float) else str(v)
        longest = max(longest, sum(2 if ord(ch) > 0x2E80 else 1 for ch in s))
    return min(MAX_WIDTH, longest + 2)


def write_workbook(sheets: list[Sheet], path: Path) -> None:
    """Write ``sheets`` to ``path`` atomically: bold, frozen header
    rows, columns wide enough for their content, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    # byte-stable: the document's created/modified stamps and the zip entries' times are fixed
    # (openpyxl stamps the time of saving), so the same results give the same file
    wb.properties.created = wb.properties.modified = FIXED_TIME
    bold = Font(bold=True)
    for s in sheets:
        ws = wb.create_sheet(s.name[:31])
        ws.freeze_panes = "A3" if s.name == "README" else "B3"
        sample = s.frame.head(2000)
        for j, c in enumerate(s.columns):
            width = _width([s.headers[j], c, *sample[c].tolist()]) if len(sample) else _width([s.headers[j], c])
            ws.column_dimensions[get_column_letter(j + 1)].width = width
        row1 = []
        for h in s.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            row1.append(cell)
        ws.append(row1)
        row2 = []
        for c in s.columns:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = Font(italic=True, color="666666")
            row2.append(cell)
        ws.append(row2)
        cols = [s.frame[c].tolist() for c in s.columns]
        for row in zip(*cols):
            ws.append([_exact(ws, _cell(v)) for v in row])
    with atomic_file(Path(path)) as tmp:
        wb.save(tmp)
        _fix_zip_times(Path(tmp))


#: the time stamped into a workbook (document properties and zip entries): the zip format's
#: earliest date, so that a workbook's bytes depend on its content only
FIXED_TIME = datetime.datetime(1980, 1, 1)


def _fix_zip_times(path: Path) -> None:
    """Rewrite the zip archive ``path`` with every entry dated :data:`FIXED_TIME` (same order,
    names, contents and compression) and the document's modified time (which openpyxl sets as it
    saves) at :data:`FIXED_TIME` too."""
    import re
    import zipfile

    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


def build_sheets(
    runs: list[xr.Dataset],
    labels: list[str],
    lang: str = "en",
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> list[Sheet]:
    """Every sheet of the workbook of ``runs`` (one: a run or a batch; several: a comparison),
    with ``extra`` tables (``summary``) made by the caller, and the README, in
    :data:`SHEET_ORDER`."""
    sheets = run_sheets(runs[0], lang) if len(runs) == 1 else compare_sheets(runs, labels, lang)
    for name, df in (extra or {}).items():
        if len(df):
            sheets.append(frame_sheet(name, df, lang, index=df.index.names != [None]))
    rank = {n: i for i, n in enumerate(SHEET_ORDER)}
    sheets.sort(key=lambda s: rank.get(s.name, len(rank)))
    return [readme_sheet(runs, labels, sheets, lang), *sheets]


def is_workbook_file(path: str | Path) -> bool:
    """Whether ``path`` is a workbook nationcap wrote (an .xlsx file with its README sheet): what
    ``export --force`` may replace."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            book = z.read("xl/workbook.xml").decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return 'name="README"' in book
