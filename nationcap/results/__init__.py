"""Results (layer 7): SolveResult -> xarray Dataset, prices from duals, reading and writing, IAMC.

- :mod:`.build`   :func:`~.build.build_results`, the results Dataset of one run
- :mod:`.prices`  the only place where duals become prices
- :mod:`.io`      the one atomic writer, netCDF encoding and results reader; batch members;
                  the naming scheme of CSV columns (:func:`~.io.column_name`)
- :mod:`.conventions`  the netCDF conventions (long_name, units, money, Conventions)
- :mod:`.mac`     the merit-order curves stored with the results (what the MAC plot draws)
- :mod:`.iamc`    the IAMC export
"""
