"""ModelData and the formulation (layer 5: imports config, inputs and derive).

- :mod:`.data`     :class:`ModelData`, the arrays every engine solves
- :mod:`.prepare`  validated tables + scenario -> ModelData (core, then each rule's slice)
- :mod:`.core`     the core formulation; :mod:`.rules` one module per program rule
- :mod:`.build`    the Pyomo model (Pyomo is imported only there, when a model is built)
"""

from .data import ModelData
from .prepare import prepare

__all__ = ["ModelData", "build_model", "prepare"]


def build_model(md: ModelData, formulation: str = "full", columns=None, fixed_t=None):  # noqa: ANN001, ANN201
    """Build the Pyomo model of ``md`` (see :mod:`nationcap.model.build`)."""
    from .build import build_model as _build

    return _build(md, formulation, columns, fixed_t)
