"""Certifying a warm-started HiGHS solution by its duality gap, recomputed from the LP itself.

A warm re-solve of a held model (:mod:`.pyomo_highs`, ``hold``) starts the dual simplex from the
previous basis. HiGHS has open reports of warm-started solves that end "optimal" at a worse
objective than a cold solve reaches (ERGO-Code/HiGHS issue 3194,
https://github.com/ERGO-Code/HiGHS/issues/3194), so nationcap does not take the status on trust.

The check (weak duality). For ``min c'x + offset`` subject to ``rl <= Ax <= ru`` and
``l <= x <= u``, take HiGHS's primal ``x`` and row duals ``y`` and recompute, from the LP's own
arrays (not from HiGHS's reported infeasibilities or objective):

- the primal infeasibility of ``x``: how far ``Ax`` and ``x`` lie outside their bounds;
- the reduced costs ``d = c - A'y`` and the dual objective
  ``offset + sum_i y_i * (rl_i if y_i > 0 else ru_i) + sum_j d_j * (l_j if d_j > 0 else u_j)``,
  which is a lower bound on every feasible objective whenever no multiplier sits on an infinite
  bound (HiGHS's sign convention for a minimisation: ``y_i > 0`` at a row's lower bound);
- the gap between ``c'x + offset`` and that bound.

A feasible ``x`` whose objective equals a lower bound is optimal: so a solution passes when its
primal infeasibility and its relative gap are within :data:`PRIMAL_TOL` and :data:`GAP_TOL`, and
then a cold solve cannot reach a better objective (beyond that tolerance). It costs two sparse
products over the model's nonzeros. A solution that fails is re-solved cold by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: largest relative gap (|primal - dual objective| / max(1, |primal objective|)) accepted
GAP_TOL = 1e-7
#: largest primal infeasibility accepted, relative to max(1, largest finite bound)
PRIMAL_TOL = 1e-7
#: multipliers smaller than this (relative to max(1, largest cost)) count as zero
DUAL_ZERO = 1e-9


@dataclass
class Certificate:
    """The outcome of :func:`certify`."""

    primal_objective: float
    dual_objective: float
    gap: float  #: relative
    primal_infeasibility: float  #: relative
    passed: bool


def lp_arrays(highs: Any) -> dict[str, np.ndarray | float]:
    """The LP and the current solution of a ``highspy.Highs`` as numpy arrays."""
    import highspy

    lp = highs.getLp()
    sol = highs.getSolution()
    a = lp.a_matrix_
    start = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    outer = np.repeat(np.arange(len(start) - 1), np.diff(start))
    colwise = a.format_ == highspy.MatrixFormat.kColwise
    if lp.sense_ != highspy.ObjSense.kMinimize:
        raise ValueError("certify: only minimisation models are supported")
    return {
        "cost": np.asarray(lp.col_cost_, dtype=float),
        "col_lower": np.asarray(lp.col_lower_, dtype=float),
        "col_upper": np.asarray(lp.col_upper_, dtype=float),
        "row_lower": np.asarray(lp.row_lower_, dtype=float),
        "row_upper": np.asarray(lp.row_upper_, dtype=float),
        "a_col": outer if colwise else index,
        "a_row": index if colwise else outer,
        "a_value": np.asarray(a.value_, dtype=float),
        "offset": float(lp.offset_),
        "x": np.asarray(sol.col_value, dtype=float),
        "y": np.asarray(sol.row_dual, dtype=float),
    }


def certify(arrays: dict[str, Any]) -> Certificate:
    """The weak-duality check of the module doc on the arrays of :func:`lp_arrays`."""
    c, x, y = arrays["cost"], arrays["x"], arrays["y"]
    lo, up, rl, ru = arrays["col_lower"], arrays["col_upper"], arrays["row_lower"], arrays["row_upper"]
    rows, cols, val = arrays["a_row"], arrays["a_col"], arrays["a_value"]
    n, m = len(c), len(rl)
    ax = np.bincount(rows, weights=val * x[cols], minlength=m)
    finite = np.concatenate([b[np.isfinite(b)] for b in (lo, up, rl, ru)])
    scale_p = max(1.0, float(np.abs(finite).max(initial=0.0)))
    infeas = max(
        float(np.maximum(rl - ax, 0.0).max(initial=0.0)),
        float(np.maximum(ax - ru, 0.0).max(initial=0.0)),
        float(np.maximum(lo - x, 0.0).max(initial=0.0)),
        float(np.maximum(x - up, 0.0).max(initial=0.0)),
    )
    d = c - np.bincount(cols, weights=val * y[rows], minlength=n)
    zero = DUAL_ZERO * max(1.0, float(np.abs(c).max(initial=0.0)))
    dual = arrays["offset"]
    dual_ok = True
    for mult, low, high in ((y, rl, ru), (d, lo, up)):
        at = np.where(mult > zero, low, np.where(mult < -zero, high, 0.0))
        if not np.isfinite(at).all():  # a multiplier on an infinite bound: no valid lower bound
            dual_ok = False
            break
        dual += float(np.dot(mult, at))
    primal = float(np.dot(c, x)) + arrays["offset"]
    gap = abs(primal - dual) / max(1.0, abs(primal)) if dual_ok else np.inf
    rel_infeas = infeas / scale_p
    return Certificate(
        primal, dual if dual_ok else -np.inf, gap, rel_infeas, gap <= GAP_TOL and rel_infeas <= PRIMAL_TOL
    )
