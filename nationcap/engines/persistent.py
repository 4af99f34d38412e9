"""Persistent re-solves: one held Pyomo model, many variants that change only allocations.

A cap sweep over compliance factors (or top-level multipliers) changes nothing in the LP but the
right-hand sides of its balance rows: the market rows of the compact formulation (and of
sifting), ``(sum of BAU - free allocation - fixed abatement) / scale_t``, or the entity rows of
the full one, ``(period BAU - free allocation) / scale_t``. :class:`PersistentHighsEngine` builds
the model once, with those right-hand sides as mutable Pyomo Params, keeps Pyomo's persistent
HiGHS interface, and for each variant:

1. takes the variant's :class:`~nationcap.model.data.ModelData` and checks that everything but
   the allocations is unchanged (same dataset object, same configuration but for the
   allocation keys);
2. updates the Params and re-solves with the dual simplex, which HiGHS hot-starts from the basis
   of the previous solve (re-solves pass on parameter changes only: no rescans of constraints,
   variables or the objective);
3. for a sifting model, certifies the solution against every column again
   (:func:`nationcap.engines.pyomo_highs.uncertified`); if a column prices out, or the held
   columns cannot meet the new caps, sifts afresh;
4. returns a SolveResult like any engine, so the pipeline builds the same results as a fresh run.

Results agree with a fresh run to the solver's tolerance, not necessarily to the last bit; where
a price is not unique (a requirement exactly on a step boundary) both report the same interval
(:mod:`nationcap.engines.intervals`) and its lower end as the price, though the duals found may
be different points of it; tied steps may be split differently among entities.

A variant that changes anything else (BAU, MAC steps, periods, banking, offsets whose limits
depend on the factor, external links or limited links whose limits depend on the cap, auctions
whose volume depends on the allocation) is not eligible: :func:`eligible` says why (the engine's
``supports``), and a variant of another structure is solved by building a new model, which the
engine then holds instead.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from ..config import Scenario
from ..errors import ModelError
from ..model import build_model
from ..model.core.compliance import rhs_values
from ..model.core.market import compact_rhs_values
from ..model.data import ModelData
from ..model.registry import FULL, Registry
from .base import SolveResult, require_support
from .feasibility import check_feasible
from .pyomo_highs import add_intervals, sift, sifting_intervals, solve_model, uncertified

#: scenario keys (per market) whose change only moves compliance right-hand sides
RHS_ONLY_MARKET_KEYS = ("compliance_factor", "top_level_multiplier")


def structure_key(scn: Scenario) -> str:
    """Hash of the resolved configuration without the allocation-only keys and the name."""
    d = scn.resolved()
    d.pop("name", None)
    d.pop("description", None)
    for mkt in d["markets"].values():
        for k in RHS_ONLY_MARKET_KEYS:
            mkt.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def eligible(scn: Scenario) -> str | None:
    """None if variants of ``scn`` can be re-solved in place, else the reason they cannot."""
    if scn.link.mode == "limited":
        return "a limited link (its limits depend on the caps)"
    for name, mc in scn.markets.items():
        if mc.external is not None:
            return f"markets.{name}.external (its limit depends on the cap)"
        if mc.auction_share:
            return f"markets.{name}.auction_share (the auctioned volume depends on the allocation)"
        if mc.use_offsets and any(r.limit_basis == "required_reduction" for r in mc.offsets.values()):
            return f"markets.{name}.offsets limits based on the required reduction (they depend on the factor)"
    return None


class PersistentHighsEngine:
    """The Pyomo engine with a memory: one built model and its persistent HiGHS instance."""

    name = "pyomo"

    def __init__(self, log_file: str | None = None):
        self.log_file = log_file
        self.model: Any = None  # a pyomo ConcreteModel
        self.md: ModelData | None = None
        self.key: str | None = None
        self.opt: Any = None  # its persistent Highs solver
        self.builds = 0
        self.solves = 0
        #: called with "solve" when the model is ready and HiGHS starts (set by nationcap.pipeline)
        self.on_phase: Callable[[str], None] | None = None

    def supports(self, md: ModelData) -> list[str]:
        why = eligible(md.scenario)
        return [f"{why}: cannot be re-solved in place"] if why else []

    def accepts(self, md: ModelData) -> bool:
        """Whether ``md`` is an allocation-only variant of the model held."""
        return (
            self.md is not None
            and not self.supports(md)
            and md.dataset is self.md.dataset
            and structure_key(md.scenario) == self.key
        )

    def solve(self, md: ModelData) -> SolveResult:
        require_support(self, md)
        check_feasible(md)
        formulation = md.scenario.solver.formulation
        t = time.perf_counter()
        if self.accepts(md):
            sr = self._resolve(md, formulation, t)
            if sr is not None:
                self.solves += 1
                sr.info["reused_model"] = 1
                return sr
        sr = self._build_and_solve(md, formulation, t)
        self.solves += 1
        sr.info["reused_model"] = 0
        return sr

    def _persistent(self) -> Any:
        """A persistent HiGHS whose re-solves pass on parameter changes only (no rescans of
        constraints, variables or the objective: only right-hand sides change)."""
        from pyomo.contrib.solver.solvers.highs import Highs

        opt = Highs()
        au = opt.config.auto_updates
        for flag in (
            "check_for_new_or_removed_constraints",
            "check_for_new_or_removed_vars",
            "check_for_new_or_removed_params",
            "check_for_new_objective",
            "update_constraints",
            "update_vars",
            "update_named_expressions",
            "update_objective",
        ):
            setattr(au, flag, False)
        au.update_parameters = True
        return opt

    def _build_and_solve(self, md: ModelData, formulation: str, t: float) -> SolveResult:
        self.md, self.key = md, structure_key(md.scenario)
        if formulation == "sifting":
            sr, self.model, self.opt = sift(
                md, self.log_file, md.scenario.solver.sifting_band, self.on_phase, opt_factory=self._persistent
            )
            self.builds += int(sr.info["rounds"])
            return sr
        self.model = build_model(md, formulation)
        self.builds += 1
        self.opt = self._persistent()
        build_s = time.perf_counter() - t
        if self.on_phase is not None:
            self.on_phase("solve")
        t = time.perf_counter()
        sr = solve_model(self.model, md, log_file=self.log_file, opt=self.opt)
        add_intervals(self.model, md, self.opt, sr)
        sr.timings = {"build": build_s, "solve": time.perf_counter() - t}
        sr.info["formulation"] = formulation
        return sr

    def _resolve(self, md: ModelData, formulation: str, t: float) -> SolveResult | None:
        """Re-solve the held model with the new allocations (dual simplex from the last basis);
        for a sifting model re-certify every column and return None when one prices out (the
        caller then sifts afresh)."""
        reg: Registry = self.model.registry
        if reg.formulation == FULL:
            param, rhs = self.model.ComplianceRHS, rhs_values(md)
            for k, v in enumerate(rhs.tolist()):
                param[k] = v
        else:
            n_p = len(md.periods)
            rhs = compact_rhs_values(md, reg.fixed_t, reg.pool_constant)
            for (a, p), v in self.model.MarketRHS.items():
                v.value = float(rhs[a * n_p + p])
        build_s = time.perf_counter() - t
        if self.on_phase is not None:
            self.on_phase("solve")
        t = time.perf_counter()
        try:
            sr = solve_model(self.model, md, log_file=self.log_file, opt=self.opt, extra_options={"solver": "simplex"})
        except ModelError:
            if reg.columns is None:
                raise
            return None  # the held columns cannot meet the new caps: sift afresh
        if reg.columns is not None and uncertified(md, reg, sr.duals).any():
            return None  # the held columns no longer contain the optimum's marginal ones
        if reg.columns is not None:
            sifting_intervals(md, self.model, self.opt, sr, self.log_file)
        else:
            add_intervals(self.model, md, self.opt, sr)
        sr.timings = {"build": build_s, "solve": time.perf_counter() - t}
        sr.info["formulation"] = formulation
        return sr
