"""What the explorer holds and does, without the web page: the controls of a scenario, the
variant their values make, its solve on the held session, saving and exporting.

A control is a dotted scenario key (the key of ``--set``); a variant is the scenario as loaded
with every control that differs from its loaded value given as a ``--set`` override, validated
by :func:`nationcap.config.scenario_from_dict` exactly as ``nationcap validate --set ...``
does, so bad input is refused with the same report. Switching a price floor or ceiling (or a
size threshold) off removes its table from the scenario dict before the overrides are applied.

The session's engine is the exact merit-order engine (``fast``) when it implements the scenario
as loaded, otherwise the Pyomo engine holding its model. A variant the exact engine refuses is
not solved on it: :meth:`Explorer.solve` says why, and solves it with the Pyomo engine only when
asked (``engine="pyomo"``), on a second session sharing the loaded tables.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..config import Scenario, load_scenario, scenario_from_dict
from ..config.overrides import apply_override, parse_override
from ..config.schema import PriceCeiling, PriceFloor
from ..config.writing import scenario_toml
from ..engines.merit_order import unsupported_features
from ..errors import InputError, NationcapError, OutputError, Problem
from ..model.registry import ABATEMENT
from ..session import Run, Session

#: the bands a market can switch on and off, with their defaults
BANDS: dict[str, type[PriceFloor] | type[PriceCeiling]] = {"price_floor": PriceFloor, "price_ceiling": PriceCeiling}
LINK_MODES = ("none", "full", "limited")


@dataclass(frozen=True)
class Control:
    """One input of the page: ``key`` (dotted scenario key), what it is, its loaded value.

    ``kind``: ``"number"``, ``"choice"`` (one of ``choices``), ``"switch"`` (a table on or off:
    the controls whose key starts with it apply only when it is on) or ``"threshold"`` (a number
    or empty: no threshold).
    """

    key: str
    label: str
    kind: str
    value: Any
    group: str
    choices: tuple[str, ...] = ()
    step: float | None = None


def controls_of(scn: Scenario) -> list[Control]:
    """The controls of ``scn``: compliance factors by market, period and category; each market's
    price floor and ceiling (on/off, level in the start year, growth) and size threshold; the
    link (mode, ratio); the discount rate."""
    out: list[Control] = []
    for m, cfg in scn.markets.items():
        group = f"market {m}"
        for p, cats in cfg.compliance_factor.items():
            for c, v in cats.items():
                label = f"factor {p}" + (f" {c}" if len(cats) > 1 else "")
                out.append(Control(f"markets.{m}.compliance_factor.{p}.{c}", label, "number", v, group, step=0.01))
        for band, default in BANDS.items():
            cur = getattr(cfg, band)
            name = band.replace("price_", "")
            out.append(Control(f"markets.{m}.{band}", f"{name} on", "switch", cur is not None, group))
            path = cur if cur is not None else default()
            out.append(
                Control(
                    f"markets.{m}.{band}.start_jpy_per_t",
                    f"{name} JPY/t",
                    "number",
                    path.start_jpy_per_t,
                    group,
                    step=100,
                )
            )
            out.append(
                Control(
                    f"markets.{m}.{band}.growth_rate", f"{name} growth", "number", path.growth_rate, group, step=0.01
                )
            )
        threshold = cfg.select.min_base_t if cfg.select is not None else None
        out.append(
            Control(f"markets.{m}.select.min_base_t", "size threshold t/yr", "threshold", threshold, group, step=1000)
        )
    if len(scn.markets) > 1:
        out.append(Control("link.mode", "link", "choice", scn.link.mode, "link", choices=LINK_MODES))
        out.append(Control("link.ratio", "ratio", "number", scn.link.ratio, "link", step=0.1))
    out.append(Control("discount_rate", "discount rate", "number", scn.discount_rate, "scenario", step=0.005))
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if v is None:
        return ""
    return repr(float(v)) if isinstance(v, float) else str(v)


def _get(d: dict[str, Any], key: str) -> Any:
    node: Any = d
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _delete(d: dict[str, Any], key: str) -> None:
    *head, last = key.split(".")
    node = _get(d, ".".join(head)) if head else d
    if isinstance(node, dict):
        node.pop(last, None)


@dataclass
class Variant:
    """A validated variant: its scenario, its scenario dict and the ``--set`` overrides."""

    scenario: Scenario
    raw: dict[str, Any]
    overrides: list[str]


@dataclass
class Outcome:
    """What one change gave: results (None when refused), the words for the page, timings (s)."""

    run: Run | None = None
    variant: Variant | None = None
    #: the ``--set`` overrides of the change (also when they were refused), and the tables of
    #: the scenario as loaded that the change switched off
    overrides: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    error: str = ""
    exception: NationcapError | None = None
    #: why the exact engine refuses the variant (then it can be solved with Pyomo on request)
    needs_pyomo: list[str] = field(default_factory=list)
    engine: str = ""
    solve_s: float = 0.0
    total_s: float = 0.0


class Explorer:
    """One held session of a scenario and the variants solved on it (thread-safe: one solve at a
    time)."""

    def __init__(self, session: Session):
        self.session = session
        self.controls = controls_of(session.scenario)
        self._by_key = {c.key: c for c in self.controls}
        self._pyomo: Session | None = None
        #: called with each exported results folder (outputs made from it by higher layers)
        self.after_export: Callable[[Path], object] | None = None
        self._last_key: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._lock = threading.Lock()
        #: the last variant solved, and whether the controls have changed since without a solve
        self.last: Outcome | None = None
        self.pending = False
        #: how many variants were solved (the page numbers its changes with it)
        self.n_solved = 0

    @classmethod
    def open(cls, path: str | Path) -> Explorer:
        """Load a scenario file on the exact engine if it implements it, else on Pyomo (held)."""
        exact = not unsupported_features(load_scenario(path))
        return cls(Session.open(path, engine="fast" if exact else "pyomo", hold=True))

    # -- variants --------------------------------------------------------------------------
    def variant(self, values: dict[str, Any]) -> Variant:
        """The variant given by control values (``key -> value``; a missing key keeps its
        loaded value); raises :class:`InputError` with the report ``nationcap validate`` gives."""
        raw, overrides = self.edits(values)
        scn = scenario_from_dict(raw, source=self.session.scenario.source, overrides=tuple(overrides))
        return Variant(scn, raw, overrides)

    def removed(self, values: dict[str, Any]) -> list[str]:
        """The tables of the scenario as loaded that ``values`` switch off."""
        return [c.key for c in self.controls if c.kind == "switch" and c.value and not values.get(c.key, c.value)]

    def edits(self, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(the scenario dict as loaded less the tables switched off, the ``--set`` overrides of
        the controls whose value differs from the loaded one)."""
        raw = copy.deepcopy(self.session.raw)
        vals = {c.key: values.get(c.key, c.value) for c in self.controls}
        off = [c.key for c in self.controls if c.kind == "switch" and not vals[c.key]]
        fresh = [c.key for c in self.controls if c.kind == "switch" and vals[c.key] and not c.value]
        for key in off:
            _delete(raw, key)
        overrides: list[str] = []
        for c in self.controls:
            v = vals[c.key]
            if c.kind == "switch" or any(c.key.startswith(k + ".") for k in off):
                continue
            # a table switched on is made by its level's override (its other keys keep their defaults)
            under_fresh = any(c.key == f"{k}.start_jpy_per_t" for k in fresh)
            if v == c.value and not under_fresh:
                continue
            if c.kind == "threshold":
                market = c.key.split(".")[1]
                if v is None:
                    _delete(raw, c.key)
                    continue
                if _get(raw, f"markets.{market}.select") is None:
                    overrides.append(f'markets.{market}.select.market=["{market}"]')
            overrides.append(f"{c.key}={_toml_value(v)}")
        return raw, overrides

    # -- solving ---------------------------------------------------------------------------
    def solve(self, values: dict[str, Any], engine: str = "auto") -> Outcome:
        """Solve the variant of ``values`` on the held session (``engine="pyomo"``: on the Pyomo
        engine, for a variant the exact engine refuses). Bad input, a refusal or a model error
        come back in the outcome, never as an exception. The variant solved last is not solved
        again (the page's first load shows the solve the command made)."""
        t0 = time.perf_counter()
        out = Outcome()
        self.pending = True
        try:
            out.overrides = self.edits(values)[1]
            out.removed = self.removed(values)
            key = (tuple(out.overrides), tuple(out.removed))
            if self.last is not None and self._last_key == key:  # the state solved last: shown again
                self.pending = False
                return self.last
            out.variant = var = self.variant(values)
            session = self.session
            if session.engine.name == "fast":
                out.needs_pyomo = unsupported_features(var.scenario)
                if out.needs_pyomo and engine != "pyomo":
                    out.total_s = time.perf_counter() - t0
                    return out
                if out.needs_pyomo:
                    session = self._pyomo_session()
            with self._lock:  # a factor change re-derives only the allocations (Session.prepare)
                out.run = session.solve(var.scenario, detail="market", mac_curve=False)
            out.engine = session.engine.name
            out.solve_s = out.run.timings.get("solve", 0.0)
            self.last, self.pending, self._last_key = out, False, key
            self.n_solved += 1
        except NationcapError as exc:
            out.error, out.exception = str(exc), exc
        out.total_s = time.perf_counter() - t0
        return out

    def _pyomo_session(self) -> Session:
        if self._pyomo is None:
            s = self.session
            self._pyomo = Session(s.scenario, s.dataset, "pyomo", hold=True, raw=s.raw)
        return self._pyomo

    # -- from exploration to record --------------------------------------------------------
    def save(self, out: Outcome, path: str | Path, force: bool = False) -> Path:
        """Write the variant of ``out`` as a scenario file that ``nationcap run`` solves to the same
        prices (same engine; ``inputs`` relative to the new file). Never overwrites without
        ``force``; raises :class:`OutputError` where it cannot write."""
        if out.variant is None or out.run is None:
            raise InputError([Problem("explorer", "", "", "nothing solved yet to save")], "explorer")
        path = Path(path).expanduser()
        if path.suffix != ".toml":
            raise InputError([Problem(str(path), "", "", "a scenario file name ends in .toml")], "explorer")
        if path.exists() and not force:
            raise OutputError(f"{path} exists; choose another name")
        scn = out.variant.scenario
        raw = copy.deepcopy(out.variant.raw)
        for text in out.variant.overrides:
            apply_override(raw, *parse_override(text))
        try:  # relative when the new file is near the inputs, else absolute
            rel = os.path.relpath(scn.inputs_path.resolve(), path.resolve().parent)
        except ValueError:  # another drive
            rel = str(scn.inputs_path.resolve())
        if rel.startswith("../../"):
            rel = str(scn.inputs_path.resolve())
        raw["inputs"] = Path(rel).as_posix()
        raw["solver"] = {**raw.get("solver", {}), "engine": out.engine}
        text = scenario_toml(
            _ordered(raw), comment=f"Saved by nationcap explore from {Path(scn.source or '').name or 'a scenario'}"
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path

    def export(self, out: Outcome, out_dir: str | Path) -> Path:
        """Write the full results of the variant of ``out`` (results.nc, CSV tables, run.json),
        as ``nationcap run`` would, into a new folder (and then whatever :attr:`after_export`
        adds to it: the command line adds the workbook and the report)."""
        from ..atomic import check_writable
        from ..results.io import write_results

        if out.variant is None or out.run is None:
            raise InputError([Problem("explorer", "", "", "nothing solved yet to export")], "explorer")
        out_dir = Path(out_dir).expanduser()
        check_writable(out_dir, False)
        session = (
            self._pyomo_session() if out.engine == "pyomo" and self.session.engine.name == "fast" else self.session
        )
        with self._lock:
            run = session.solve(out.variant.scenario)
        folder = write_results(run.results, out_dir)
        if self.after_export is not None:
            self.after_export(folder)
        return folder


def _ordered(raw: dict[str, Any]) -> dict[str, Any]:
    """Scalars first, then the tables, in the scenario's own order (readable files)."""
    first = ("name", "description", "inputs", "discount_rate")
    keys = [k for k in first if k in raw] + [k for k in raw if k not in first]
    return {k: raw[k] for k in keys}


# ------------------------------------------------------------------------------------------
# what the views show, as tables
# ------------------------------------------------------------------------------------------


def marginal_steps(run: Run) -> pd.DataFrame:
    """Which abatement step sets each market's price in each period: the market's partly used
    column (of any period: a bank links them) whose present-value cost is nearest the period's
    present-value price, one of the period itself among equally near ones; if none is partly
    used, the market's column nearest the price. Its sector, prefecture, entity and year.
    Markets without columns are left out."""
    md, res = run.model_data, run.results
    x = np.asarray(run.solution.values[ABATEMENT], dtype=float)
    qty = md.col_qty_t
    pv, col_market, col_period = _column_facts(md)
    ents = md.dataset.entities
    partial = (x > 1e-6 * np.maximum(qty, 1.0)) & (x < qty * (1 - 1e-6))
    rows = []
    shown = [str(m) for m in res["market"].values]
    prices = res.variables["price_pv"].transpose("market", "period").values
    periods = [str(p) for p in res["period"].values]
    for mi, m in enumerate(md.markets):
        sel = col_market == mi
        if not sel.any() or m not in shown:
            continue
        for pi, p in enumerate(md.periods):
            price = float(prices[shown.index(m), periods.index(p)])
            idx = np.flatnonzero(sel & partial)
            if idx.size == 0:
                idx = np.flatnonzero(sel)
            # the nearest cost; among equally near ones, a column of the period itself
            gap = np.abs(pv[idx] - price) + 1e-12 * np.maximum(price, 1.0) * (col_period[idx] != pi)
            j = int(idx[np.argmin(gap)])
            e = ents.loc[md.entities[int(md.col_entity[j])]]
            rows.append(
                {
                    "market": m,
                    "period": p,
                    "price_pv_jpy_per_t": price,
                    "step_cost_pv_jpy_per_t": float(pv[j]),
                    "sector": e["sector"],
                    "prefecture": e["prefecture"],
                    "entity": e.name,
                    "year": md.years[int(md.col_year[j])],
                }
            )
    return pd.DataFrame(rows)


#: (the arrays it was made from, (present-value cost, market, period) of every column): the
#: variants of a held session share their columns, so the last one is kept
_COLUMNS: list[tuple[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]]] = []


