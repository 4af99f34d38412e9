"""Persistent re-solves: one built Pyomo model, many variants that change only allocations.

A cap sweep over compliance factors (or top-level multipliers) changes nothing in the LP but
the right-hand sides of the compliance rows, ``(period BAU - free allocation) / scale_t``. A
:class:`PersistentModel` builds the model once, with those right-hand sides as mutable Pyomo
Params, keeps Pyomo's persistent HiGHS interface, and for each variant:

1. prepares the variant's :class:`~nationcap.model.inputs.ModelData` (cheap) and checks that
   everything but the allocations is unchanged (same columns, bounds, costs, rules);
2. updates the Params and re-solves with the dual simplex, which HiGHS hot-starts from the basis
   of the previous solve (the first solve is IPX with crossover, as in :func:`nationcap.solve.solve`);
3. builds the same results Dataset as a fresh run.

Pyomo's auto-updates are narrowed to parameters for re-solves (no rescans of constraints, variables
or the objective), as measured in ``shared/reference/solver_performance.md`` §A2.

Results agree with a fresh run to the solver's tolerance, not necessarily to the last bit, and
where a price is not unique (a requirement exactly on a step boundary) the two solves may report
different ends of the valid interval. That is why batch runs reuse models only with ``--reuse``.

A variant that changes anything else (BAU, MAC steps, periods, banking, offsets whose limits
depend on the factor, external links or limited links whose limits depend on the cap, auctions)
is not eligible: :meth:`PersistentModel.accepts` says so and the caller builds a fresh model.
"""

from __future__ import annotations

import hashlib
import json
import time

import xarray as xr

from .config import Scenario
from .data import Dataset, load_dataset
from .errors import ModelError

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
        if mc.use_offsets and any(r.limit_basis == "required_reduction" for r in mc.offsets.values()):
            return f"markets.{name}.offsets limits based on the required reduction (they depend on the factor)"
    return None


class PersistentModel:
    """A built model and its persistent HiGHS instance, re-solved for allocation variants."""

    def __init__(self, scn: Scenario, ds: Dataset | None = None, log_file: str | None = None):
        from pyomo.contrib.solver.solvers.highs import Highs

        from .model import build_model, prepare
        from .model.market import check_feasible
        from .solve import solve

        why = eligible(scn)
        if why:
            raise ModelError(f"scenario {scn.name!r} cannot be re-solved in place: {why}")
        self.dataset = ds if ds is not None else load_dataset(scn.inputs_path, scn)
        self.key = structure_key(scn)
        t = time.perf_counter()
        self.md = prepare(scn, self.dataset)
        check_feasible(self.md)
        self.model = build_model(self.md)
        self.build_s = time.perf_counter() - t
        self.opt = Highs()
        self.solves = 0
        self.first = solve(self.model, self.md, log_file=log_file, opt=self.opt)
        self.solves = 1
        au = self.opt.config.auto_updates
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

    def accepts(self, scn: Scenario) -> bool:
        return (
            eligible(scn) is None and structure_key(scn) == self.key and scn.inputs_path == self.md.scenario.inputs_path
        )

    def result(self, scn: Scenario | None = None, log_file: str | None = None) -> xr.Dataset:
        """Results of ``scn`` (default: the scenario the model was built for)."""
        from .model import prepare
        from .model.compliance import rhs_values
        from .model.market import check_feasible
        from .results import build_results
        from .solve import solve

        t0 = time.perf_counter()
        if scn is None or (scn.resolved_json() == self.md.scenario.resolved_json() and self.solves == 1):
            md, sr = self.md, self.first
        else:
            if not self.accepts(scn):
                raise ModelError(f"scenario {scn.name!r} changes more than allocations; build a new model")
            md = prepare(scn, self.dataset)
            check_feasible(md)
            rhs = rhs_values(md)
            param = self.model.ComplianceRHS
            for k, v in enumerate(rhs.tolist()):
                param[k] = v
            sr = solve(self.model, md, log_file=log_file, opt=self.opt, extra_options={"solver": "simplex"})
            self.solves += 1
        timings = {"build": self.build_s if self.solves == 1 else 0.0, "solve": sr.solve_time_s}
        res = build_results(md, sr, timings)
        res.attrs["reused_model"] = int(self.solves > 1)
        res.attrs["wall_time_s"] = time.perf_counter() - t0
        return res


#: one cached model per process (batch workers keep theirs between members)
_CACHE: dict[str, PersistentModel] = {}


def solve_reusing(scn: Scenario, log_file: str | None = None) -> xr.Dataset:
    """Results of ``scn``, re-solving this process's cached model when only allocations differ."""
    if eligible(scn) is not None:
        from .run import run_scenario

        return run_scenario(scn, log_file=log_file)
    key = structure_key(scn) + str(scn.inputs_path)
    pm = _CACHE.get(key)
    if pm is None:
        _CACHE.clear()  # one model per process: bounded memory
        pm = PersistentModel(scn, log_file=log_file)
        _CACHE[key] = pm
        return pm.result()
    return pm.result(scn, log_file=log_file)
