"""Dataset folder -> validated tables.

The input contract (documented for users in ``inputs/README.md``) is declared once, as data, in
:data:`nationcap.inputs.contract.TABLES`; :func:`load_dataset` reads a folder, checks every table against it and against the
scenario, and either returns a :class:`Dataset` or raises one :class:`~nationcap.errors.InputError`
listing every problem (file, row or id, column, what is expected).

Extra columns are allowed and carried along unchanged.
"""

from __future__ import annotations

import difflib
import io
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import MAX_ROWS_PER_PROBLEM, Problems
from .contract import TABLES, Table
from .geo import PREFECTURES
from .names import check_scenario_names

if TYPE_CHECKING:
    from ..config import Scenario


#: values a dataset keeps for later layers (:meth:`Dataset.memo`)
MEMO_SIZE = 16


@dataclass
class Dataset:
    """Validated tables of one dataset folder (typed columns, extra columns kept)."""

    path: Path
    meta: dict[str, Any]
    entities: pd.DataFrame  # indexed by entity_id, rows in file order
    bau: pd.DataFrame
    mac: pd.DataFrame
    offsets: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    national_co2_t: dict[int, float] = field(default_factory=dict)
    activity: pd.DataFrame | None = None
    benchmarks: pd.DataFrame | None = None
    #: group labels of entities.csv columns, made once per dataset (:meth:`groups`; not copied by
    #: dataclasses.replace, whose copies may hold other entities)
    _groups: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    #: values derived from these tables by later layers, made once (:meth:`memo`)
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", self.path.name))

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, made once per dataset and ``key``: ``key`` must say everything the value
        depends on besides these tables, by content (never by object identity). Runs, sweep points
        and draws on these tables share the value (e.g. results coordinates whose indexes are
        costly to build); at most :data:`MEMO_SIZE` values are kept."""
        if key not in self._memo:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = make()
        return self._memo[key]

    def groups(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(sorted labels, each entity's position among them) of an ``entities.csv`` column, made
        once per dataset: every run, sweep point and draw on these tables shares them."""
        if column not in self._groups:
            key = self.entities[column].to_numpy().astype(str)
            labels = np.array(sorted(set(key)), dtype=str)
            self._groups[column] = (labels, pd.Index(labels).get_indexer(key))
        return self._groups[column]


# ---------------------------------------------------------------------------------------


def _rows(df: pd.DataFrame, mask: np.ndarray) -> list[str]:
    """Human row labels for the rows selected by ``mask``: CSV line number (header = line 1)."""
    idx = np.flatnonzero(mask)
    if "entity_id" in df.columns:
        ids = df["entity_id"].to_numpy()
        return [f"row {i + 2} (entity_id {ids[i]})" if str(ids[i]).strip() else f"row {i + 2}" for i in idx]
    return [f"row {i + 2}" for i in idx]


def _padded(data: bytes) -> bool:
    """Whether a cell of the CSV file's bytes ``data`` may start or end with white space that
    ``read_csv(skipinitialspace=True)`` keeps (a trailing space, a tab, any non-ASCII text such as
    an ideographic space): only then are the cells stripped one by one (slow on large tables)."""
    if not data.isascii() or any(c in data for c in (b"\t", b"\f", b"\v")):
        return True
    # a space before a separator, a line end or a closing quote, or after an opening quote
    signs = (b" ,", b" \n", b" \r", b' ",', b' "\n', b' "\r', b'\n" ', b'," ')
    return any(sign in data for sign in signs) or data.endswith((b" ", b' "')) or data.startswith(b'" ')


