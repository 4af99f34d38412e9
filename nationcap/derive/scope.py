"""Who is covered: a scenario's market selections and splits, resolved against the dataset.

A market table of the scenario covers, without ``select``, the entities whose entities.csv
``market`` label is the table's name (as the dataset was made). With ``select`` it covers the
entities matching every key given (each list matches any of its values)::

    [markets.regional]
    select = { market = ["regional"], min_base_t = 25000 }
    split_by = "administrator"

``min_base_t`` / ``max_base_t`` bound base-year emissions as the allocation uses them (the
table's ``base_year`` rule: entities.csv, or Tokyo's highest 3-year average of history.csv),
inclusive. ``split_by`` turns the table into one market per administrator (or prefecture) of its
entities, named ``<table>/<group>`` (``regional/Tokyo``), each with the table's rules and its own
cap, bank and price; groups are in sorted order after the tables before them.

:func:`resolve` returns a :class:`Scope`: the scenario with one plain market table per resolved
market, and a copy of the dataset holding only the covered entities (their ``market`` column set
to the resolved market, the entities.csv label kept as ``dataset_market``). Everything after it
(allocation, the model, every engine) sees an ordinary scenario and dataset, which is why
selections and splits work wherever the rules used do.

Uncovered entities (selected by no market, when some market selects) emit their BAU; they are
kept in :attr:`Scope.uncovered` for the coverage accounting. An entity selected by two markets is
an error naming both. Offsets. offsets.csv rows belong to the market table of their ``market``
label; a split table's supply is divided among its markets in proportion to their base-year
emissions (each step keeps its cost, its quantity is shared); rows whose label names no market
table are not used. The table's other volumes are shared the same way, so the split markets
together have what the table states, not one copy each: every reserve tranche's ``volume_t`` and
the band's ``floor_volume_limit_t`` / ``ceiling_volume_limit_t`` (t per year; a market with a 2 %
share of the table's base-year emissions gets 2 % of each). Prices, triggers and the rules stated
as shares of a market's own cap or of an entity's reduction (imports, auctions, offset limits)
apply to each market as written.

Without ``select`` and ``split_by`` anywhere, :func:`resolve` returns the scenario and dataset
unchanged (the same objects), so results are what they were before selections existed.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd

from ..config import Scenario
from ..config.schema import SPLIT_SEP, MarketConfig
from ..errors import MAX_ROWS_PER_PROBLEM, Problems
from ..inputs.names import select_label_problems
from ..inputs.tables import Dataset
from .allocation import base_emissions


@dataclasses.dataclass(frozen=True)
class Scope:
    """A scenario's selections and splits resolved against one dataset (module doc)."""

    source: Scenario  #: the scenario as written (with ``select`` / ``split_by``)
    scenario: Scenario  #: one plain table per resolved market
    dataset: Dataset  #: covered entities only; ``market`` = resolved market
    all_entities: pd.DataFrame  #: every entity of the dataset (entities.csv order)
    entity_index: np.ndarray  #: (E,) position in ``all_entities`` of each covered entity
    uncovered: pd.DataFrame  #: entities.csv rows of the entities no market covers
    uncovered_bau_t: np.ndarray  #: (U, Y) their BAU emissions in the model years, t
    origin: dict[str, tuple[str, str | None]]  #: market -> (scenario table, split group or None)
    input: Dataset | None = None  #: the dataset it was resolved on (all entities)
    #: split market -> its share of its table's base-year emissions (the weight of every volume
    #: of the table it gets: offsets, reserve tranches, band volume limits); empty without splits
    shares: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether the scenario selects or splits at all (else everything is as in the dataset)."""
        return self.scenario is not self.source


def has_scope(scn: Scenario) -> bool:
    """Whether any market table selects its entities or is split."""
    return any(mc.select is not None or mc.split_by is not None for mc in scn.markets.values())


def _key(scn: Scenario) -> str:
    d = {m: (mc.select, mc.split_by, mc.base_year) for m, mc in scn.markets.items()}
    periods = [(p.name, p.first_year, p.last_year) for p in scn.periods]
    return json.dumps([repr(d), periods], sort_keys=True)


def resolve(scn: Scenario, ds: Dataset, previous: Scope | None = None) -> Scope:
    """The :class:`Scope` of ``scn`` on ``ds`` (module doc); raises one
    :class:`~nationcap.errors.InputError` naming every problem: an unknown label in a selection,
    a market that selects no entity, entities selected by two markets.

    ``previous`` (a session's last scope) is re-used when it was resolved on the same dataset
    object with the same selections: sweep points over factors then share the covered dataset,
    so a held model can be re-solved in place.
    """
    if not has_scope(scn):
        ent = ds.entities
        return Scope(
            source=scn,
            scenario=scn,
            dataset=ds,
            all_entities=ent,
            entity_index=np.arange(len(ent)),
            uncovered=ent.iloc[:0],
            uncovered_bau_t=np.zeros((0, len(scn.years))),
            origin={m: (m, None) for m in scn.markets},
        )
    if previous is not None and previous.input is ds and previous.active and _key(previous.source) == _key(scn):
        if previous.source == scn:
            return previous
        # same selections, other rules (a sweep over factors): the same entities and dataset
        return dataclasses.replace(previous, source=scn, scenario=_expanded(scn, previous.origin, previous.shares))
    return _resolve(scn, ds)


def _expanded(scn: Scenario, origin: dict[str, tuple[str, str | None]], shares: dict[str, float]) -> Scenario:
    """``scn`` with one plain table per resolved market (the split tables' rules copied, their
    volumes shared: :func:`_shared_volumes`)."""
    plain = {"select": None, "split_by": None}
    markets: dict[str, MarketConfig] = {}
    for name, (table, group) in origin.items():
        cfg = scn.markets[table]
        update = plain if group is None else {**plain, **_shared_volumes(cfg, shares.get(name, 0.0))}
        markets[name] = cfg.model_copy(update=update)
    return scn.model_copy(update={"markets": markets})


def _shared_volumes(cfg: MarketConfig, share: float) -> dict:
    """A split market's part of its table's volumes: the band's ``floor_volume_limit_t`` and
    ``ceiling_volume_limit_t`` and every reserve tranche's ``volume_t`` (t per year) times the
    market's ``share`` of the table's base-year emissions, so the split markets together have
    what the table states, once (module doc). Prices, triggers and shares of the cap are kept."""
    out: dict = {}
    for key in ("floor_volume_limit_t", "ceiling_volume_limit_t"):
        if getattr(cfg, key) is not None:
            out[key] = float(getattr(cfg, key)) * share
    if cfg.reserve is not None:
        out["reserve"] = cfg.reserve.model_copy(
            update={
                side: [
                    tr.model_copy(update={"volume_t": float(tr.volume_t) * share}) for tr in getattr(cfg.reserve, side)
                ]
                for side in ("release", "withhold")
            }
        )
    return out


def _resolve(scn: Scenario, ds: Dataset) -> Scope:
    ent = ds.entities
    fname = str(ds.path / "entities.csv")
    problems = Problems(context=f"market selections of scenario {scn.name!r} on dataset {ds.path}")
    n = len(ent)
    select_label_problems(scn, ent, fname, problems)  # a label no entity has, with the closest one
    member = {}
    base_of: dict[str, pd.Series] = {}
    for m, cfg in scn.markets.items():
        sel = cfg.select
        if sel is None:
            mask = (ent["market"] == m).to_numpy()
        else:
            mask = np.ones(n, dtype=bool)
            for col, values in sel.labels().items():
                mask &= ent[col].astype(str).isin(values).to_numpy()
            if (sel.min_base_t is not None or sel.max_base_t is not None) and mask.any():
                base = _base_t(scn, ds, m, cfg, mask)
                base_of[m] = base
                b = base.to_numpy()
                if sel.min_base_t is not None:
                    mask &= np.isfinite(b) & (b >= sel.min_base_t)
                if sel.max_base_t is not None:
                    mask &= np.isfinite(b) & (b <= sel.max_base_t)
        if not mask.any() and (sel is not None or cfg.split_by is not None):
            problems.add(
                str(scn.source or "scenario"),
                f"key 'markets.{m}'",
                "",
                f"the market covers no entity of {fname}: widen its select (or remove the market)",
            )
        member[m] = mask
    # every entity in at most one market
    stack = np.array(list(member.values())) if member else np.zeros((0, n), dtype=bool)
    twice = stack.sum(axis=0) > 1
    if twice.any():
        names = list(member)
        pairs: dict[tuple[str, ...], list[str]] = {}
        for i in np.flatnonzero(twice):
            pairs.setdefault(tuple(names[k] for k in np.flatnonzero(stack[:, i])), []).append(str(ent.index[i]))
        for markets, ids in pairs.items():
            shown = ", ".join(ids[:MAX_ROWS_PER_PROBLEM]) + (
                f" and {len(ids) - MAX_ROWS_PER_PROBLEM} more" if len(ids) > MAX_ROWS_PER_PROBLEM else ""
            )
            problems.add(
                fname,
                f"{len(ids)} entities ({shown})",
                "market",
                f"selected by markets {' and '.join(repr(x) for x in markets)}: an entity belongs to one market; "
                f"narrow the selections so they do not overlap",
            )
    problems.raise_if_any()

    # resolved market of each entity, in the order tables, then sorted groups
    resolved = np.full(n, "", dtype=object)
    origin: dict[str, tuple[str, str | None]] = {}
    for m, cfg in scn.markets.items():
        mask = member[m]
        if cfg.split_by is None:
            origin[m] = (m, None)
            resolved[mask] = m
            continue
        groups = ent[cfg.split_by].astype(str).to_numpy()
        for g in sorted(set(groups[mask])):
            name = f"{m}{SPLIT_SEP}{g}"
            origin[name] = (m, g)
            resolved[mask & (groups == g)] = name
    covered = resolved != ""
    idx = np.flatnonzero(covered)
    ids = ent.index[covered]
    new_ent = ent.iloc[idx].copy()
    new_ent["dataset_market"] = new_ent["market"]
    new_ent["market"] = resolved[covered].astype(str)
    keep_ids = set(ids)
    shares = _split_shares(scn, ds, new_ent, origin, base_of)
    new_ds = dataclasses.replace(
        ds,
        entities=new_ent,
        bau=ds.bau[ds.bau["entity_id"].isin(keep_ids)],
        mac=ds.mac[ds.mac["entity_id"].isin(keep_ids)],
        history=None if ds.history is None else ds.history[ds.history["entity_id"].isin(keep_ids)],
        offsets=_offsets(ds, origin, shares),
    )
    unc = ent.iloc[np.flatnonzero(~covered)]
    b = ds.bau[ds.bau["entity_id"].isin(set(unc.index)) & ds.bau["year"].isin(scn.years)]
    unc_bau = (
        b.pivot(index="entity_id", columns="year", values="bau_emissions_t")
        .reindex(index=unc.index, columns=scn.years)
        .to_numpy(dtype=float)
    )
    return Scope(
        source=scn,
        scenario=_expanded(scn, origin, shares),
        dataset=new_ds,
        all_entities=ent,
        entity_index=idx,
        uncovered=unc,
        uncovered_bau_t=np.nan_to_num(unc_bau),
        origin=origin,
        input=ds,
        shares=shares,
    )


def _base_t(scn: Scenario, ds: Dataset, m: str, cfg: MarketConfig, mask: np.ndarray) -> pd.Series:
    """Base-year emissions (t/yr) of the entities in ``mask`` under market ``m``'s base_year rule,
    indexed like ``ds.entities`` (NaN outside ``mask``)."""
    cand = ds.entities[mask].copy()
    cand["market"] = m
    one = scn.model_copy(update={"markets": {m: cfg}})
    base, _ = base_emissions(one, dataclasses.replace(ds, entities=cand))
    return base.reindex(ds.entities.index)


def _split_shares(
    scn: Scenario,
    ds: Dataset,
    covered: pd.DataFrame,
    origin: dict[str, tuple[str, str | None]],
    base_of: dict[str, pd.Series],
) -> dict[str, float]:
    """Split market -> its share of its table's base-year emissions (the table's base_year rule)."""
    out: dict[str, float] = {}
    for t in dict.fromkeys(tt for tt, g in origin.values() if g is not None):
        names = [name for name, (tt, _) in origin.items() if tt == t]
        ents = covered[covered["market"].isin(names)]
        base_t = base_of.get(t)
        if base_t is None:
            base_t = _base_t(scn, ds, t, scn.markets[t], ds.entities.index.isin(ents.index))
        base = base_t.reindex(ents.index).to_numpy(dtype=float)
        weight = pd.Series(base, index=ents["market"].to_numpy()).groupby(level=0).sum()
        weight = weight / weight.sum()
        out.update({name: float(weight.get(name, 0.0)) for name in names})
    return out


def _offsets(ds: Dataset, origin: dict[str, tuple[str, str | None]], shares: dict[str, float]) -> pd.DataFrame | None:
    """offsets.csv rows by resolved market (module doc: a split table's supply is shared in
    proportion to its markets' base-year emissions, ``shares``)."""
    off = ds.offsets
    if off is None:
        return None
    parts = [off[off["market"].isin([t for t, g in origin.values() if g is None])]]
    for t in dict.fromkeys(tt for tt, g in origin.values() if g is not None):
        rows = off[off["market"] == t]
        if rows.empty:
            continue
        for name in (name for name, (tt, _) in origin.items() if tt == t):
            part = rows.copy()
            part["market"] = name
            part["quantity_t"] = part["quantity_t"].to_numpy(dtype=float) * shares.get(name, 0.0)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)
