"""Japanese labels and the Japanese font: one table for the workbook, the report and the figures.

``--lang ja`` (``nationcap export --format xlsx``, ``nationcap report``, ``nationcap plot``)
shows names in Japanese: results variables (by their ``long_name``), units and money bases,
markets (programs), sectors, the 47 prefectures and 20 designated cities in kanji
(:data:`nationcap.inputs.geo.PREFECTURES_JA`), and the words of figure titles, axes and legends.
:data:`JA` is that table (English -> Japanese); a text with no entry stays in English.

    >>> word("Tokyo", "ja"), word("regional", "ja"), word("steel", "ja")
    ('東京都', '地域制度', '鉄鋼')
    >>> translate("allowance price (JPY/t CO2, each year's money)", "ja")
    '排出枠価格 (円/t-CO2、各年の貨幣価値)'

The font. Kanji need a font that has their glyphs; the package ``matplotlib-fontja`` (a
dependency) ships IPAexGothic (IPA Font License). :func:`japanese_font_path` finds its file
without importing that package (whose import would change matplotlib's defaults for every
figure), :func:`use_japanese_font` registers it with matplotlib's font manager, and
:func:`localize_figure` is the hook ``nationcap plot --lang ja`` calls on each figure: it
translates every text of the figure and sets the font.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..inputs.geo import DESIGNATED_CITIES_JA, PREFECTURES_JA

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LANGS = ("en", "ja")

#: market (program) keys and names
MARKETS_JA = {
    "national": "国制度",
    "regional": "地域制度",
    "National Program": "国の排出量取引制度",
    "Regional Program": "地域の排出量取引制度",
}

#: sector labels of the shipped datasets (inputs/japan, inputs/tiny)
SECTORS_JA = {
    "office": "事務所",
    "commercial": "商業施設",
    "public": "公共施設",
    "factory_food": "工場 (食品)",
    "factory_chemicals": "工場 (化学)",
    "factory_machinery": "工場 (機械)",
    "factory_transport": "工場 (輸送機器)",
    "factory_other": "工場 (その他)",
    "factory_electronics": "工場 (電子機器)",
    "factory_metals": "工場 (金属)",
    "factory_ceramics": "工場 (窯業)",
    "factory_paper": "工場 (紙)",
    "power_coal": "石炭火力発電",
    "power_lng": "LNG火力発電",
    "power_oil": "石油火力発電",
    "chemicals": "化学",
    "paper": "紙・パルプ",
    "other_industry": "その他の産業",
    "glass_ceramics": "ガラス・窯業",
    "nonferrous": "非鉄金属",
    "cement": "セメント",
    "automotive": "自動車",
    "refinery": "石油精製",
    "steel": "鉄鋼",
}

#: results variables (their ``long_name``), dimensions and other words of tables
VARIABLES_JA = {
    "allowance price": "排出枠価格",
    "allowance price (present value)": "排出枠価格 (現在価値)",
    "least clearing allowance price": "排出枠価格の下限 (解が一意でない区間)",
    "greatest clearing allowance price": "排出枠価格の上限 (解が一意でない区間)",
    "least clearing allowance price (present value)": "排出枠価格の下限 (現在価値)",
    "greatest clearing allowance price (present value)": "排出枠価格の上限 (現在価値)",
    "cap": "排出上限 (キャップ)",
    "market emissions": "市場の排出量",
    "bank at the end of the period": "期末のバンキング残高",
    "expired allowances": "失効した排出枠",
    "account abatement": "費用勘定: 削減費用",
    "account offsets": "費用勘定: オフセット",
    "account imports": "費用勘定: 輸入",
    "account ceiling payments": "費用勘定: 上限価格での支払",
    "account floor receipts": "費用勘定: 下限価格での受取",
    "account reserve release payments": "費用勘定: リザーブ放出の支払",
    "account reserve withhold receipts": "費用勘定: リザーブ留保の受取",
    "account auction payments": "費用勘定: オークション支払",
    "account final shortfall purchases": "費用勘定: 最終不足分の購入",
    "total cost": "総費用",
    "net cost covered": "対象事業者の純費用",
    "cost per t abated": "削減1トン当たり費用",
    "business-as-usual emissions": "BAU排出量",
    "emissions": "排出量",
    "abatement": "削減量",
    "abatement cost": "削減費用",
    "free allocation": "無償割当量",
    "net allowance purchase": "排出枠の純購入量",
    "compliance cost": "遵守費用",
    "base-year emissions": "基準年排出量",
    "first fiscal year of the base window": "基準期間の初年度",
    "shortfall": "不足量",
    "noncompliant entities": "未遵守の事業者数",
    "fines": "罰金",
    "final shortfall cost": "最終不足分の費用",
    "grid reduction": "系統電力による削減",
    "price floor": "下限価格",
    "price ceiling": "上限価格",
    "ceiling issued": "上限価格での追加発行量",
    "ceiling issued payments": "上限価格での追加発行の支払",
    "floor withdrawn": "下限価格での回収量",
    "floor withdrawn payments": "下限価格での回収の受取",
    "import price": "輸入クレジット価格",
    "imports": "輸入クレジット",
    "link transfer": "リンクによる移転量",
    "link limit rent": "リンク上限のレント",
    "auction volume": "オークション量",
    "auction revenue": "オークション収入",
    "double-counted electricity emissions": "二重計上の電力由来排出量",
    "coverage of national CO2": "全国CO2に占めるカバー率",
    "double-counted share of national CO2": "全国CO2に占める二重計上の割合",
    "combined coverage of national CO2": "両制度合計のカバー率",
    "MAC step cost (present value)": "MACステップの費用 (現在価値)",
    "cumulative abatement of the MAC curve": "MAC曲線の累積削減量",
    "traded between administrators": "管理者間の取引量",
    "traded between administrators total": "管理者間の取引量 (全期間)",
    "entities": "事業者数",
    "market": "市場",
    "year": "年度",
    "fiscal year": "年度",
    "period": "期間",
    "sector": "部門",
    "prefecture": "都道府県",
    "administrator": "管理者",
    "entity": "事業者",
    "direction": "方向",
    "mac_point": "MAC点",
    "scenario": "シナリオ",
    "draw": "試行",
    "run": "実行",
    "status": "状態",
}

#: units and money bases (results attributes ``units`` and ``money``)
UNITS_JA = {
    "JPY/t CO2": "円/t-CO2",
    "JPY/t": "円/t-CO2",
    "t CO2": "t-CO2",
    "kt CO2": "千t-CO2",
    "Mt CO2": "百万t-CO2",
    "trillion JPY": "兆円",
    "billion JPY": "十億円",
    "million JPY": "百万円",
    "thousand JPY": "千円",
    "JPY": "円",
    "share": "割合",
    "each year's money": "各年の貨幣価値",
    "present value at FY": "現在価値、基準年度 FY",
    "present value": "現在価値",
    "/yr": "/年",
}

#: words of figure titles, axes and legends (matched as whole phrases, longest first)
PHRASES_JA = {
    "Allowance prices": "排出枠価格",
    "Allowance price": "排出枠価格",
    "every draw": "全試行",
    "by sweep point": "スイープ点別",
    "Marginal abatement cost curves": "限界削減費用 (MAC) 曲線",
    "Emissions against the cap, with the bank": "排出量と排出上限、バンキング",
    "Abatement and cost by sector": "部門別の削減量と費用",
    "abatement and cost by prefecture": "都道府県別の削減量と費用",
    "Net allowance positions by administrator (positive = net buyer)": "管理者別の排出枠純購入 (正 = 純買い手)",
    "Allowance price against cap stringency (sweep)": "排出上限の厳しさと排出枠価格 (スイープ)",
    "Allowance price distribution": "排出枠価格の分布",
    "Monte Carlo draws": "モンテカルロ試行",
    "MAC steps (stored with the run)": "MACステップ (実行時に保存)",
    "clearing price": "均衡価格",
    "abatement used": "採用された削減量",
    "whole curve": "曲線全体",
    "axis cut of the panel above": "上のパネルの軸の切れ目",
    "cumulative abatement over": "累積削減量",
    "BAU emissions": "BAU排出量",
    "cap (period cap / years)": "排出上限 (期間の上限 / 年数)",
    "emissions and cap": "排出量と排出上限",
    "median of draws": "試行の中央値",
    "each draw": "各試行",
    "of draws": "の試行",
    "median": "中央値",
    "mean": "平均",
    "lowest to highest": "最小から最大",
    "sum over the period's years": "期間内の年の合計",
    "net position (bought - sold)": "純ポジション (購入 - 売却)",
    "all periods": "全期間",
    "all years": "全年度",
    "sum": "合計",
    "move between administrators": "が管理者間で移転",
    "failed, not shown": "失敗 (非表示)",
    "sweep point": "スイープ点",
    "top": "上位",
    "prefectures": "都道府県",
    "sectors": "部門",
    "other": "その他",
    "seed": "シード",
    "markets": "市場",
    "compliance factor": "削減義務率",
    "share of base-year emissions": "基準年排出量に対する割合",
    "general category": "一般区分",
    "national market": "国制度",
    "regional market": "地域制度",
    "Total cost; gain vs": "総費用と基準からの便益: 基準 =",
    "price": "価格",
    "by sector": "(部門別)",
    "by prefecture": "(都道府県別)",
    "by administrator": "(管理者別)",
}

#: the one table: English -> Japanese (sector labels also as figures write them, "power coal")
JA: dict[str, str] = {
    **PHRASES_JA,
    **{k.replace("_", " "): v for k, v in SECTORS_JA.items()},
    **VARIABLES_JA,
    **UNITS_JA,
    **SECTORS_JA,
    **MARKETS_JA,
    **PREFECTURES_JA,
    **DESIGNATED_CITIES_JA,
}


def word(text: str, lang: str = "en") -> str:
    """One name in ``lang``: an exact entry of :data:`JA` (a market, sector, prefecture,
    variable); else ``text`` unchanged. A split market (``regional/Tokyo``) is translated part by
    part (``地域制度/東京都``)."""
    if lang != "ja":
        return text
    if text in JA:
        return JA[text]
    if "/" in text and not text.startswith("/"):
        return "/".join(JA.get(part, part) for part in text.split("/"))
    return text


#: whole texts that phrases cannot translate (the Japanese order differs): an English pattern
#: (matched against the whole text) and its Japanese form; the captured parts (numbers with units,
#: run names) are translated phrase by phrase and put in their places
TEMPLATES_JA: tuple[tuple[str, str], ...] = (
    (
        r"axis cut at (?P<x>.+?):\s+the last (?P<q>.+?) cost up to\s+(?P<y>.+?) \(whole curve below\)",
        "{x} で軸を省略:\n残りの {q} の費用は最大\n{y} (曲線全体は下の図)",
    ),
    (r"Comparison of (?P<runs>.+) \(costs against (?P<first>.+)\)", "{runs} の比較 (費用は {first} との差)"),
    (r"(?P<runs>.+) and (?P<n>\d+) more", "{runs} ほか {n} 件"),
    (
        r"(?P<d>\S+) bn JPY(?P<share> \([^)]*\))?:\s+the same cost as (?P<first>.+)",
        "{d} 十億円{share}:\n{first} と同じ費用",
    ),
    (
        r"(?P<d>\S+) bn JPY(?P<share> \([^)]*\))?:\s+more cost than (?P<first>.+)",
        "{d} 十億円{share}:\n{first} より費用が多い",
    ),
    (
        r"(?P<d>\S+) bn JPY(?P<share> \([^)]*\))?:\s+less cost than (?P<first>.+)",
        "{d} 十億円{share}:\n{first} より費用が少ない",
    ),
    (r"total cost minus (?P<first>.+)'s \((?P<unit>.+)\)", "総費用 − {first} の総費用 ({unit})"),
    (r"Total cost against (?P<first>.+) \((?P<x>\S+) bn JPY\)", "{first} に対する総費用の差 ({first}: {x} 十億円)"),
    (r"other data: not compared", "異なるデータ: 比較しない"),
)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(en, re.DOTALL), ja) for en, ja in TEMPLATES_JA]


@cache
def _pattern() -> re.Pattern[str]:
    keys = sorted(JA, key=len, reverse=True)
    alternatives = []
    for k in keys:
        # a phrase may be broken over lines in a figure ("sum\nover the period's years")
        body = re.escape(k).replace("\\ ", r"\s+")
        # whole words for Latin text: 'cap' is not replaced inside 'capacity'
        left = r"(?<![A-Za-z_])" if k[0].isalnum() else ""
        right = r"(?![A-Za-z_])" if k[-1].isalnum() else ""
        alternatives.append(left + body + right)
    return re.compile("|".join(alternatives))


def translate(text: str, lang: str = "en") -> str:
    """Free text (a title, an axis label, a legend) in ``lang``: a whole text of
    :data:`TEMPLATES_JA` in its Japanese form, else every phrase of :data:`JA` it contains
    replaced (longest first, whole words, also where a line break stands for a space), commas
    inside brackets as Japanese commas."""
    if lang != "ja" or not text:
        return text
    for pattern, ja in _templates():
        m = pattern.fullmatch(text)
        if m is not None:
            return ja.format(**{k: translate(v or "", lang) for k, v in m.groupdict().items()})
    out = _pattern().sub(lambda m: JA[" ".join(m.group(0).split())], text)
    return out.replace(", ", "、") if out != text else out


def unit_text(units: str, money: str = "", lang: str = "en") -> str:
    """A variable's unit as a table header shows it: ``JPY/t CO2, each year's money``, with t of
    CO2 (``t CO2``) and no unit for counts and shares given as ``1``."""
    text = {"t": "t CO2", "JPY/t": "JPY/t CO2", "1": "", "None": ""}.get(units, units)
    if money and "JPY" in units:
        text = f"{text}, {money}" if text else money
    return translate(text, lang)


def header(name: str, attrs: dict, lang: str = "en") -> str:
    """The readable header of a results variable's column: ``"<long_name> (<unit>)"``."""
    what = str(attrs.get("long_name", name)) or name
    unit = unit_text(str(attrs.get("units", "")), str(attrs.get("money", "")), lang)
    what = word(what, lang) if lang == "ja" and what in JA else translate(what, lang)
    return f"{what} ({unit})" if unit else what


