"""nationcap: a least-cost model of a nationwide two-tier cap-and-trade system for Japan.

The pipeline is: dataset folder -> validated tables (:mod:`nationcap.data`) and a typed
scenario (:mod:`nationcap.config`) -> Pyomo model (:mod:`nationcap.model`) -> HiGHS solve
(:mod:`nationcap.solve`) -> results Dataset (:mod:`nationcap.results`) -> writers
(:mod:`nationcap.writers`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nationcap")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
