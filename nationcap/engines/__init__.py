"""Engines behind one protocol (layer 5: imports the model and everything below it).

- :mod:`.base`         :class:`SolveResult`, :class:`Engine`, :class:`Status`
- :mod:`.feasibility`  the pre-solve diagnosis of caps that no abatement can meet
- :mod:`.pyomo_highs`  the LP in Pyomo, solved by HiGHS (every rule; the reference)
- :mod:`.persistent`   the same, held in memory and re-solved for allocation-only variants
- :mod:`.intervals`    the Pyomo engines' price intervals (least and greatest optimal market duals)
- :mod:`.merit_order`  the exact merit-order engine (caps, banking, borrowing, full links)

Importing this package does not import Pyomo: the Pyomo engines load it when they are made.
"""

from __future__ import annotations

from .base import Engine, SolveResult, Status, UnsupportedError, require_support

#: engine name (one of nationcap.config.ENGINE_NAMES, the names a scenario may give) ->
#: "module:class", made on demand so that choosing the merit-order engine never loads Pyomo
_ENGINES = {
    "pyomo": "pyomo_highs:PyomoHighsEngine",
    "fast": "merit_order:MeritOrderEngine",
}

__all__ = ["Engine", "SolveResult", "Status", "UnsupportedError", "engine_names", "get_engine", "require_support"]


def engine_names() -> tuple[str, ...]:
    return tuple(_ENGINES)


def get_engine(name: str, **options) -> Engine:
    """A new engine by name (``pyomo`` or ``fast``)."""
    import importlib

    if name not in _ENGINES:
        raise ValueError(f"unknown engine {name!r}; use one of {', '.join(_ENGINES)}")
    module, cls = _ENGINES[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)(**options)