def _numbers(text: pd.Series) -> np.ndarray:
    """The cells of ``text`` as floats, NaN where a cell is not a number (to be reported): numpy's
    parser when every cell parses (the usual case, fast), else pandas' cell by cell."""
    with np.errstate(over="ignore"):
        try:
            return text.to_numpy(dtype=object).astype(np.float64)
        except (ValueError, TypeError):
            return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def _read_csv(path: Path, table: Table, problems: Problems) -> pd.DataFrame | None:
    fname = str(path)
    expected = [c.name for c in table.columns]
    data = path.read_bytes()  # read once: for the padding test and for pandas
    try:
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError:
        problems.add(fname, *_not_utf8(path))
        return None
    except pd.errors.EmptyDataError:
        problems.add(fname, "", "", f"the file is empty; it needs a header line ({','.join(expected)}) and data rows")
        return None
    except pd.errors.ParserError as exc:
        problems.add(fname, "", "", f"cannot be read as CSV: {exc}")
        return None
    raw.columns = [c.strip() for c in raw.columns]
    padded = _padded(data)
    found = list(raw.columns)
    missing = [name for name in expected if name not in found]
    if missing:
        sep = _separator(found) if not set(expected) & set(found) else None
        if sep:
            problems.add(
                fname,
                "header",
                "",
                f"the file seems to be separated by {sep} (its header reads as one column); use commas: "
                f"save it as comma-separated CSV with the columns {expected}",
            )
            return None
        for name in missing:
            hint = _closest_column(name, [c for c in found if c not in expected])
            problems.add(
                fname,
                "header",
                name,
                f"required column is missing{hint}; expected the columns {expected}, found {found}",
            )
        return None
    # rows with no value at all: the ones a spreadsheet leaves at the end (",,,,") are dropped; one
    # between data rows is reported once (not once per cell)
    cells = raw.apply(lambda c: c.str.strip()) if padded else raw
    blank = (cells == "").all(axis=1).to_numpy() if len(raw.columns) else np.zeros(0, bool)
    if blank.any():
        last = len(blank) - int(np.argmin(blank[::-1])) if not blank.all() else 0
        raw = raw.iloc[:last]
        blank = blank[:last]
        if blank.any():
            problems.add_rows(fname, _rows(raw, blank), "", "the row is empty; delete it")
    out = raw.copy()
    cols = table.columns + tuple(c for c in table.optional_columns if c.name in raw.columns)
    for col in cols:
        text = raw[col.name].str.strip() if padded else raw[col.name]
        empty = (text == "").to_numpy()
        missing = empty & ~blank
        if missing.any() and not col.empty_ok:
            problems.add_rows(fname, _rows(raw, missing), col.name, "value is missing")
        if col.kind == "str":
            if col.aliases is not None:  # 東京都 -> Tokyo: one name whichever way it was written
                text = text.map(lambda v, a=col.aliases: a.get(v, v))
            out[col.name] = text
            if col.choices is not None:  # (never with empty_ok)
                bad = ~text.isin(col.choices).to_numpy() & ~empty
                if bad.any():
                    vals = sorted(set(text[bad]))
                    shown = ", ".join(repr(v) for v in vals[:5])
                    hint = (
                        "one of the 47 prefectures, e.g. 'Tokyo', 'Hokkaido', 'Osaka' (or in kanji: '東京都')"
                        if col.choices is PREFECTURES
                        else f"one of {list(col.choices)}"
                    )
                    problems.add_rows(fname, _rows(raw, bad), col.name, f"unknown value ({shown}); expected {hint}")
            continue
        values = _numbers(text)
        bad = ~np.isfinite(values) & ~empty
        # "inf", "nan", "1e400" parse as numbers that are not finite; "abc" or "1,500" do not parse
        spelled = np.zeros(len(values), dtype=bool)  # (string methods only on the bad rows: slow per row)
        if bad.any():
            spelled[bad] = text[bad].str.lower().str.lstrip("+-").isin(["inf", "infinity", "nan"]).to_numpy()
        nonfinite = bad & (spelled | ~np.isnan(values))
        nonnum = bad & ~nonfinite
        values = np.where(bad, np.nan, values)
        expected_kind = f"a {'whole number' if col.kind == 'int' else 'number'} ({col.unit or 'dimensionless'})"
        if nonfinite.any():
            shown_values = ", ".join(repr(v) for v in sorted(set(text[nonfinite]))[:5])
            problems.add_rows(
                fname,
                _rows(raw, nonfinite),
                col.name,
                f"non-finite number {shown_values} (infinite, NaN, or too large for a 64-bit float); "
                f"expected a finite {expected_kind[2:]}",
            )
        if nonnum.any():
            problems.add_rows(fname, _rows(raw, nonnum), col.name, f"not a number; expected {expected_kind}")
        ok = ~np.isnan(values)
        if col.kind == "int":
            frac = ok & (np.abs(values - np.round(values)) > 0)
            if frac.any():
                problems.add_rows(fname, _rows(raw, frac), col.name, "expected a whole number")
        note = f"; {col.bound_note}" if col.bound_note else ""
        if col.lo is not None:
            low = ok & (values < col.lo)
            if low.any():
                what = "negative value" if col.lo == 0 else f"value below {col.lo:g} {col.unit}".rstrip()
                problems.add_rows(
                    fname,
                    _rows(raw, low),
                    col.name,
                    f"{what}; expected >= {col.lo:g}{'' if col.lo == 0 else note}",
                )
        if col.hi is not None:
            high = ok & (values > col.hi)
            if high.any():
                if col.bound_note:
                    msg = f"value above {col.hi:g} {col.unit}; expected at most {col.hi:g}{note}"
                else:
                    msg = f"value above {col.hi:g}; expected a share in [{col.lo:g}, {col.hi:g}]"
                problems.add_rows(fname, _rows(raw, high), col.name, msg)
        if col.kind == "int":
            out[col.name] = np.where(ok, np.round(values), -1).astype(np.int64)
        else:
            out[col.name] = values
    return out


