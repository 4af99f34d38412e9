"""nationcap: a least-cost model of a nationwide two-tier cap-and-trade system for Japan.

The pipeline (:mod:`nationcap.pipeline`) is: dataset folder -> validated tables
(:mod:`nationcap.inputs`) and a typed scenario (:mod:`nationcap.config`) -> ModelData
(:mod:`nationcap.model`) -> an engine (:mod:`nationcap.engines`) -> SolveResult -> results Dataset
(:mod:`nationcap.results.build`) -> writers (:mod:`nationcap.results.io`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nationcap")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