# ---------------------------------------------------------------------------------------
# the Japanese font
# ---------------------------------------------------------------------------------------


def japanese_font_path() -> Path:
    """The IPAexGothic file shipped by the ``matplotlib-fontja`` package (found without importing
    it); FileNotFoundError when the package is missing."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the package matplotlib-fontja (the Japanese font) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"
    if not path.is_file():
        raise FileNotFoundError(f"the Japanese font file is missing: {path}")
    return path


@cache
def use_japanese_font() -> str:
    """Register the packaged Japanese font with matplotlib (once) and return its family name."""
    from matplotlib import font_manager

    path = japanese_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _localize(text: str, lang: str) -> str:
    return word(text, lang) if text in JA else translate(text, lang)


def localize_figure(fig: Figure, lang: str = "en") -> Figure:
    """The hook of ``--lang``: with ``ja``, every text of ``fig`` (titles, axis labels, legends,
    annotations, fixed tick labels such as prefecture names) in Japanese, in the packaged
    Japanese font (whose glyphs cover kanji, kana and Latin text). Unchanged for ``en``."""
    if lang != "ja":
        return fig
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    family = use_japanese_font()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, FixedFormatter):
                fmt.seq = [_localize(s, lang) for s in fmt.seq]
            elif isinstance(fmt, FuncFormatter) and isinstance(fmt.func, functools.partial):
                # labels given with the ticks (ax.set_yticks(y, names)): a dict of tick -> label
                fixed = next((a for a in fmt.func.args if isinstance(a, dict)), None)
                if fixed is not None:
                    for k, v in fixed.items():
                        fixed[k] = _localize(str(v), lang)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    label.set_fontfamily(family)
    for t in fig.findobj(Text):
        text = t.get_text()
        t.set_text(_localize(text, lang))
        t.set_fontfamily(family)
    return fig


def figure_font_context(lang: str = "en"):
    """A matplotlib rc context for drawing a figure in ``lang``: the Japanese font as the default
    family with ``ja`` (tick labels made at draw time use it), nothing changed otherwise."""
    import matplotlib

    if lang != "ja":
        return matplotlib.rc_context()
    return matplotlib.rc_context({"font.family": [use_japanese_font()]})
