"""nationcap: a least-cost model of a nationwide two-tier cap-and-trade system for Japan.

The pipeline (:mod:`nationcap.pipeline`) is: dataset folder -> validated tables
(:mod:`nationcap.inputs`) and a typed scenario (:mod:`nationcap.config`) -> ModelData
(:mod:`nationcap.model`) -> an engine (:mod:`nationcap.engines`) -> SolveResult -> results Dataset
(:mod:`nationcap.results.build`) -> writers (:mod:`nationcap.results.io`).

``nationcap.__version__`` is looked up when first asked for (importing the package imports
nothing, so that the command's first step, :mod:`nationcap.__main__`, runs at once).
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("nationcap")
        except PackageNotFoundError:  # running from a source tree that is not installed
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
