"""Results (layer 6): SolveResult -> xarray Dataset, prices from duals, reading and writing, IAMC.

- :mod:`.build`   :func:`~.build.build_results`, the results Dataset of one run
- :mod:`.prices`  the only place where duals become prices
- :mod:`.io`      the one atomic writer, netCDF encoding and results reader; batch members
- :mod:`.iamc`    the IAMC export
"""