def _column_facts(md: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(present-value cost, market, period) of every abatement column of ``md``, kept for the
    same column arrays (compared by identity, held with the values)."""
    arrays = (md.col_cost, md.col_year, md.col_entity, md.discount, md.entity_market, md.year_period)
    if _COLUMNS and all(a is b for a, b in zip(_COLUMNS[0][0], arrays)):
        return _COLUMNS[0][1]
    facts = (md.col_cost * md.discount[md.col_year], md.entity_market[md.col_entity], md.year_period[md.col_year])
    _COLUMNS[:] = [(arrays, facts)]
    return facts


def cost_account(res: xr.Dataset) -> pd.DataFrame:
    """The cost account by market (JPY bn, present value, summed over the periods): the items
    that are not zero throughout, the total cost and the net cost of the covered entities."""
    names = [v for v in res.data_vars if str(v).startswith("account_")] + ["total_cost", "net_cost_covered"]
    markets = pd.Index([str(m) for m in res["market"].values], name="market")
    table = {}
    for v in names:
        if v not in res:
            continue
        # plain arrays: xarray's sum and to_pandas cost more than the table here (NaN skipped as xarray does)
        s = pd.Series(np.nansum(res.variables[v].transpose("market", "period").values, axis=1), index=markets) / 1e9
        if str(v).startswith("account_") and not np.any(np.abs(s.to_numpy()) > 0):
            continue
        table[str(v).removeprefix("account_").replace("_", " ")] = s
    return pd.DataFrame(table).T.round(2)
