"""Pure functions of validated tables and a scenario: allocation, coverage, Monte Carlo draws.

Layer 3: imports :mod:`nationcap.config` and :mod:`nationcap.inputs` only.
"""