def _not_utf8(path: Path) -> tuple[str, str, str]:
    """(where, column, message) for a file that is not UTF-8: the line of the first bad byte and
    the fix; Shift-JIS (cp932, what Excel saves on Japanese Windows) is named when it decodes."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    line = data[:start].count(b"\n") + 1
    try:
        data.decode("cp932")
        guess = "it looks like Shift-JIS (cp932), as Excel saves CSV on Japanese Windows"
    except UnicodeDecodeError:
        guess = "it is in another encoding"
    return (
        f"line {line}",
        "",
        f"the file is not UTF-8 text ({guess}); save {path.name} as UTF-8 "
        "(in Excel: 'CSV UTF-8 (Comma delimited)') and run again",
    )


def _separator(found: list[str]) -> str | None:
    """``"';'"`` when a header read with commas is one column that holds another separator."""
    if len(found) != 1:
        return None
    for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
        if sep in found[0]:
            return name
    return None


def _closest_column(name: str, found: list[str]) -> str:
    """``" (found 'Entity_ID': rename it to 'entity_id')"``: a found column that differs from the
    expected one only in case, spaces or hyphens, else the closest by spelling; or ``""``."""

    def norm(c: str) -> str:
        return c.strip().lower().replace(" ", "_").replace("-", "_")

    for c in found:
        if norm(c) == name:
            return f" (found '{c}': column names are lower case with underscores; rename it to '{name}')"
    match = difflib.get_close_matches(name, found, n=1, cutoff=0.75)
    if match:
        return f" (found '{match[0]}': a typo? rename it to '{name}')"
    return ""


def _check_ids(df: pd.DataFrame, fname: str, known: pd.Index | None, problems: Problems) -> np.ndarray:
    """Rows whose entity_id is not in entities.csv; returns the mask of known rows.

    ``known`` is None when entities.csv has no usable rows; then every id is taken as known, since
    that one problem is reported instead of an unknown id for every row of every table."""
    ids = df["entity_id"].to_numpy()
    if known is None:
        return np.ones(len(ids), dtype=bool)
    unknown = ~pd.Index(ids).isin(known) & (ids != "")
    if unknown.any():
        problems.add_rows(
            fname, _rows(df, unknown), "entity_id", "unknown entity_id; every id must appear in entities.csv"
        )
    return ~unknown


def load_dataset(path: str | Path, scenario: Scenario | None = None) -> Dataset:
    """Read and validate a dataset folder; with a scenario also check markets and model years."""
    path = Path(path)
    problems = Problems(context=f"dataset {path}")
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "dataset folder not found"
        problems.add(str(path), "", "", f"{what}; check the scenario's 'inputs' key (the dataset folder)")
        problems.raise_if_any()

    meta: dict[str, Any] = {}
    meta_path = path / "dataset.toml"
    if not meta_path.is_file():
        problems.add(
            str(meta_path), "", "", "file is missing; every dataset folder needs a dataset.toml (see inputs/README.md)"
        )
    else:
        try:
            meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            problems.add(str(meta_path), "", "", f"not valid TOML: {exc}")
        except UnicodeDecodeError as exc:
            problems.add(str(meta_path), f"byte {exc.start}", "", "not UTF-8 text; save the file as UTF-8")
    national = _national_totals(meta, meta_path, problems)

    frames: dict[str, pd.DataFrame | None] = {}
    for key, table in TABLES.items():
        fpath = path / table.file
        if not fpath.is_file():
            if table.required:
                problems.add(
                    str(fpath), "", "", f"required file is missing ({table.description}); see inputs/README.md"
                )
            frames[key] = None
            continue
        frames[key] = _read_csv(fpath, table, problems)

    ent = frames["entities"]
    if ent is not None:
        _check_entities(ent, str(path / "entities.csv"), scenario, problems)
        known: pd.Index | None = pd.Index(ent["entity_id"])
        if ent.empty:
            problems.add(
                str(path / "entities.csv"),
                "",
                "",
                "entities.csv has no rows (only a header); add one row per covered entity (see inputs/README.md). "
                "Entity ids of the other files are not checked until it has rows",
            )
            known = None
        if frames["bau"] is not None:
            _check_bau(frames["bau"], str(path / "bau.csv"), ent, known, scenario, problems)
        if frames["mac"] is not None:
            _check_mac(frames["mac"], str(path / "mac.csv"), known, problems)
        if frames["history"] is not None:
            h = frames["history"]
            _check_ids(h, str(path / "history.csv"), known, problems)
            dup = h.duplicated(["entity_id", "fiscal_year"], keep="first").to_numpy()
            if dup.any():
                problems.add_rows(
                    str(path / "history.csv"), _rows(h, dup), "fiscal_year", "duplicate (entity_id, fiscal_year) row"
                )
        _check_activity(frames, path, ent, known, problems)
    # with market selections, labels need not name a market (nationcap/derive/scope.py checks them)
    if frames["offsets"] is not None and scenario is not None and not scenario.has_selections:
        off = frames["offsets"]
        bad = ~off["market"].isin(list(scenario.markets)).to_numpy() & (off["market"] != "").to_numpy()
        if bad.any():
            problems.add_rows(
                str(path / "offsets.csv"),
                _rows(off, bad),
                "market",
                f"unknown market; the scenario defines {list(scenario.markets)}",
            )
    if scenario is not None and ent is not None:
        check_scenario_names(scenario, ent, frames["offsets"], path, problems)

    problems.raise_if_any()
    assert ent is not None and frames["bau"] is not None and frames["mac"] is not None
    return Dataset(
        path=path,
        meta=meta,
        entities=ent.set_index("entity_id", drop=False),
        bau=frames["bau"],
        mac=frames["mac"],
        offsets=frames["offsets"],
        history=frames["history"],
        national_co2_t=national,
        activity=frames["activity"],
        benchmarks=frames["benchmarks"],
    )


def _check_activity(
    frames: dict[str, pd.DataFrame | None], path: Path, ent: pd.DataFrame, known: pd.Index | None, problems: Problems
) -> None:
    """activity.csv ids and duplicates, benchmarks.csv duplicates, and every benchmark group named
    in entities.csv present in benchmarks.csv (which years are needed is checked with the scenario,
    ``nationcap/derive/allocation.py``)."""
    act, bm = frames["activity"], frames["benchmarks"]
    if act is not None:
        _check_ids(act, str(path / "activity.csv"), known, problems)
        dup = act.duplicated(["entity_id", "year"], keep="first").to_numpy()
        if dup.any():
            problems.add_rows(str(path / "activity.csv"), _rows(act, dup), "year", "duplicate (entity_id, year) row")
    if bm is not None:
        dup = bm.duplicated(["benchmark", "year"], keep="first").to_numpy()
        if dup.any():
            problems.add_rows(str(path / "benchmarks.csv"), _rows(bm, dup), "year", "duplicate (benchmark, year) row")
    if "benchmark" not in ent.columns:
        return
    named = ent["benchmark"].to_numpy() != ""
    have = set() if bm is None else set(bm["benchmark"])
    bad = named & ~ent["benchmark"].isin(have).to_numpy()
    if bad.any():
        vals = ", ".join(repr(v) for v in sorted(set(ent["benchmark"][bad]))[:5])
        problems.add_rows(
            str(path / "entities.csv"),
            _rows(ent, bad),
            "benchmark",
            f"benchmark group ({vals}) not in benchmarks.csv; add its rows there or leave the cell empty",
        )


def _national_totals(meta: dict[str, Any], meta_path: Path, problems: Problems) -> dict[int, float]:
    table = meta.get("national_co2_t", {})
    out: dict[int, float] = {}
    if not isinstance(table, dict):
        problems.add(str(meta_path), "key 'national_co2_t'", "", "must be a table of year = tonnes")
        return out
    for k, v in table.items():
        try:
            year = int(k)
            val = float(v)
        except (TypeError, ValueError):
            problems.add(str(meta_path), f"key 'national_co2_t.{k}'", "", "expected year = tonnes of CO2 (a number)")
            continue
        if not (val > 0 and math.isfinite(val)):
            problems.add(
                str(meta_path),
                f"key 'national_co2_t.{k}'",
                "",
                f"national total must be positive and finite, got {val}",
            )
        out[year] = val
    return out


def _check_entities(ent: pd.DataFrame, fname: str, scenario: Scenario | None, problems: Problems) -> None:
    dup = ent["entity_id"].duplicated(keep="first").to_numpy() & (ent["entity_id"] != "").to_numpy()
    if dup.any():
        problems.add_rows(fname, _rows(ent, dup), "entity_id", "duplicate entity_id; ids must be unique")
    if scenario is not None and not scenario.has_selections:
        bad = ~ent["market"].isin(list(scenario.markets)).to_numpy() & (ent["market"] != "").to_numpy()
        if bad.any():
            vals = ", ".join(repr(v) for v in sorted(set(ent["market"][bad]))[:5])
            problems.add_rows(
                fname,
                _rows(ent, bad),
                "market",
                f"unknown market ({vals}); the scenario defines {list(scenario.markets)}: add a "
                f"[markets.<name>] table to the scenario or fix the value",
            )


def _check_bau(
    bau: pd.DataFrame,
    fname: str,
    ent: pd.DataFrame,
    known: pd.Index | None,
    scenario: Scenario | None,
    problems: Problems,
) -> None:
    ok = _check_ids(bau, fname, known, problems)
    dup = bau.duplicated(["entity_id", "year"], keep="first").to_numpy()
    if dup.any():
        problems.add_rows(fname, _rows(bau, dup), "year", "duplicate (entity_id, year) row")
    if bau.empty and not ent.empty:
        problems.add(
            fname,
            "",
            "",
            "bau.csv has no rows (only a header); every entity needs a row for every model year (see inputs/README.md)",
        )
        return
    if scenario is None:
        return
    have = pd.MultiIndex.from_frame(bau.loc[ok, ["entity_id", "year"]])
    need = pd.MultiIndex.from_product([ent["entity_id"].unique(), scenario.years], names=["entity_id", "year"])
    missing = need.difference(have)
    if len(missing):
        per_entity: dict[str, list[int]] = {}
        for eid, y in missing:
            per_entity.setdefault(eid, []).append(int(y))
        rows = [f"entity_id {eid}" for eid in per_entity]
        years = sorted({y for ys in per_entity.values() for y in ys})
        problems.add_rows(
            fname,
            rows,
            "bau_emissions_t",
            f"BAU missing for model year(s) {years[:10]}{'...' if len(years) > 10 else ''}; "
            f"every entity needs a row for every model year {scenario.years[0]}..{scenario.years[-1]}",
        )


def _check_mac(mac: pd.DataFrame, fname: str, known: pd.Index | None, problems: Problems) -> None:
    _check_ids(mac, fname, known, problems)
    keys = ["entity_id", "step"] + (["year"] if "year" in mac.columns else [])
    dup = mac.duplicated(keys, keep="first").to_numpy()
    if dup.any():
        problems.add_rows(fname, _rows(mac, dup), "step", f"duplicate ({', '.join(keys)}) row")
    group = ["entity_id"] + (["year"] if "year" in mac.columns else [])
    share = np.nan_to_num(mac["abatement_share"].to_numpy(dtype=float))
    sums = pd.Series(share).groupby([mac[g] for g in group]).transform("sum").to_numpy()
    over = sums > 1.0 + 1e-9
    if over.any():
        # report each offending entity once (its first row)
        first = over & ~mac.duplicated(group, keep="first").to_numpy()
        rows = _rows(mac, first)
        for where, total in list(zip(rows, sums[first]))[:MAX_ROWS_PER_PROBLEM]:
            problems.add(
                fname,
                where,
                "abatement_share",
                f"the shares of this entity sum above 1 ({total:.4f}); an entity cannot abate more than its BAU emissions",
            )
        if len(rows) > MAX_ROWS_PER_PROBLEM:
            problems.add(
                fname, f"and {len(rows) - MAX_ROWS_PER_PROBLEM} more entities", "abatement_share", "shares sum above 1"
            )
