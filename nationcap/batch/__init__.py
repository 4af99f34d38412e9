"""Batch runs (layer 10, beside report/): cap sweeps and Monte Carlo draws.

- :mod:`.plan`       members, cache keys and jobs
- :mod:`.worker`     solve one member (through :mod:`nationcap.pipeline`)
- :mod:`.executors`  in-process, local process pool, Dask
- :mod:`.store`      the batch folder: cache, combining, combined outputs; :func:`run_batch`, and
                     :func:`run_paired` (two designs' Monte Carlo batches on the same draws, solved together)
- :mod:`.summaries`  the market-year table, sweep and Monte Carlo summaries
"""
