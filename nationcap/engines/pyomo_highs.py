"""The reference engine: the LP of :mod:`nationcap.model` in Pyomo, solved by HiGHS (every rule).

The formulation is the scenario's ``[solver] formulation``: ``"sifting"`` (the default: the
compact LP by column generation, :mod:`.sifting`), ``"compact"`` or ``"full"``. HiGHS is driven by
:mod:`.highs`.

Holding a model (``PyomoHighsEngine(hold=True)``)
    A cap sweep over compliance factors (or top-level multipliers) changes nothing in the LP but
    the right-hand sides of its balance rows: the market rows of the compact formulation (and of
    sifting), ``(sum of BAU - free allocation - fixed abatement) / scale_t``, or the entity rows
    of the full one, ``(period BAU - free allocation) / scale_t``. An engine that holds its model
    builds it once, with those right-hand sides as mutable Pyomo Params, keeps a persistent HiGHS
    (:func:`.highs.persistent_solver`), and for each later model data:

    1. checks that it is an in-place variant of the model held: the same dataset object, a
       scenario that differs only in the allocation keys, and every active program rule declaring
       that its parameters do not depend on the allocation
       (:func:`nationcap.model.variants.in_place_reason`, an allow-list);
    2. updates the Params and re-solves with the dual simplex, which HiGHS hot-starts from the
       basis of the previous solve, and certifies the result by its duality gap recomputed from
       the LP's own arrays (:mod:`.certify`: a primal-feasible point whose objective equals the
       dual bound of its duals is optimal, so a cold solve could not do better); a warm solution
       that fails is solved again cold (basis cleared, the scenario's own HiGHS options);
    3. for a sifting model, certifies the solution against every column again
       (:func:`.sifting.uncertified`); if a column prices out, or the held columns cannot meet
       the new caps, sifts afresh;
    4. returns a SolveResult like any solve (``info["reused_model"]`` says which way it went).

    Any other model data is solved by building a new model, which the engine then holds instead.
    Results agree with a fresh run to the solver's tolerance, not necessarily to the last bit;
    where a price is not unique both report the same interval and its lower end as the price
    (:mod:`.intervals`), and tied steps may be split differently among entities.

The engine neither checks support nor diagnoses feasibility before it solves: the session does
both once per variant (:mod:`nationcap.session`). It diagnoses an infeasible outcome of HiGHS
(:func:`.highs.solve_model`) to name the market and period.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..errors import ModelError
from ..model import build_model
from ..model.core.compliance import rhs_values
from ..model.core.market import compact_rhs_values
from ..model.data import ModelData
from ..model.registry import FULL, Registry
from ..model.variants import in_place_reason, structure_key
from .base import Phase, SolveResult
from .certify import certify, lp_arrays
from .highs import add_intervals, new_solver, persistent_solver, solve_model
from .sifting import sift, sifting_intervals, uncertified


class PyomoHighsEngine:
    """Builds the Pyomo model of each ModelData and solves it with HiGHS; with ``hold``, keeps the
    model and re-solves allocation variants in place (module doc)."""

    name = "pyomo"

    def __init__(self, log_file: str | None = None, hold: bool = False):
        self.log_file = log_file
        self.hold = hold
        self.model: Any = None  # the held pyomo ConcreteModel
        self.md: ModelData | None = None  # the model data it was built for
        self.key: str | None = None  # structure_key of its scenario
        self.opt: Any = None  # its persistent HiGHS solver
        self.builds = 0
        self.solves = 0

    def supports(self, md: ModelData) -> list[str]:
        return []  # the reference implements every rule

    def accepts(self, md: ModelData) -> bool:
        """Whether ``md`` can be re-solved in place of the model held."""
        return (
            self.hold
            and self.md is not None
            and md.dataset is self.md.dataset
            and structure_key(md.scenario) == self.key
            and in_place_reason(md.scenario) is None
        )

    def solve(self, md: ModelData, on_phase: Phase | None = None) -> SolveResult:
        """Solve ``md``; ``on_phase("solve")`` is called when the model is built and HiGHS starts."""
        formulation = md.scenario.solver.formulation
        t = time.perf_counter()
        if self.accepts(md):
            sr = self._resolve(md, formulation, t, on_phase)
            if sr is not None:
                self.solves += 1
                sr.info["reused_model"] = 1
                return sr
        sr = self._build_and_solve(md, formulation, t, on_phase)
        self.solves += 1
        if self.hold:
            sr.info["reused_model"] = 0
        return sr

    def _build_and_solve(
        self, md: ModelData, formulation: str, t: float, on_phase: Callable[[str], None] | None
    ) -> SolveResult:
        factory = persistent_solver if self.hold else new_solver
        if formulation == "sifting":
            sr, model, opt = sift(md, self.log_file, md.scenario.solver.sifting_band, on_phase, opt_factory=factory)
            self.builds += int(sr.info["rounds"])
        else:
            model = build_model(md, formulation)
            self.builds += 1
            opt = factory()
            build_s = time.perf_counter() - t
            if on_phase is not None:
                on_phase("solve")
            t = time.perf_counter()
            sr = solve_model(model, md, log_file=self.log_file, opt=opt)
            add_intervals(model, md, opt, sr)
            sr.timings = {"build": build_s, "solve": time.perf_counter() - t}
            sr.info["formulation"] = formulation
        if self.hold:
            self.model, self.opt, self.md, self.key = model, opt, md, structure_key(md.scenario)
        return sr

    def _resolve(
        self, md: ModelData, formulation: str, t: float, on_phase: Callable[[str], None] | None
    ) -> SolveResult | None:
        """Re-solve the held model with the new allocations (dual simplex from the last basis),
        certified by its duality gap or else solved cold (module doc, step 2); for a sifting model
        re-certify every column and return None when one prices out (the caller then sifts
        afresh)."""
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
        if on_phase is not None:
            on_phase("solve")
        t = time.perf_counter()
        try:
            sr = solve_model(self.model, md, log_file=self.log_file, opt=self.opt, extra_options={"solver": "simplex"})
        except ModelError:
            if reg.columns is None:
                raise
            return None  # the held columns cannot meet the new caps: sift afresh
        cert = certify(lp_arrays(self.opt._solver_model))
        if not cert.passed:  # "optimal" at a worse point than a cold solve reaches: solve cold
            self.opt._solver_model.clearSolver()
            sr = solve_model(self.model, md, log_file=self.log_file, opt=self.opt)
        sr.info["warm_gap"] = cert.gap
        sr.info["cold_resolve"] = int(not cert.passed)
        if reg.columns is not None and uncertified(md, reg, sr.duals).any():
            return None  # the held columns no longer contain the optimum's marginal ones
        if reg.columns is not None:
            sifting_intervals(md, self.model, self.opt, sr, self.log_file)
        else:
            add_intervals(self.model, md, self.opt, sr)
        sr.timings = {"build": build_s, "solve": time.perf_counter() - t}
        sr.info["formulation"] = formulation
        return sr
