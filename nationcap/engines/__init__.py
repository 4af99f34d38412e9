"""Engines behind one protocol (layer 6: imports the model and everything below it).

- :mod:`.base`         :class:`SolveResult`, :class:`Engine`, :class:`Status`
- :mod:`.feasibility`  the pre-solve diagnosis of caps that no abatement can meet
- :mod:`.pyomo_highs`  the LP in Pyomo, solved by HiGHS (every rule; the reference), optionally
                       holding its model between solves (``hold=True``)
- :mod:`.highs`        the HiGHS driver of the Pyomo engine
- :mod:`.sifting`      its default formulation: column generation over the abatement columns
- :mod:`.intervals`    the Pyomo engine's price intervals (least and greatest optimal market duals)
- :mod:`.merit_order`  the exact merit-order engine (caps, banking, borrowing, full links)
- :mod:`.foresight`    rolling-horizon foresight: any engine, window by window

:data:`ENGINES` is the registry: every engine once, under its own name, with the modules a
worker process should import before its first member (so that a batch on the merit-order
engine never loads Pyomo). Importing this package does not import Pyomo: an engine's module is
loaded when the engine is made.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from .base import Engine, SolveResult, Status, UnsupportedError, require_support


@dataclass(frozen=True)
class EngineEntry:
    """One engine of the registry."""

    name: str  #: its name in ``[solver] engine`` and ``--engine``
    target: str  #: "module:class" inside this package
    description: str
    #: modules a worker imports before its first member (the engine's own and its solver stack)
    preload: tuple[str, ...]
    #: options its constructor takes besides ``log_file``
    options: tuple[str, ...] = ()


#: engine name (one of nationcap.config.ENGINE_NAMES, the names a scenario may give) -> entry
ENGINES: dict[str, EngineEntry] = {
    "pyomo": EngineEntry(
        "pyomo",
        "pyomo_highs:PyomoHighsEngine",
        "the LP in Pyomo solved by HiGHS: every rule, the reference",
        preload=("pyomo.environ", "nationcap.model.build", "nationcap.engines.pyomo_highs"),
        options=("hold",),
    ),
    "fast": EngineEntry(
        "fast",
        "merit_order:MeritOrderEngine",
        "the exact merit-order engine: caps, banking, borrowing, full links",
        preload=("nationcap.engines.merit_order",),
        options=("cost_groups",),
    ),
}

__all__ = [
    "ENGINES",
    "Engine",
    "EngineEntry",
    "SolveResult",
    "Status",
    "UnsupportedError",
    "engine_names",
    "get_engine",
    "require_support",
]


def engine_names() -> tuple[str, ...]:
    return tuple(ENGINES)


def get_engine(name: str, log_file: str | None = None, **options: Any) -> Engine:
    """A new engine by name (``pyomo`` or ``fast``); ``options`` the engine does not take (its
    entry's ``options``) are dropped, so a caller can ask every engine for what it would like
    (``hold=True``: keep a model between solves; ``cost_groups``: the merit order's hint)."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
    entry = ENGINES[name]
    module, cls = entry.target.split(":")
    kwargs = {k: v for k, v in options.items() if k in entry.options}
    engine: Engine = getattr(importlib.import_module(f"{__name__}.{module}"), cls)(log_file=log_file, **kwargs)
    return engine
