"""Pure functions of validated tables and a scenario: allocation, coverage, Monte Carlo draws.

Layer 4: imports :mod:`nationcap.config` and :mod:`nationcap.inputs` only. Modules: ``scope``
(market selections and splits, resolved against a dataset), ``allocation``, ``coverage``, ``draws``.
"""
